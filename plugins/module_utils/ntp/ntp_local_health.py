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

Pure and total: any input gives schema-valid facts. ``collect_local_health`` makes the raw observations on
the managed host (here rather than in the module, so that one module can make several
observations: monitoring_host_local).
"""

from __future__ import annotations

from typing import Any, Mapping

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import CommandRunner
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import (
    UNKNOWN,
    build_facts,
)
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.time_sync import (
    SYNCHRONIZED_LEAP,
    first_active_daemon,
    observe,
    observe_daemon_units,
    parse_chrony_tracking,
    parse_ntpq_variables,
    parse_timedatectl_show,
    parse_timesync_show,
)
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.time_sync_collect import (
    chrony_tracking,
    collect_unit_states,
    ntpq_variables,
    run,
)

CONTRACT_ID = "tecrax.ntp_local_health"
# Preference order when more than one daemon runs.
DAEMONS = ("chrony", "ntpd", "systemd_timesyncd")
# Daemon -> (observation name, raw key) of its own status.
STATUS_OBSERVATIONS = {
    "chrony": ("chrony_tracking", "chrony_tracking"),
    "ntpd": ("ntpq_system_variables", "ntpq"),
    "systemd_timesyncd": ("timesyncd_status", "timesync"),
}

NON_CLAIMS = (
    "does not identify the time source: no server names, addresses or reference IDs are kept",
    "does not judge the offset or the accuracy of the time source against a threshold",
    "does not check the time daemon configuration or whether it serves other hosts",
    "chrony and ntpd are judged by their own status, not by the kernel flag timedatectl shows",
    "values are a point-in-time sample",
)


def daemon_in_charge(units: object) -> str | None:
    """The running daemon whose status decides (used by the module before collecting it)."""
    return first_active_daemon(units, DAEMONS)


def collect_local_health(commands: CommandRunner) -> dict[str, Any]:
    """The raw input of ``normalize_ntp_local_health``, read on this host: every daemon's unit
    state and ``timedatectl show``, then the status of the daemon in charge only."""
    units = collect_unit_states(commands, DAEMONS)
    raw = {"units": units, "timedatectl": run(commands, "timedatectl", ["show"])}
    daemon = daemon_in_charge(units)
    if daemon == "chrony":
        raw["chrony_tracking"] = chrony_tracking(commands)
    elif daemon == "ntpd":
        raw["ntpq"] = ntpq_variables(commands)
    elif daemon == "systemd_timesyncd":
        raw["timesync"] = run(commands, "timedatectl", ["show-timesync", "--all"])
    return raw


def normalize_ntp_local_health(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``tecrax.ntp_local_health`` facts for raw observations.

    ``raw`` keys (command results ``{"rc", "output"}``, see ``time_sync``): ``units``
    (unit name -> ``systemctl show`` result), ``timedatectl`` (``timedatectl show``), and
    the status of the daemon in charge: ``chrony_tracking``, ``ntpq`` or ``timesync``.
    """
    source: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    daemons, blockers = observe_daemon_units(source.get("units"), DAEMONS)
    requested = ["unit_states", "timedatectl"]
    observed = [] if blockers else ["unit_states"]

    clock, clock_blocker = observe(source.get("timedatectl"), "timedatectl", parse_timedatectl_show)
    if clock_blocker:
        blockers.append(clock_blocker)
    else:
        observed.append("timedatectl")

    active = [daemon for daemon in DAEMONS if daemons[daemon]["active"]]
    in_charge = active[0] if active else None
    status = None
    if in_charge is not None:
        observation, key = STATUS_OBSERVATIONS[in_charge]
        parser = {
            "chrony": parse_chrony_tracking,
            "ntpd": parse_ntpq_variables,
            "systemd_timesyncd": parse_timesync_show,
        }[in_charge]
        requested.append(observation)
        status, status_blocker = observe(source.get(key), observation, parser)
        if status_blocker:
            blockers.append(status_blocker)
        else:
            observed.append(observation)

    synchronization = _synchronization(in_charge, status, clock)
    assessment, reasons = _assess(daemons, active, synchronization)
    if not observed:  # fragments without one whole observation: no verdict
        assessment = "unavailable"
    if in_charge is not None:
        time_daemon = in_charge
    elif any(daemons[daemon]["active"] is None for daemon in DAEMONS):
        time_daemon = UNKNOWN
    else:
        time_daemon = "none"
    payload = {
        "time_daemon": time_daemon,
        "active_daemons": active,
        "daemons": daemons,
        "kernel_clock": clock or dict.fromkeys(("ntp_enabled", "ntp_synchronized", "can_ntp")),
        "synchronization": synchronization,
    }
    return build_facts(
        CONTRACT_ID,
        requested=requested,
        observed=observed,
        blockers=blockers,
        assessment=assessment,
        reasons=reasons,
        non_claims=NON_CLAIMS,
        payload=payload,
    )


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


def _assess(daemons: Mapping[str, Any], active: list[str],
            synchronization: Mapping[str, Any]) -> tuple[str, list[str]]:
    reasons = ["multiple_time_daemons_active"] if len(active) > 1 else []
    if not active:
        unread = [daemon for daemon in DAEMONS if daemons[daemon]["active"] is None]
        if len(unread) == len(DAEMONS):
            return "unavailable", ["time_daemon_states_unobserved"]
        if unread:
            return "unknown", ["time_daemon_states_unobserved"]
        return "unhealthy", ["no_time_daemon_active"]
    synchronized = synchronization["synchronized"]
    if synchronized is None:
        return "unknown", reasons + ["synchronization_unobserved"]
    if not synchronized:
        return "unhealthy", reasons + ["clock_not_synchronized"]
    if synchronization["reference_kind"] == "local_clock":
        reasons.append("synchronized_to_local_clock_only")
    return ("degraded" if reasons else "healthy"), reasons
