"""The summary of one group step that validation judges: the members' facts folded into the
two envelope fields every validation rule reads.

An intent's validation rule reads ``<facts_key>.coverage.state`` (a collection) or
``<facts_key>.assessment.state`` (a health check). Over a group, ``<facts_key>`` holds this
summary, so the same rule passes only when *every* member passes it:

* ``coverage.state``: ``complete`` when every member returned facts with complete coverage,
  ``blocked`` when none returned facts, ``partial`` otherwise; ``blockers`` names each member
  that is not complete and why (``<member>: <reason>``);
* ``assessment.state``: ``healthy`` when every member is healthy; otherwise the worst state
  among the members (a member without facts counts as ``unavailable``); ``reasons`` names
  each member that is not healthy (``<member>: <state>``).

``hosts`` is the per-member table (result, assessment, coverage, error class and message),
so the validation record says which hosts passed and which did not. The members' own facts
are lifted beside it, under ``<facts_key>_by_host``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CONTRACT = {"id": "tecrax.group_summary", "version": "1.0"}
BY_HOST_SUFFIX = "_by_host"
# Worst first: observed bad, could not observe, observed partly bad, could not judge.
_SEVERITY = ("unhealthy", "unavailable", "degraded", "unknown", "healthy")
_COVERAGE = ("complete", "partial", "blocked")
MAX_REASON_CHARS = 160


def is_group_step(data: Mapping[str, Any]) -> bool:
    return isinstance(data.get("group"), Mapping) and isinstance(data.get("hosts"), Mapping)


def facts_by_host(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The schema-checked facts of every member that returned them."""
    return {
        str(member): dict(entry["facts"])
        for member, entry in data["hosts"].items()
        if isinstance(entry, Mapping) and entry.get("status") == "ok" and isinstance(entry.get("facts"), Mapping)
    }


def group_summary(data: Mapping[str, Any]) -> dict[str, Any]:
    group = data["group"]
    facts = facts_by_host(data)
    hosts: dict[str, dict[str, Any]] = {}
    blockers: list[str] = []
    reasons: list[str] = []
    for member, entry in data["hosts"].items():
        entry = entry if isinstance(entry, Mapping) else {}
        member_facts = facts.get(str(member), {})
        coverage = _state(member_facts, "coverage", _COVERAGE) or "blocked"
        assessment = _state(member_facts, "assessment", _SEVERITY) or "unavailable"
        row: dict[str, Any] = {"result": str(entry.get("status", "no_result")), "coverage": coverage,
                               "assessment": assessment}
        if entry.get("error_class"):
            row["error_class"] = str(entry["error_class"])
            row["error"] = str(entry.get("error", ""))[:MAX_REASON_CHARS]
        hosts[str(member)] = row
        if coverage != "complete":
            blockers.append(f"{member}: {row.get('error') or 'coverage ' + coverage}"[:MAX_REASON_CHARS])
        if assessment != "healthy":
            reasons.append(f"{member}: {assessment}")
    states = [row["assessment"] for row in hosts.values()]
    return {
        "contract": dict(CONTRACT),
        "group": str(group.get("name", "")),
        "facts_contract": str(data.get("facts_contract", "")),
        "members": [str(member) for member in group.get("members", [])],
        "coverage": {
            "state": "blocked" if not facts else "complete" if not blockers else "partial",
            "blockers": blockers,
        },
        "assessment": {
            "state": min(states, key=_SEVERITY.index) if states else "unavailable",
            "reasons": reasons,
        },
        "hosts": hosts,
    }


def _state(facts: Mapping[str, Any], field: str, known: tuple[str, ...]) -> str | None:
    block = facts.get(field)
    state = block.get("state") if isinstance(block, Mapping) else None
    return state if state in known else None
