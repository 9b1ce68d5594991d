# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Normalizer of the ``tecrax.ntp_server_observation`` 1.0 facts contract.

The NTP server side of a host: which NTP daemon runs (chrony or ntpd), its stratum, leap
status, offset, root delay and root dispersion, and whether it serves NTP. Peer identities
never reach the facts: no reference ID, refid, server name or address is kept (only the
kind of reference chrony tracks).

Serving means the daemon runs and an unconnected UDP socket is bound to port 123
(/proc/net/udp and /proc/net/udp6). chronyd opens that port only when an ``allow`` directive
admits clients, so a chrony client-only host is ``not_serving``; ntpd always opens it.
chrony's ``serverstats`` counters (NTP packets received / dropped) are reported as evidence
of client traffic; they do not decide.

Assessment: ``healthy`` = an NTP daemon runs, is synchronized (leap status not "not
synchronised"), has a stratum of 1..15 and serves; ``unhealthy`` = no NTP daemon runs, or it
is not synchronized, out of stratum range or not serving (every reason that applies is
listed); ``degraded`` = healthy but more than one NTP daemon runs; ``unknown`` = the daemon
runs but its status or the sockets could not be read; ``unavailable`` = the unit states
could not be read. A server whose only reference is its own clock (chrony ``local``) can be
healthy: ``reference_kind`` says so.

Pure and total: any input gives schema-valid facts. ``collect_server_observation`` makes the
raw observations on the managed host (here rather than in the module, so that one module can
make several observations: monitoring_host_local).
"""

from __future__ import annotations

from typing import Any, Mapping

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import CommandRunner
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import (
    UNKNOWN,
    build_facts,
)
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.time_sync import (
    MAX_STRATUM,
    SYNCHRONIZED_LEAP,
    first_active_daemon,
    observe,
    observe_daemon_units,
    parse_chrony_serverstats,
    parse_chrony_tracking,
    parse_ntpq_variables,
    parse_udp_listening,
)
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.time_sync_collect import (
    chrony_serverstats,
    chrony_tracking,
    collect_unit_states,
    ntpq_variables,
    read_udp_sockets,
)

CONTRACT_ID = "tecrax.ntp_server_observation"
DAEMONS = ("chrony", "ntpd")

NON_CLAIMS = (
    "keeps no peer identity: no reference ID, refid, server name or address",
    "does not prove that clients can reach the server (firewalls, routing)",
    "does not check which clients the access rules admit",
    "does not judge the offset or the accuracy of the upstream source against a threshold",
    "values are a point-in-time sample",
)


def server_daemon(units: object) -> str | None:
    """The running NTP daemon the module collects status from (chrony before ntpd)."""
    return first_active_daemon(units, DAEMONS)


def collect_server_observation(commands: CommandRunner) -> dict[str, Any]:
    """The raw input of ``normalize_ntp_server_observation``, read on this host: the NTP
    daemons' unit states and the port-123 sockets, then the running daemon's status only."""
    units = collect_unit_states(commands, DAEMONS)
    raw = {"units": units, "udp_sockets": read_udp_sockets()}
    daemon = server_daemon(units)
    if daemon == "chrony":
        raw["chrony_tracking"] = chrony_tracking(commands)
        raw["chrony_serverstats"] = chrony_serverstats(commands)
    elif daemon == "ntpd":
        raw["ntpq"] = ntpq_variables(commands)
    return raw


def normalize_ntp_server_observation(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``tecrax.ntp_server_observation`` facts for raw observations.

    ``raw`` keys (command results ``{"rc", "output"}``, see ``time_sync``): ``units`` (unit
    name -> ``systemctl show`` result), ``udp_sockets`` (/proc/net/udp and udp6 text), and
    for the running daemon either ``chrony_tracking`` and ``chrony_serverstats`` or ``ntpq``.
    """
    source: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    daemons, blockers = observe_daemon_units(source.get("units"), DAEMONS)
    requested = ["unit_states", "udp_sockets"]
    observed = [] if blockers else ["unit_states"]

    listening, udp_blocker = observe(source.get("udp_sockets"), "udp_sockets", parse_udp_listening)
    if udp_blocker:
        blockers.append(udp_blocker)
    else:
        observed.append("udp_sockets")

    active = [daemon for daemon in DAEMONS if daemons[daemon]["active"]]
    daemon = active[0] if active else None
    status: Mapping[str, Any] | None = None
    counters: Mapping[str, Any] | None = None
    if daemon == "chrony":
        requested += ["chrony_tracking", "chrony_serverstats"]
        status, status_blocker = observe(source.get("chrony_tracking"), "chrony_tracking", parse_chrony_tracking)
        counters, counters_blocker = observe(
            source.get("chrony_serverstats"), "chrony_serverstats", parse_chrony_serverstats)
        for name, problem in (("chrony_tracking", status_blocker), ("chrony_serverstats", counters_blocker)):
            if problem:
                blockers.append(problem)
            else:
                observed.append(name)
    elif daemon == "ntpd":
        requested.append("ntpq_system_variables")
        status, status_blocker = observe(source.get("ntpq"), "ntpq_system_variables", parse_ntpq_variables)
        if status_blocker:
            blockers.append(status_blocker)
        else:
            observed.append("ntpq_system_variables")

    serving = _serving(daemon, listening, counters)
    assessment, reasons = _assess(daemons, active, status, serving["state"])
    if not observed:  # fragments without one whole observation: no verdict
        assessment = "unavailable"
    if daemon is not None:
        ntp_daemon = daemon
    elif any(daemons[name]["active"] is None for name in DAEMONS):
        ntp_daemon = UNKNOWN
    else:
        ntp_daemon = "none"
    payload = {
        "ntp_daemon": ntp_daemon,
        "active_daemons": active,
        "daemons": daemons,
        **_time_fields(daemon, status),
        "serving": serving,
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


def _time_fields(daemon: str | None, status: Mapping[str, Any] | None) -> dict[str, Any]:
    if status is None:
        return {
            "stratum": None,
            "leap_status": UNKNOWN,
            "reference_kind": "none" if daemon is None else UNKNOWN,
            "offset_seconds": None,
            "root_delay_seconds": None,
            "root_dispersion_seconds": None,
        }
    if daemon == "chrony":
        reference = status["reference_kind"]
    else:  # ntpd: its refid is not requested, so only "none" is known, when unsynchronized
        synchronized = status["leap_status"] in SYNCHRONIZED_LEAP and 1 <= status["stratum"] < MAX_STRATUM
        reference = UNKNOWN if synchronized else "none"
    return {
        "stratum": status["stratum"],
        "leap_status": status["leap_status"],
        "reference_kind": reference,
        "offset_seconds": status["offset_seconds"],
        "root_delay_seconds": status["root_delay_seconds"],
        "root_dispersion_seconds": status["root_dispersion_seconds"],
    }


def _serving(daemon: str | None, listening: bool | None,
             counters: Mapping[str, Any] | None) -> dict[str, Any]:
    if daemon is None or listening is False:
        state = "not_serving"
    elif listening is None:
        state = UNKNOWN
    else:
        state = "serving"
    return {
        "state": state,
        "udp_123_listening": listening,
        "ntp_packets_received": counters["ntp_packets_received"] if counters else None,
        "ntp_packets_dropped": counters["ntp_packets_dropped"] if counters else None,
    }


def _assess(daemons: Mapping[str, Any], active: list[str], status: Mapping[str, Any] | None,
            serving: str) -> tuple[str, list[str]]:
    if not active:
        unread = [daemon for daemon in DAEMONS if daemons[daemon]["active"] is None]
        if len(unread) == len(DAEMONS):
            return "unavailable", ["ntp_daemon_states_unobserved"]
        if unread:
            return "unknown", ["ntp_daemon_states_unobserved"]
        return "unhealthy", ["no_ntp_daemon_active"]
    problems: list[str] = []
    unobserved: list[str] = []
    if status is None:
        unobserved.append("server_status_unobserved")
    else:
        if status["leap_status"] not in SYNCHRONIZED_LEAP:
            problems.append("not_synchronized")
        if not 1 <= status["stratum"] < MAX_STRATUM:
            problems.append("stratum_out_of_range")
    if serving == "not_serving":
        problems.append("not_serving")
    elif serving == UNKNOWN:
        unobserved.append("serving_state_unobserved")
    reasons = (["multiple_ntp_daemons_active"] if len(active) > 1 else []) + problems + unobserved
    if problems:
        return "unhealthy", reasons
    if unobserved:
        return "unknown", reasons
    return ("degraded" if reasons else "healthy"), reasons
