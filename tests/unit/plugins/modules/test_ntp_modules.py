"""The tecrax.ops.ntp_health and tecrax.ops.ntp_server_health modules, run in-process.

This machine runs no systemd and no time daemon, so outputs recorded on lab hosts
(tests/unit/data/ntp) answer through the command runner; the tests check which fixed commands
each module runs in each state, and the facts it returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils import basic

from ansible_collections.tecrax.ops.plugins.module_utils.ntp import time_sync_collect
from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import CommandResult, CommandRunner
from ansible_collections.tecrax.ops.plugins.modules import ntp_health, ntp_server_health
from unit.recorded_commands import exited
from unit import module_runner

DATA = Path(__file__).resolve().parents[2] / "data" / "ntp"
UNITS = ("chrony.service", "chronyd.service", "ntpsec.service", "ntp.service", "ntpd.service",
         "systemd-timesyncd.service")
SHOW = ["show", "--no-pager", "--property=LoadState,ActiveState,SubState,UnitFileState"]
NTPQ = ["/usr/bin/ntpq", "-n", "-c", "rv 0 stratum,offset,rootdelay,rootdisp,leap"]
# argv after the program -> recorded file
FILES = {
    ("timedatectl", "show"): "timedatectl_show",
    ("timedatectl", "show-timesync", "--all"): "timesync_show",
    ("chronyc", "-n", "tracking"): "chronyc_tracking",
    ("chronyc", "-n", "serverstats"): "chronyc_serverstats",
    ("ntpq", "-n", "-c", "rv 0 stratum,offset,rootdelay,rootdisp,leap"): "ntpq_rv",
}


class RecordedHost:
    """Answers the command runner from one recorded state; records every argv."""

    def __init__(self, state: str, missing: tuple[str, ...] = ()) -> None:
        self.directory = DATA / state
        self.missing = missing
        self.calls: list[list[str]] = []
        self.options: list[dict[str, Any]] = []

    def get_bin_path(self, name: str, *args: Any, **kwargs: Any) -> str | None:
        return None if name in self.missing else "/usr/bin/" + name

    def run(self, args: list[str], **kwargs: Any) -> CommandResult:
        self.calls.append(list(args))
        self.options.append(kwargs)
        program = Path(args[0]).name
        if program == "systemctl":
            name = "unit." + args[-1]
        else:
            name = FILES[(program, *args[1:])]
        path = self.directory / name
        rc_file = self.directory / (name + ".rc")
        rc = int(rc_file.read_text()) if rc_file.exists() else 0
        return exited(rc, path.read_bytes())


def run_module(module: Any, capsys: pytest.CaptureFixture[str], args: dict[str, Any] | None = None
               ) -> tuple[int, dict[str, Any]]:
    return module_runner.run_module(module.main, capsys, args)[:2]


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> RecordedHost:
    state, *missing = request.param
    recorded = RecordedHost(state, tuple(missing))
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: recorded.get_bin_path(name))
    monkeypatch.setattr(CommandRunner, "run", lambda self, args, **k: recorded.run(args, **k))
    return recorded


def unit_calls(units: tuple[str, ...] = UNITS) -> list[list[str]]:
    return [["/usr/bin/systemctl", *SHOW, unit] for unit in units]


@pytest.mark.parametrize(
    ("host", "status_calls", "state"),
    [
        (("chrony-client-synchronized",), [["/usr/bin/chronyc", "-n", "tracking"]], "healthy"),
        (("chrony-server-local-stratum",), [["/usr/bin/chronyc", "-n", "tracking"]], "degraded"),
        # timesyncd is asked only when it runs: asking it otherwise would start it over D-Bus.
        (("timesyncd-active",), [["/usr/bin/timedatectl", "show-timesync", "--all"]], "unhealthy"),
        (("ntpsec-synchronized",), [NTPQ], "healthy"),
        # Nothing runs: no daemon is asked (ntpq would wait for its timeout).
        (("chrony-masked",), [], "unhealthy"),
        (("timesyncd-stopped",), [], "unhealthy"),
    ],
    indirect=["host"],
)
@pytest.mark.parametrize("check_mode", [False, True])
def test_ntp_health_runs_fixed_commands(capsys: pytest.CaptureFixture[str], facts_schema_errors: Any,
                                        host: RecordedHost, status_calls: list[list[str]], state: str,
                                        check_mode: bool) -> None:
    code, result = run_module(ntp_health, capsys, {"_ansible_check_mode": check_mode})
    assert code == 0 and result["changed"] is False and "failed" not in result
    assert host.calls == unit_calls() + [["/usr/bin/timedatectl", "show"]] + status_calls
    assert host.options == [{}] * len(host.calls)  # the runner's own C locale, nothing else
    assert result["facts"]["assessment"]["state"] == state
    assert facts_schema_errors(result["facts"], "ntp_local_health.v1.schema.json") == []


@pytest.mark.parametrize("host", [("chrony-client-synchronized", "chronyc")], indirect=True)
def test_ntp_health_without_chronyc(capsys: pytest.CaptureFixture[str], host: RecordedHost) -> None:
    code, result = run_module(ntp_health, capsys)
    assert code == 0
    assert result["facts"]["coverage"] == {"state": "partial", "blockers": ["chrony_tracking_not_installed"]}
    assert result["facts"]["assessment"] == {"state": "unknown", "reasons": ["synchronization_unobserved"]}


@pytest.mark.parametrize("host", [("chrony-client-synchronized", "systemctl", "timedatectl", "chronyc")],
                         indirect=True)
def test_ntp_health_without_any_program_is_unavailable(capsys: pytest.CaptureFixture[str],
                                                       host: RecordedHost) -> None:
    code, result = run_module(ntp_health, capsys)
    assert code == 0 and host.calls == []
    assert result["facts"]["coverage"]["state"] == "blocked"
    assert result["facts"]["assessment"] == {"state": "unavailable", "reasons": ["time_daemon_states_unobserved"]}


@pytest.mark.parametrize("module", [ntp_health, ntp_server_health])
def test_modules_refuse_options(capsys: pytest.CaptureFixture[str], module: Any) -> None:
    code, result = run_module(module, capsys, {"command": "date"})
    assert code == 1 and result["failed"] is True
    assert "command" in result["msg"]


@pytest.fixture
def udp_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    table = tmp_path / "udp"
    monkeypatch.setattr(time_sync_collect, "UDP_TABLES", (str(table), str(tmp_path / "absent-udp6")))
    return table


@pytest.mark.parametrize(
    ("host", "status_calls", "assessment", "serving"),
    [
        (("chrony-server-local-stratum",),
         [["/usr/bin/chronyc", "-n", "tracking"], ["/usr/bin/chronyc", "-n", "serverstats"]],
         {"state": "healthy"}, "serving"),
        (("chrony-client-synchronized",),
         [["/usr/bin/chronyc", "-n", "tracking"], ["/usr/bin/chronyc", "-n", "serverstats"]],
         {"state": "unhealthy", "reasons": ["not_serving"]}, "not_serving"),
        (("ntpsec-synchronized",), [NTPQ], {"state": "healthy"}, "serving"),
        (("timesyncd-active",), [], {"state": "unhealthy", "reasons": ["no_ntp_daemon_active"]}, "not_serving"),
    ],
    indirect=["host"],
)
def test_ntp_server_health_runs_fixed_commands(capsys: pytest.CaptureFixture[str], facts_schema_errors: Any,
                                               host: RecordedHost, udp_tables: Path,
                                               status_calls: list[list[str]], assessment: dict[str, Any],
                                               serving: str) -> None:
    udp_tables.write_bytes((host.directory / "proc_net_udp").read_bytes())
    code, result = run_module(ntp_server_health, capsys, {"_ansible_check_mode": True})
    assert code == 0 and result["changed"] is False
    assert host.calls == unit_calls(UNITS[:5]) + status_calls
    facts = result["facts"]
    assert facts["assessment"] == assessment
    assert facts["serving"]["state"] == serving
    assert facts_schema_errors(facts, "ntp_server_observation.v1.schema.json") == []


def test_socket_tables_keep_the_ntp_line_of_a_long_table(udp_tables: Path) -> None:
    header = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    filler = "".join(f"{n:5d}: 0100007F:{1024 + n:04X} 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1\n"
                     for n in range(20000))
    udp_tables.write_text(header + filler + "20001: 00000000:007B 00000000:0000 07 00000000:00000000 0 0 0 0 0 9\n")
    result = time_sync_collect.read_udp_sockets()
    assert result["rc"] == 0
    assert result["output"].splitlines() == [
        header.rstrip("\n"), "20001: 00000000:007B 00000000:0000 07 00000000:00000000 0 0 0 0 0 9"]


def test_unreadable_socket_tables(udp_tables: Path) -> None:
    assert time_sync_collect.read_udp_sockets() == {"rc": 1, "output": ""}
