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
raw observations on the managed host (see ``run_host_module`` for why here).
"""

from __future__ import annotations

from typing import Any, Mapping

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import CommandRunner
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import UNKNOWN
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.time_sync import (
    MAX_STRATUM,
    SYNCHRONIZED_LEAP,
    DaemonObservations,
    DaemonStatus,
    parse_chrony_serverstats,
    parse_udp_listening,
)
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.time_sync_collect import (
    CHRONY_TRACKING,
    NTPQ_SYSTEM_VARIABLES,
    chrony_serverstats,
    collect_daemons,
    read_udp_sockets,
)

CONTRACT_ID = "tecrax.ntp_server_observation"
DAEMONS = ("chrony", "ntpd")
# Daemon -> the observations of its status (made for the running daemon only).
STATUS = {
    "chrony": (CHRONY_TRACKING,
               DaemonStatus("chrony_serverstats", "chrony_serverstats", chrony_serverstats, parse_chrony_serverstats)),
    "ntpd": (NTPQ_SYSTEM_VARIABLES,),
}

NON_CLAIMS = (
    "keeps no peer identity: no reference ID, refid, server name or address",
    "does not prove that clients can reach the server (firewalls, routing)",
    "does not check which clients the access rules admit",
    "does not judge the offset or the accuracy of the upstream source against a threshold",
    "values are a point-in-time sample",
)


def collect_server_observation(commands: CommandRunner) -> dict[str, Any]:
    """The raw input of ``normalize_ntp_server_observation``, read on this host: the NTP
    daemons' unit states and the port-123 sockets, then the running daemon's status only."""
    return collect_daemons(commands, DAEMONS, {"udp_sockets": lambda _commands: read_udp_sockets()}, STATUS)


def normalize_ntp_server_observation(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``tecrax.ntp_server_observation`` facts for raw observations.

    ``raw`` keys (command results ``{"rc", "output"}``, see ``time_sync``): ``units`` (unit
    name -> ``systemctl show`` result), ``udp_sockets`` (/proc/net/udp and udp6 text), and
    for the running daemon either ``chrony_tracking`` and ``chrony_serverstats`` or ``ntpq``.
    """
    seen = DaemonObservations(raw if isinstance(raw, Mapping) else {}, DAEMONS)
    listening = seen.read("udp_sockets", "udp_sockets", parse_udp_listening)
    daemon = seen.in_charge
    read = seen.read_status(STATUS)
    status = read.get("chrony_tracking", read.get("ntpq_system_variables"))
    counters = read.get("chrony_serverstats")
    serving = _serving(daemon, listening, counters)
    assessment, reasons = _assess(seen, status, serving["state"])
    payload = {**_time_fields(daemon, status), "serving": serving}
    return seen.facts(CONTRACT_ID, "ntp_daemon", assessment, reasons, NON_CLAIMS, payload)


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


def _assess(seen: DaemonObservations, status: Mapping[str, Any] | None, serving: str) -> tuple[str, list[str]]:
    idle = seen.verdict_without_daemon("ntp_daemon_states_unobserved", "no_ntp_daemon_active")
    if idle:
        return idle
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
    reasons = (["multiple_ntp_daemons_active"] if len(seen.active) > 1 else []) + problems + unobserved
    if problems:
        return "unhealthy", reasons
    if unobserved:
        return "unknown", reasons
    return ("degraded" if reasons else "healthy"), reasons
