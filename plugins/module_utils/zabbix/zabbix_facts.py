# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Facts of the three read-only Zabbix API observations.

Each ``observe_*`` function runs a fixed sequence of JSON-RPC calls through ``call`` and
turns the answers into one facts object. ``call(method, params, request_id, auth_method,
max_bytes)`` is supplied by the module: it sends the request (placing the API token as
``auth_method`` says, or not at all when it is None) and returns an ``Exchange``. The
credential never reaches this code, so no facts can contain it.

The functions are total: whatever the exchanges hold (nothing, HTML, hostile JSON) the result
is a valid facts object. A sequence stops at its first failure, so a rejected token is used
once and not once per severity.

``unavailable`` vs ``unhealthy``: the reachability check is ``unavailable`` when no HTTP
answer came back (connection, timeout, TLS) and ``unhealthy`` when something answered but not
with a usable ``apiinfo.version`` result. The two summaries are collections: ``unavailable``
whenever nothing could be counted (including a rejected token), ``unknown`` when only part
was, ``healthy`` when every count was made.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import (
    MAX_SAFE_INT,
    UNKNOWN,
    bounded_text,
    build_facts,
    collection_assessment,
)
from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_api import (
    API_VERSION_UNRECOGNIZED,
    API_VERSION_UNSUPPORTED,
    MAX_LISTED_HOSTS,
    MAX_LISTING_RESPONSE_BYTES,
    MAX_SMALL_RESPONSE_BYTES,
    RESULT_UNPARSED,
    Exchange,
    RpcOutcome,
    agent_availability,
    auth_method_for,
    classify,
    count_result,
    parse_version,
)

REACHABILITY_CONTRACT = "tecrax.zabbix_api_reachability"
PROBLEM_SUMMARY_CONTRACT = "tecrax.zabbix_problem_summary"
HOST_AVAILABILITY_CONTRACT = "tecrax.zabbix_host_availability_summary"

# Zabbix trigger severities 0..5, by the names the frontend shows.
SEVERITIES = ("not_classified", "information", "warning", "average", "high", "disaster")

Call = Callable[[str, Any, int, Optional[str], int], Exchange]

REACHABILITY_NON_CLAIMS = (
    "Proves only that the Zabbix JSON-RPC API answered apiinfo.version",
    "Not a check of the Zabbix server daemon, pollers, database or container",
    "Unauthenticated: says nothing about API tokens, users or permissions",
    "Reads no monitoring data (problems, hosts, items)",
)
PROBLEM_NON_CLAIMS = (
    "Counts open trigger problems visible to the API token's user, not internal or discovery events",
    "Includes acknowledged and suppressed problems; no problem names, hosts or tags are kept",
    "Says nothing about the health of the monitored hosts beyond these counts",
    "Counts are taken one severity at a time and are not one atomic snapshot",
)
HOST_NON_CLAIMS = (
    "Counts hosts visible to the API token's user; templates and host prototypes are not hosts",
    "Agent availability is the main Zabbix agent interface of enabled hosts only",
    "Not SNMP, IPMI or JMX availability, and not active agent checks",
    "Keeps no host names, addresses or error messages",
)


def _transport(scheme: str, answered: bool) -> Dict[str, Any]:
    scheme = scheme if scheme in ("http", "https") else UNKNOWN
    return {"scheme": scheme, "tls_verified": scheme == "https" and answered}


def _version_step(call: Call) -> Tuple[RpcOutcome, Optional[Tuple[int, int, int]], str]:
    """Ask for the API version (never with a credential); return the outcome, the parsed
    version and its text ("unknown" when unusable)."""
    outcome = classify(call("apiinfo.version", [], 1, None, MAX_SMALL_RESPONSE_BYTES), 1)
    if outcome.failure is not None:
        return outcome, None, UNKNOWN
    version = parse_version(outcome.result)
    if version is None:
        return RpcOutcome(API_VERSION_UNRECOGNIZED, http_status=outcome.http_status), None, UNKNOWN
    return outcome, version, bounded_text(outcome.result, 32)


def observe_reachability(call: Call, scheme: str) -> Dict[str, Any]:
    """``apiinfo.version`` without authentication: contract tecrax.zabbix_api_reachability."""
    requested = ["http_endpoint", "api_version"]
    outcome, version, version_text = _version_step(call)
    observed: List[str] = []
    if outcome.answered:
        observed.append("http_endpoint")
    if version is not None:
        observed.append("api_version")
    reasons = [] if outcome.failure is None else [outcome.failure]
    if version is not None:
        assessment = "healthy"
    elif outcome.answered:
        assessment = "unhealthy"
    else:
        assessment = "unavailable"
    method = auth_method_for(version) if version is not None else None
    payload = {
        "api_version": version_text,
        "auth_method": method or ("none" if version is not None else UNKNOWN),
        "http_status": outcome.http_status,
        "transport": _transport(scheme, outcome.answered),
    }
    return build_facts(
        REACHABILITY_CONTRACT, requested=requested, observed=observed, blockers=reasons,
        assessment=assessment, reasons=reasons, non_claims=REACHABILITY_NON_CLAIMS, payload=payload,
    )


