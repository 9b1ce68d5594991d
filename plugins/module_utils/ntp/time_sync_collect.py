# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Running the fixed, read-only observations of the NTP modules on the managed host.

Every function takes the module's :class:`CommandRunner` and returns command results in the
shape ``time_sync`` parses: ``{"rc": int | None, "output": bytes}``, ``rc`` ``None`` when
the program is not installed. Commands run without a shell, in the C locale, within the
module's budget; a non-zero exit is a result, never a module failure (a command the budget
ends raises ``CommandTimedOut``).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import CommandRunner
from ansible_collections.tecrax.ops.plugins.module_utils.common.socket_table import UDP_TABLES, local_port
from ansible_collections.tecrax.ops.plugins.module_utils.common.systemd_show import show_args
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.time_sync import (
    DAEMON_UNITS,
    UNIT_PROPERTIES,
    DaemonStatus,
    StatusTable,
    first_active_daemon,
    parse_chrony_tracking,
    parse_ntpq_variables,
)

MAX_SOCKET_LINES = 64
NTP_PORT = 123
NTPQ_VARIABLES = "rv 0 stratum,offset,rootdelay,rootdisp,leap"


def run(commands: CommandRunner, program: str, args: list[str]) -> dict[str, Any]:
    """Run ``program args`` (looked up on PATH and the sbin directories)."""
    binary = commands.find(program)
    if not binary:
        return {"rc": None, "output": ""}
    ended = commands.run([binary] + args)
    return {"rc": ended.rc, "output": ended.stdout}


def chrony_tracking(commands: CommandRunner) -> dict[str, Any]:
    return run(commands, "chronyc", ["-n", "tracking"])


def chrony_serverstats(commands: CommandRunner) -> dict[str, Any]:
    return run(commands, "chronyc", ["-n", "serverstats"])


def ntpq_variables(commands: CommandRunner) -> dict[str, Any]:
    # ntpq waits for its own timeout when no ntpd answers: only asked when ntpd runs.
    return run(commands, "ntpq", ["-n", "-c", NTPQ_VARIABLES])


# The daemon status observations both NTP normalizers make.
CHRONY_TRACKING = DaemonStatus("chrony_tracking", "chrony_tracking", chrony_tracking, parse_chrony_tracking)
NTPQ_SYSTEM_VARIABLES = DaemonStatus("ntpq_system_variables", "ntpq", ntpq_variables, parse_ntpq_variables)


def timedatectl_show(commands: CommandRunner) -> dict[str, Any]:
    return run(commands, "timedatectl", ["show"])


def timesync_status(commands: CommandRunner) -> dict[str, Any]:
    return run(commands, "timedatectl", ["show-timesync", "--all"])


def collect_unit_states(commands: CommandRunner, daemons: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """``systemctl show`` of every candidate unit of ``daemons``, one call per unit (so an
    alias such as chronyd.service answers for itself)."""
    return {
        unit: run(commands, "systemctl", show_args([unit], UNIT_PROPERTIES))
        for daemon in daemons
        for unit in DAEMON_UNITS[daemon]
    }


def collect_daemons(commands: CommandRunner, daemons: tuple[str, ...],
                    always: Mapping[str, Callable[[CommandRunner], dict[str, Any]]],
                    status: StatusTable) -> dict[str, Any]:
    """The raw input of an NTP normalizer: ``units`` (every daemon's unit states), then each
    of ``always`` (raw key -> what reads it), then the status commands ``status`` names for
    the running daemon that comes first (only that daemon's)."""
    units = collect_unit_states(commands, daemons)
    raw: dict[str, Any] = {"units": units}
    raw.update((key, read(commands)) for key, read in always.items())
    for wanted in status.get(first_active_daemon(units, daemons) or "", ()):
        raw[wanted.key] = wanted.command(commands)
    return raw


def read_udp_sockets() -> dict[str, Any]:
    """The header lines and the port-123 lines of /proc/net/udp and /proc/net/udp6.

    The tables list every UDP socket of the host and can be long; only the lines the
    normalizer looks at are kept, so the 64 KiB input bound never hides the NTP socket.
    """
    kept: list[str] = []
    readable = False
    for path in UDP_TABLES:
        try:
            with open(path, "r", encoding="ascii", errors="replace") as table:
                readable = True
                for number, line in enumerate(table):
                    words = line.split(None, 2)
                    is_ntp = len(words) > 1 and local_port(words[1]) == NTP_PORT
                    if (number == 0 or is_ntp) and len(kept) < MAX_SOCKET_LINES:
                        kept.append(line.rstrip("\n"))
        except OSError:
            continue
    if not readable:
        return {"rc": 1, "output": ""}
    return {"rc": 0, "output": "\n".join(kept) + "\n"}
