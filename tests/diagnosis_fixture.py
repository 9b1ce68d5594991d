"""Realistic tecrax.monitoring_host_diagnosis facts for the reaction tests.

``healthy()`` is the saved fixture (tests/unit/data/monitoring_host_diagnosis/healthy.json);
``diagnosis(ntp=("unhealthy", ["clock_not_synchronized"]), ...)`` changes components and
derives everything else the way the facts contract says: assessment (unhealthy when any
component is unhealthy, else unavailable when any is unavailable), coverage (partial with
``<component>_unavailable`` blockers, blocked when nothing was observed), scope, findings
from the finding taxonomy (kind and severity; the reason code is the component's first
reason, or why it could not be observed), and the summary counts.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from tecrax.diagnosis import load_taxonomy

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "unit" / "data" / "monitoring_host_diagnosis" / "healthy.json"
UNHEALTHY_KIND = {"host_security": "monitoring.host_security_degraded"}
# The contract gives a component that is not healthy at least one reason; a change that names
# none gets a representative one.
DEFAULT_REASONS = {"healthy": [], "unhealthy": ["service_inactive"], "unavailable": ["connection_failed"]}


@lru_cache(maxsize=1)
def _healthy_text() -> str:
    return FIXTURE.read_text(encoding="utf-8")


def healthy() -> dict[str, Any]:
    return json.loads(_healthy_text())


def diagnosis(**changes: tuple[str, list[str]]) -> dict[str, Any]:
    facts = healthy()
    components = facts["components"]
    for name, (status, reasons) in changes.items():
        component = components[name]
        component["status"] = status
        component["reasons"] = list(reasons) or DEFAULT_REASONS.get(status, [])
        if status == "unavailable":
            component["assessment_state"] = component["coverage_state"] = None
        elif status == "unhealthy":
            component["assessment_state"] = "unhealthy"
    statuses = {name: component["status"] for name, component in components.items()}
    states = list(statuses.values())
    count = {state: states.count(state) for state in ("healthy", "unhealthy", "unavailable")}
    unavailable = [name for name, status in statuses.items() if status == "unavailable"]
    facts["summary"] = count
    facts["assessment"] = {
        "state": "unhealthy" if count["unhealthy"] else "unavailable" if count["unavailable"] else "healthy",
        "reasons": sorted(f"{name}_{status}" for name, status in statuses.items() if status != "healthy"),
    }
    facts["coverage"] = {
        "state": "blocked" if len(unavailable) == len(statuses) else "partial" if unavailable else "complete",
        "blockers": [f"{name}_unavailable" for name in unavailable],
    }
    facts["scope"]["observed"] = [name for name in statuses if name not in unavailable]
    facts["scope"]["not_observed"] = unavailable
    facts["findings"] = _findings(components)
    return facts


def _findings(components: dict[str, Any]) -> list[dict[str, str]]:
    """As diagnose_monitoring_host writes them: the component's first reason is the code."""
    kinds = load_taxonomy(REPO / "profile").kinds
    if all(component["status"] == "healthy" for component in components.values()):
        return [_finding(kinds["monitoring.observed_healthy"], "all", "all_components_healthy")]
    found = []
    for name, component in sorted(components.items()):
        status, reasons = component["status"], component["reasons"]
        if status == "healthy":
            continue
        if status == "unhealthy":
            kind = kinds[UNHEALTHY_KIND.get(name, f"monitoring.{name}_unhealthy")]
        elif status == "unavailable" and reasons[:1] != ["unclassified_state"]:
            kind = kinds["monitoring.component_unavailable"]
        else:
            kind = kinds["monitoring.unclassified_state"]
        found.append(_finding(kind, name, reasons[0] if reasons and kind.allows(reasons[0]) else
                              (kind.reason_codes[-1] if kind.reason_codes else "observed_bad")))
    return found


def _finding(kind: Any, component: str, reason_code: str) -> dict[str, str]:
    return {"kind": kind.kind, "severity": kind.severity, "component": component, "reason_code": reason_code}


def write(path: Path, facts: dict[str, Any]) -> Path:
    path.write_text(json.dumps(facts, indent=2, sort_keys=True), encoding="utf-8")
    return path


def copy_of(facts: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(facts)
