# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Normalizer of the ``tecrax.ntp_local_health`` 1.0 facts contract.

Which time daemon is in charge of the host's clock and whether it has the clock
synchronized. Each daemon is judged by its own status, because the kernel flag that
``timedatectl`` reports (``NTPSynchronized``) can stay ``no`` while chronyd tracks a source
(``chronyd -x``, or a daemon that may not set the clock):

* chrony: ``chronyc -n tracking``; synchronized when the leap status is not
  "Not synchronised" and a reference is selected.
* ntpd (ntpsec or classic): ``ntpq -c 'rv 0 ...'``; synchronized when the leap indicator is
  not 11 and the stratum is 1..15.
* systemd-timesyncd: the kernel flag from ``timedatectl show`` (timesyncd sets the clock
  itself, so the flag is its verdict), with the leap indicator of its last NTP answer
  from ``timedatectl show-timesync --all``.

Assessment: ``healthy`` = one daemon runs and has the clock synchronized to an NTP source
or reference clock; ``degraded`` = synchronized, but only to the host's own clock (chrony
``local``) or with more than one time daemon running; ``unhealthy`` = no time daemon runs,
or the one in charge is not synchronized; ``unknown`` = the daemon in charge runs but its
status could not be read; ``unavailable`` = the unit states could not be read.

Pure and total: any input gives schema-valid facts. ``collect_local_health`` makes the raw
observations on the managed host (see ``run_host_module`` for why here).
"""

from __future__ import annotations

from typing import Any, Mapping

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import CommandRunner
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import UNKNOWN
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.time_sync import (
    SYNCHRONIZED_LEAP,
    DaemonObservations,
    DaemonStatus,
    parse_timedatectl_show,
    parse_timesync_show,
)
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.time_sync_collect import (
    CHRONY_TRACKING,
    NTPQ_SYSTEM_VARIABLES,
    collect_daemons,
    timedatectl_show,
    timesync_status,
)

CONTRACT_ID = "tecrax.ntp_local_health"
# Preference order when more than one daemon runs.
DAEMONS = ("chrony", "ntpd", "systemd_timesyncd")
# Daemon -> its own status, the one observation that decides (made for the daemon in charge).
STATUS = {
    "chrony": (CHRONY_TRACKING,),
    "ntpd": (NTPQ_SYSTEM_VARIABLES,),
    "systemd_timesyncd": (DaemonStatus("timesyncd_status", "timesync", timesync_status, parse_timesync_show),),
}

NON_CLAIMS = (
    "does not identify the time source: no server names, addresses or reference IDs are kept",
    "does not judge the offset or the accuracy of the time source against a threshold",
    "does not check the time daemon configuration or whether it serves other hosts",
    "chrony and ntpd are judged by their own status, not by the kernel flag timedatectl shows",
    "values are a point-in-time sample",
)


def collect_local_health(commands: CommandRunner) -> dict[str, Any]:
    """The raw input of ``normalize_ntp_local_health``, read on this host: every daemon's unit
    state and ``timedatectl show``, then the status of the daemon in charge only."""
    return collect_daemons(commands, DAEMONS, {"timedatectl": timedatectl_show}, STATUS)


def normalize_ntp_local_health(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``tecrax.ntp_local_health`` facts for raw observations.

    ``raw`` keys (command results ``{"rc", "output"}``, see ``time_sync``): ``units``
    (unit name -> ``systemctl show`` result), ``timedatectl`` (``timedatectl show``), and
    the status of the daemon in charge: ``chrony_tracking``, ``ntpq`` or ``timesync``.
    """
    seen = DaemonObservations(raw if isinstance(raw, Mapping) else {}, DAEMONS)
    clock = seen.read("timedatectl", "timedatectl", parse_timedatectl_show)
    status = next(iter(seen.read_status(STATUS).values()), None)
    synchronization = _synchronization(seen.in_charge, status, clock)
    assessment, reasons = _assess(seen, synchronization)
    payload = {
        "kernel_clock": clock or dict.fromkeys(("ntp_enabled", "ntp_synchronized", "can_ntp")),
        "synchronization": synchronization,
    }
    return seen.facts(CONTRACT_ID, "time_daemon", assessment, reasons, NON_CLAIMS, payload)


def _synchronization(in_charge: str | None, status: Mapping[str, Any] | None,
                     clock: Mapping[str, Any] | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "basis": "none",
        "synchronized": None,
        "leap_status": UNKNOWN,
        "reference_kind": UNKNOWN,
        "stratum": None,
        "offset_seconds": None,
    }
    if in_charge == "systemd_timesyncd":
        result["basis"] = "timedatectl"
        result["synchronized"] = clock["ntp_synchronized"] if clock else None
        if status:
            result["leap_status"] = status["leap_status"]
            result["reference_kind"] = status["reference_kind"]
        return result
    if in_charge is None:
        result["reference_kind"] = "none"
        return result
    if status is None:
        result["basis"] = {"chrony": "chronyc_tracking", "ntpd": "ntpq"}[in_charge]
        return result
    leap_ok = status["leap_status"] in SYNCHRONIZED_LEAP
    if in_charge == "chrony":
        result["basis"] = "chronyc_tracking"
        result["reference_kind"] = status["reference_kind"]
        synchronized = leap_ok and status["reference_kind"] != "none"
    else:
        result["basis"] = "ntpq"
        # ntpd's refid is not kept, so the reference is only known to be a selected one.
        synchronized = leap_ok and 1 <= status["stratum"] <= 15
        result["reference_kind"] = UNKNOWN if synchronized else "none"
    result.update(
        synchronized=synchronized,
        leap_status=status["leap_status"],
        stratum=status["stratum"],
        offset_seconds=status["offset_seconds"],
    )
    return result


def _assess(seen: DaemonObservations, synchronization: Mapping[str, Any]) -> tuple[str, list[str]]:
    idle = seen.verdict_without_daemon("time_daemon_states_unobserved", "no_time_daemon_active")
    if idle:
        return idle
    reasons = ["multiple_time_daemons_active"] if len(seen.active) > 1 else []
    synchronized = synchronization["synchronized"]
    if synchronized is None:
        return "unknown", reasons + ["synchronization_unobserved"]
    if not synchronized:
        return "unhealthy", reasons + ["clock_not_synchronized"]
    if synchronization["reference_kind"] == "local_clock":
        reasons.append("synchronized_to_local_clock_only")
    return ("degraded" if reasons else "healthy"), reasons
