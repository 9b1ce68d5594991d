# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Normalizer of the ``tecrax.monitoring_host_diagnosis`` 1.0 facts contract.

A monitoring host is diagnosed from eight observations, each the facts object of its own
read-only check (or the reason there is none). This family aggregates those *facts
objects*; it imports no other family's code (the modules make the observations), so the
rule "a family imports only common/ and itself" holds.

``normalize_monitoring_host_diagnosis(observations)`` takes ``{component: outcome}`` where an
outcome is ``{"facts": <the check's facts>}`` or ``{"unavailable": <cause>}`` (the shape
``common.observation_set`` produces) and returns one facts object. It is pure and total: any
input gives schema-valid facts, and a component whose input is missing, malformed or
hostile is ``unavailable``, never an error.

Per component, ``status`` is:

- ``healthy``: its facts are assessed ``healthy``;
- ``unhealthy`` (observed and bad): assessed ``unhealthy`` or ``degraded``, or a collection
  assessed ``unknown`` because of a state it observed (``OBSERVED_STATE_BLOCKERS``: the host
  has no package lists, or more pending upgrades than apt's simulation output may hold);
- ``unavailable`` (could not observe): assessed ``unavailable`` or ``unknown``; no facts
  (not configured, unreachable, timed out, the observation failed); facts that are not the
  component's contract (``schema_rejected``); or an assessment state the component's
  contract does not have (``unclassified_state``).

unavailable never becomes unhealthy: a stopped resolver that does not answer is not known to
be broken. The diagnosis is ``healthy`` when all eight are, ``unhealthy`` when one is, and
``unavailable`` otherwise. Findings take their kind and severity from the finding taxonomy
(``profile/finding_taxonomy.yaml`` must agree with ``SEVERITIES``).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import (
    ASSESSMENT_STATES,
    CONTRACT_VERSION,
    COVERAGE_STATES,
    MAX_REASONS,
    MAX_SCOPE_ITEMS,
    build_facts,
)

CONTRACT_ID = "tecrax.monitoring_host_diagnosis"
MAX_COMPONENT_REASONS = 8
MAX_FINDINGS = 16

HEALTHY = "healthy"
UNHEALTHY = "unhealthy"
UNAVAILABLE = "unavailable"
STATUSES = (HEALTHY, UNHEALTHY, UNAVAILABLE)

# Why a component was not observed when there are no facts (the modules report these).
NOT_CONFIGURED = "not_configured"
CONNECTION_FAILED = "connection_failed"
TIMEOUT = "timeout"
OBSERVATION_FAILED = "observation_failed"
NOT_COLLECTED = "not_collected"
INPUT_CAUSES = (NOT_CONFIGURED, CONNECTION_FAILED, TIMEOUT, OBSERVATION_FAILED, NOT_COLLECTED)
# Causes the normalizer finds itself.
SCHEMA_REJECTED = "schema_rejected"
UNCLASSIFIED_STATE = "unclassified_state"
TLS_FAILED = "tls_failed"
PROGRAM_MISSING = "program_missing"
NOT_OBSERVED = "not_observed"
UNAVAILABLE_CAUSES = INPUT_CAUSES + (SCHEMA_REJECTED, UNCLASSIFIED_STATE, TLS_FAILED, PROGRAM_MISSING, NOT_OBSERVED)

OBSERVED_HEALTHY = "monitoring.observed_healthy"
COMPONENT_UNAVAILABLE = "monitoring.component_unavailable"
UNCLASSIFIED = "monitoring.unclassified_state"
ALL_COMPONENTS = "all"
ALL_HEALTHY_REASON = "all_components_healthy"


class Component(NamedTuple):
    name: str
    check_intent: str
    facts_contract: str
    states: Tuple[str, ...]  # the assessment states its contract has
    unhealthy_kind: str


COMPONENTS = (
    Component("inventory", "collect_basic_host_inventory", "tecrax.basic_host_inventory",
              ("healthy", "unknown", "unavailable"), "monitoring.inventory_unhealthy"),
    Component("ntp", "check_ntp_health", "tecrax.ntp_local_health",
              ("healthy", "degraded", "unhealthy", "unknown", "unavailable"), "monitoring.ntp_unhealthy"),
    Component("ntp_server", "check_ntp_server_health", "tecrax.ntp_server_observation",
              ("healthy", "degraded", "unhealthy", "unknown", "unavailable"), "monitoring.ntp_server_unhealthy"),
    Component("docker", "check_docker_services_health", "tecrax.docker_service_health",
              ("healthy", "unhealthy", "unknown", "unavailable"), "monitoring.docker_unhealthy"),
    Component("host_security", "collect_host_security_posture_readonly", "tecrax.host_security_posture",
              ("healthy", "degraded", "unknown", "unavailable"), "monitoring.host_security_degraded"),
    Component("zabbix_api", "check_zabbix_container_health", "tecrax.zabbix_api_reachability",
              ("healthy", "unhealthy", "unavailable"), "monitoring.zabbix_api_unhealthy"),
    Component("adguard", "check_adguard_health", "tecrax.adguard_reachability",
              ("healthy", "unhealthy", "unavailable"), "monitoring.adguard_unhealthy"),
    Component("portainer", "check_portainer_health", "tecrax.portainer_reachability",
              ("healthy", "unhealthy", "unavailable"), "monitoring.portainer_unhealthy"),
)
COMPONENT_NAMES = tuple(component.name for component in COMPONENTS)
HOST_LOCAL = ("inventory", "ntp", "ntp_server", "docker", "host_security")
CONTROLLER_SIDE = ("zabbix_api", "adguard", "portainer")

# Severity of each finding kind (the taxonomy's defaults).
SEVERITIES = {
    OBSERVED_HEALTHY: "info",
    COMPONENT_UNAVAILABLE: "medium",
    UNCLASSIFIED: "medium",
    "monitoring.inventory_unhealthy": "low",
    "monitoring.ntp_unhealthy": "high",
    "monitoring.ntp_server_unhealthy": "high",
    "monitoring.docker_unhealthy": "high",
    "monitoring.host_security_degraded": "medium",
    "monitoring.zabbix_api_unhealthy": "high",
    "monitoring.adguard_unhealthy": "high",
    "monitoring.portainer_unhealthy": "medium",
}

# Coverage blockers of a collection that name a state of the host (observed and bad), not a
# failure to observe.
OBSERVED_STATE_BLOCKERS = {
    "host_security": ("package_lists_missing", "apt_simulation_too_large"),
}

NON_CLAIMS = (
    "eight read-only observations taken once; the host is not watched over time",
    "unavailable means the component could not be observed, not that it is broken",
    "Zabbix: API reachability only, not the server daemon, database, pollers or monitored hosts",
    "AdGuard Home and Portainer: public surfaces only, no management API and no credentials",
    "pending updates come from the package lists already on the host; nothing was refreshed",
    "says nothing about components it does not list (containers, backups, firewall, other services)",
    "changes nothing and starts no remediation; findings are for an operator or a reaction pack",
)

_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")
_COMPONENT_OF = {component.name: component for component in COMPONENTS}


class Judged(NamedTuple):
    """One component's verdict and the finding it gives (``kind`` None when healthy)."""

    status: str
    assessment_state: Optional[str]
    coverage_state: Optional[str]
    reasons: List[str]
    kind: Optional[str]
    reason_code: str


def normalize_monitoring_host_diagnosis(observations: Any) -> Dict[str, Any]:
    """Return ``tecrax.monitoring_host_diagnosis`` facts for ``{component: outcome}``."""
    source: Mapping[str, Any] = observations if isinstance(observations, Mapping) else {}
    judged = {component.name: judge_component(component, source.get(component.name)) for component in COMPONENTS}
    statuses = {name: verdict.status for name, verdict in judged.items()}
    if all(status == HEALTHY for status in statuses.values()):
        assessment = HEALTHY
    elif UNHEALTHY in statuses.values():
        assessment = UNHEALTHY
    else:
        assessment = UNAVAILABLE
    payload = {
        "components": {
            component.name: {
                "status": judged[component.name].status,
                "check_intent": component.check_intent,
                "facts_contract": component.facts_contract,
                "assessment_state": judged[component.name].assessment_state,
                "coverage_state": judged[component.name].coverage_state,
                "reasons": judged[component.name].reasons,
            }
            for component in COMPONENTS
        },
        "findings": findings(judged),
        "summary": {status: sum(1 for value in statuses.values() if value == status) for status in STATUSES},
    }
    return build_facts(
        CONTRACT_ID,
        requested=COMPONENT_NAMES,
        observed=[name for name in COMPONENT_NAMES if statuses[name] != UNAVAILABLE],
        blockers=[name + "_unavailable" for name in COMPONENT_NAMES if statuses[name] == UNAVAILABLE],
        assessment=assessment,
        reasons=sorted(name + "_" + status for name, status in statuses.items() if status != HEALTHY),
        non_claims=NON_CLAIMS,
        payload=payload,
    )


def host_local_outcomes(result: Any) -> Dict[str, Any]:
    """The host-local components' outcomes from the task result of monitoring_host_local as
    Ansible registered it: its ``observations``, or for every component the cause when the
    task did not run (``unreachable``: connection_failed; ``timed_out``: timeout; failed or
    skipped: observation_failed). Only the cause is kept of a failed task, never its text."""
    if not isinstance(result, Mapping):
        return dict.fromkeys(HOST_LOCAL, {"unavailable": NOT_COLLECTED})
    if result.get("unreachable") is True:
        cause = CONNECTION_FAILED
    elif result.get("timed_out") is True:
        cause = TIMEOUT
    elif result.get("failed") is True or result.get("skipped") is True:
        cause = OBSERVATION_FAILED
    else:
        observed = result.get("observations")
        observed = observed if isinstance(observed, Mapping) else {}
        return {name: observed.get(name, {"unavailable": NOT_COLLECTED}) for name in HOST_LOCAL}
    return dict.fromkeys(HOST_LOCAL, {"unavailable": cause})


def judge_component(component: Component, outcome: Any) -> Judged:
    """The verdict on one component from its outcome (see the module doc)."""
    if not isinstance(outcome, Mapping):
        return _unavailable(NOT_COLLECTED)
    if "facts" not in outcome:
        cause = outcome.get("unavailable")
        return _unavailable(cause if isinstance(cause, str) and cause in INPUT_CAUSES else OBSERVATION_FAILED)
    envelope = read_envelope(outcome["facts"], component.facts_contract)
    if envelope is None:
        return _unavailable(SCHEMA_REJECTED)
    state, coverage, reasons, blockers = envelope
    if state not in component.states:
        return Judged(UNAVAILABLE, state if state in ASSESSMENT_STATES else None, coverage,
                      [UNCLASSIFIED_STATE], UNCLASSIFIED, UNCLASSIFIED_STATE)
    if state == HEALTHY:
        return Judged(HEALTHY, state, coverage, [], None, "")
    if state in ("unhealthy", "degraded"):
        bad = reasons or blockers or ["assessment_" + state]
    elif state == "unknown":  # partly observed: bad only for a state the collection observed
        bad = [blocker for blocker in blockers if blocker in OBSERVED_STATE_BLOCKERS.get(component.name, ())]
    else:
        bad = []
    if bad:
        return Judged(UNHEALTHY, state, coverage, bad[:MAX_COMPONENT_REASONS], component.unhealthy_kind, bad[0])
    unobserved = reasons + [blocker for blocker in blockers if blocker not in reasons]
    return Judged(UNAVAILABLE, state, coverage, (unobserved or [NOT_OBSERVED])[:MAX_COMPONENT_REASONS],
                  COMPONENT_UNAVAILABLE, unavailable_cause(unobserved))


def read_envelope(facts: Any, contract_id: str) -> Optional[Tuple[str, str, List[str], List[str]]]:
    """``(assessment state, coverage state, reasons, blockers)`` of facts that carry the
    envelope of ``contract_id`` consistently; None for anything else."""
    if not isinstance(facts, Mapping) or facts.get("contract") != {"id": contract_id, "version": CONTRACT_VERSION}:
        return None
    assessment, coverage = facts.get("assessment"), facts.get("coverage")
    if not isinstance(assessment, Mapping) or not isinstance(coverage, Mapping):
        return None
    state, covered = assessment.get("state"), coverage.get("state")
    reasons = _identifiers(assessment.get("reasons", []), MAX_REASONS)
    blockers = _identifiers(coverage.get("blockers"), MAX_SCOPE_ITEMS)
    if not _identifier(state) or covered not in COVERAGE_STATES or reasons is None or blockers is None:
        return None
    # The envelope's own rules (facts_envelope.guard_facts and the envelope schema).
    if covered == "blocked" and state != UNAVAILABLE:
        return None
    if covered == "complete" and (state == UNAVAILABLE or blockers):
        return None
    if covered != "complete" and not blockers:
        return None
    return state, covered, reasons, blockers


def unavailable_cause(codes: Sequence[str]) -> str:
    """Why a component with facts could not be observed, from the first of its reason or
    blocker codes that names a cause; ``not_observed`` when none does."""
    for code in codes:
        words = code.split("_")
        if "tls" in words:
            return TLS_FAILED
        if code.endswith(TIMEOUT):
            return TIMEOUT
        if code.endswith(("connection_refused", "connection_failed", "network_error")):
            return CONNECTION_FAILED
        if code.endswith(("_not_installed", "_not_found")):
            return PROGRAM_MISSING
    return NOT_OBSERVED


def findings(judged: Mapping[str, Judged]) -> List[Dict[str, str]]:
    """One finding per component that is not healthy, sorted by component; one
    ``observed_healthy`` finding when every component is healthy."""
    found = [
        {"kind": verdict.kind, "severity": SEVERITIES[verdict.kind], "component": name,
         "reason_code": verdict.reason_code}
        for name, verdict in sorted(judged.items()) if verdict.kind is not None
    ]
    if not found:
        found = [{"kind": OBSERVED_HEALTHY, "severity": SEVERITIES[OBSERVED_HEALTHY], "component": ALL_COMPONENTS,
                  "reason_code": ALL_HEALTHY_REASON}]
    return found[:MAX_FINDINGS]


def _unavailable(cause: str) -> Judged:
    return Judged(UNAVAILABLE, None, None, [cause], COMPONENT_UNAVAILABLE, cause)


def _identifier(value: Any) -> bool:
    return isinstance(value, str) and _IDENTIFIER.match(value) is not None


def _identifiers(values: Any, limit: int) -> Optional[List[str]]:
    """A list of unique snake_case names of at most ``limit`` items, else None."""
    if not isinstance(values, list) or len(values) > limit or not all(_identifier(value) for value in values):
        return None
    if len(set(values)) != len(values):
        return None
    return list(values)
