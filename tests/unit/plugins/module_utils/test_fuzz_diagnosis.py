"""Fuzz: the monitoring host diagnosis on mutated component facts (made from the recordings
by the components' own normalizers), on envelopes of any state, and on arbitrary JSON in
place of the host-local module's result. No exception, schema-valid facts, and the verdict
rules hold: unhealthy only from an observed bad state, never from a failure to observe."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.diagnosis import monitoring_host_diagnosis as mhd
from unit.diagnosis_inputs import BUILDERS, outcomes
from unit.mutations import FUZZ, mutated

SCHEMA = "monitoring_host_diagnosis.v1.schema.json"
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.sampled_from(["facts", "unavailable", "observations", "unreachable",
                                                                "failed", "contract", "assessment", "coverage", "state",
                                                                "reasons", "blockers", "id", "version", "x"]),
                                               children, max_size=5)),
    max_leaves=20,
)
HEALTHY = outcomes()


@FUZZ
@given(st.sampled_from(sorted(BUILDERS)).flatmap(
    lambda name: st.tuples(st.just(name), mutated(HEALTHY[name]["facts"], json=True))))
def test_mutated_component_facts(facts_schema_errors: Any, case: tuple[str, Any]) -> None:
    name, facts = case
    diagnosis = mhd.normalize_monitoring_host_diagnosis({**HEALTHY, name: {"facts": facts}})
    assert facts_schema_errors(diagnosis, SCHEMA) == []
    assert all(diagnosis["components"][other]["status"] == "healthy" for other in BUILDERS if other != name)


STATES = st.one_of(st.sampled_from(["healthy", "degraded", "unhealthy", "unknown", "unavailable"]),
                   st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True))
CODES = st.lists(st.one_of(st.sampled_from(["package_lists_missing", "apt_simulation_too_large", "dns_timeout",
                                            "tls_unknown_ca", "systemctl_not_found", "connection_refused"]),
                           st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)), max_size=20, unique=True)


@FUZZ
@given(st.sampled_from(list(mhd.COMPONENTS)), STATES,
       st.sampled_from(["complete", "partial", "blocked", "done"]), CODES, CODES)
def test_envelopes_of_any_state(facts_schema_errors: Any, component: mhd.Component, state: str, coverage: str,
                                reasons: list[str], blockers: list[str]) -> None:
    facts = {"contract": {"id": component.facts_contract, "version": "1.0"},
             "assessment": {"state": state, "reasons": reasons}, "coverage": {"state": coverage, "blockers": blockers}}
    diagnosis = mhd.normalize_monitoring_host_diagnosis({**HEALTHY, component.name: {"facts": facts}})
    assert facts_schema_errors(diagnosis, SCHEMA) == []
    status = diagnosis["components"][component.name]["status"]
    observed_bad = set(blockers) & set(mhd.OBSERVED_STATE_BLOCKERS.get(component.name, ()))
    if status == "unhealthy":
        assert state in ("unhealthy", "degraded") or (state == "unknown" and observed_bad)
        assert state in component.states
    if state == "unavailable" or state not in component.states:
        assert status == "unavailable"
    if status == "healthy":
        assert state == "healthy"


@FUZZ
@given(JSON, st.dictionaries(st.sampled_from(sorted(BUILDERS) + ["extra"]), JSON, max_size=9))
def test_arbitrary_json(facts_schema_errors: Any, host_result: Any, observations: Any) -> None:
    diagnosis = mhd.normalize_monitoring_host_diagnosis({**observations, **mhd.host_local_outcomes(host_result)})
    assert facts_schema_errors(diagnosis, SCHEMA) == []
    assert diagnosis["summary"]["healthy"] == 0