class _Session:
    """The version step, then authenticated calls with increasing request ids; remembers the
    first failure so that a sequence stops there."""

    def __init__(self, call: Call) -> None:
        self._call = call
        self._next_id = 2
        self.answered = False
        self.failure: Optional[str] = None
        outcome, version, self.version_text = _version_step(call)
        self.answered = outcome.answered
        self.auth_method: Optional[str] = None
        if outcome.failure is not None:
            self.failure = outcome.failure
        elif version is not None:
            self.auth_method = auth_method_for(version)
            if self.auth_method is None:
                self.failure = API_VERSION_UNSUPPORTED

    def result(self, method: str, params: Dict[str, Any], max_bytes: int = MAX_SMALL_RESPONSE_BYTES) -> Any:
        """The call's result, or None once any call (this one included) failed."""
        if self.failure is not None:
            return None
        request_id = self._next_id
        self._next_id += 1
        outcome = classify(self._call(method, params, request_id, self.auth_method, max_bytes), request_id)
        if outcome.failure is not None:
            self.failure = outcome.failure
            return None
        return outcome.result

    def count(self, method: str, params: Dict[str, Any]) -> Optional[int]:
        result = self.result(method, dict(params, countOutput=True))
        if self.failure is not None:
            return None
        value = count_result(result)
        if value is None:
            self.failure = RESULT_UNPARSED
        return value

    def common_payload(self, scheme: str) -> Dict[str, Any]:
        return {
            "api_version": self.version_text,
            "auth_method": self.auth_method or UNKNOWN,
            "transport": _transport(scheme, self.answered),
        }


def _collection(contract: str, requested: List[str], observed: List[str], failure: Optional[str],
                non_claims: Tuple[str, ...], payload: Dict[str, Any]) -> Dict[str, Any]:
    blockers = [failure] if failure is not None and len(observed) < len(requested) else []
    state = "complete" if not blockers else ("blocked" if not observed else "partial")
    return build_facts(
        contract, requested=requested, observed=observed, blockers=blockers,
        assessment=collection_assessment(state), reasons=blockers, non_claims=non_claims, payload=payload,
    )


def observe_problem_summary(call: Call, scheme: str) -> Dict[str, Any]:
    """``problem.get`` countOutput per severity 0..5: contract tecrax.zabbix_problem_summary."""
    session = _Session(call)
    counts: Dict[str, Optional[int]] = {}
    for severity, name in enumerate(SEVERITIES):
        counts[name] = session.count("problem.get", {"severities": [severity]})
    observed = [name for name in SEVERITIES if counts[name] is not None]
    total = sum(counts[name] or 0 for name in SEVERITIES) if len(observed) == len(SEVERITIES) else None
    payload = dict(session.common_payload(scheme), problems=counts, problems_total=total)
    # Each count is below 2**53, their sum need not be: clamp it and say so.
    if total is not None and total > MAX_SAFE_INT:
        payload.update(problems_total=MAX_SAFE_INT, problems_total_clamped=True)
    return _collection(PROBLEM_SUMMARY_CONTRACT, list(SEVERITIES), observed, session.failure,
                       PROBLEM_NON_CLAIMS, payload)


def observe_host_availability(call: Call, scheme: str) -> Dict[str, Any]:
    """Enabled/disabled host counts and the agent availability of enabled hosts: contract
    tecrax.zabbix_host_availability_summary."""
    session = _Session(call)
    enabled = session.count("host.get", {"filter": {"status": 0}})
    disabled = session.count("host.get", {"filter": {"status": 1}})
    listing = session.result(
        "host.get",
        {
            "output": ["hostid"],
            "selectInterfaces": ["type", "main", "available"],
            "filter": {"status": 0},
            "sortfield": "hostid",
            "limit": MAX_LISTED_HOSTS + 1,
        },
        MAX_LISTING_RESPONSE_BYTES,
    )
    tally: Dict[str, Optional[int]] = {"available": None, "unavailable": None, "unknown": None,
                                       "without_agent_interface": None}
    if session.failure is None:
        counted = agent_availability(listing)
        if isinstance(counted, dict):
            tally.update(counted)
        else:
            session.failure = counted
    observed = []
    if enabled is not None and disabled is not None:
        observed.append("host_status")
    if tally["available"] is not None:
        observed.append("agent_availability")
    payload = dict(
        session.common_payload(scheme),
        hosts={"enabled": enabled if "host_status" in observed else None,
               "disabled": disabled if "host_status" in observed else None},
        agent_availability=tally,
    )
    return _collection(HOST_AVAILABILITY_CONTRACT, ["host_status", "agent_availability"], observed,
                       session.failure, HOST_NON_CLAIMS, payload)
