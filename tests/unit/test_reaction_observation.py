"""Diagnoses as reactions read them: the finding taxonomy, the checks a saved diagnosis
passes, the SCLite observation envelope, the internal action that records it, and what
RExecOp's own evaluator makes of the profile's reaction pack for each kind of diagnosis."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rexecop.execution.backend import StepExecutionContext
from rexecop.profile.loader import load_profile
from rexecop.reaction import ReactionContext, compile_reaction_pack, evaluate_reaction
from sclite.artifacts import validate_artifact

import diagnosis_fixture
from tecrax import profile_root
from tecrax.diagnosis import DiagnosisError, InputError, check_diagnosis, load_taxonomy, read_diagnosis
from tecrax.internal_actions import register_handlers
from tecrax.observation import ObservationRefused, build_observation, profile_ref, record_reaction_observation

OPERATION = "op-20261205-101500-a1b2c3"
TARGET = "monitoring-host-01"
ROOT = profile_root()
TAXONOMY = load_taxonomy(ROOT)
COMPONENTS = TAXONOMY.components
# The default severities the diagnosis contract lists; the taxonomy file must agree.
CONTRACT_SEVERITIES = {
    "monitoring.observed_healthy": "info", "monitoring.component_unavailable": "medium",
    "monitoring.inventory_unhealthy": "low", "monitoring.ntp_unhealthy": "high",
    "monitoring.ntp_server_unhealthy": "high", "monitoring.docker_unhealthy": "high",
    "monitoring.host_security_degraded": "medium", "monitoring.zabbix_api_unhealthy": "high",
    "monitoring.adguard_unhealthy": "high", "monitoring.portainer_unhealthy": "medium",
    "monitoring.unclassified_state": "medium",
}


def observe(facts: dict[str, Any]) -> dict[str, Any]:
    return build_observation(facts, operation_id=OPERATION, target_id=TARGET, profile=profile_ref(ROOT))


def react(facts: dict[str, Any], context: ReactionContext | None = None) -> Any:
    pack = compile_reaction_pack(load_profile(Path(ROOT)))
    return evaluate_reaction(pack, observe(facts), context or ReactionContext())


# --- the taxonomy ------------------------------------------------------------------------

def test_taxonomy_has_the_contracts_kinds_and_severities() -> None:
    assert {name: kind.severity for name, kind in TAXONOMY.kinds.items()} == CONTRACT_SEVERITIES
    assert TAXONOMY.severities == ("info", "low", "medium", "high")
    assert COMPONENTS == ("inventory", "ntp", "ntp_server", "docker", "host_security", "zabbix_api", "adguard",
                          "portainer")


def test_the_fixtures_check_intents_are_the_taxonomys_rechecks() -> None:
    rechecks = {kind.components[0]: kind.recheck_intent for kind in TAXONOMY.kinds.values() if kind.recheck_intent}
    fixture = diagnosis_fixture.healthy()["components"]
    assert rechecks == {name: component["check_intent"] for name, component in fixture.items()}


@pytest.mark.parametrize(
    ("status", "reasons", "kind"),
    [
        ("unhealthy", ["clock_not_synchronized"], None),
        ("unavailable", ["tls_failed"], "monitoring.component_unavailable"),
        ("unavailable", ["unclassified_state"], "monitoring.unclassified_state"),
    ],
)
@pytest.mark.parametrize("component", COMPONENTS)
def test_every_finding_is_a_taxonomy_kind_with_its_reason_code(component: str, status: str, reasons: list[str],
                                                              kind: str | None) -> None:
    (finding,) = diagnosis_fixture.diagnosis(**{component: (status, reasons)})["findings"]
    taxonomy_kind = TAXONOMY.kinds[finding["kind"]]
    assert finding["kind"] == kind or taxonomy_kind.recheck_intent is not None
    assert finding["severity"] == taxonomy_kind.severity and finding["component"] in taxonomy_kind.components
    assert finding["reason_code"] == reasons[0] and taxonomy_kind.allows(reasons[0])


def test_fixed_reason_codes_are_fixed() -> None:
    unavailable = TAXONOMY.kinds["monitoring.component_unavailable"]
    assert unavailable.allows("connection_failed") and not unavailable.allows("clock_not_synchronized")
    assert TAXONOMY.kinds["monitoring.ntp_unhealthy"].allows("clock_not_synchronized")


# --- checking a diagnosis ------------------------------------------------------------------

def test_the_fixture_is_a_diagnosis() -> None:
    facts = diagnosis_fixture.healthy()
    assert check_diagnosis(facts, ROOT) is facts


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.update(contract={"id": "tecrax.basic_host_inventory", "version": "1.0"}),
         "contract must be {id: tecrax.monitoring_host_diagnosis, version: '1.0'}"),
        (lambda f: f.update(contract={"id": "tecrax.monitoring_host_diagnosis", "version": "2.0"}), "contract must be"),
        (lambda f: f.pop("components"), "components must be a mapping"),
        (lambda f: f["components"].pop("portainer"), "missing: portainer"),
        (lambda f: f["components"].update(grafana={"status": "healthy"}), "unknown: grafana"),
        (lambda f: f["components"]["ntp"].update(status=3), "components.ntp.status must be a state word"),
        (lambda f: f["components"]["ntp"].update(status="Healthy; rm -rf /"), "components.ntp.status"),
        (lambda f: f["components"].update(docker="healthy"), "components.docker.status"),
        (lambda f: f.update(padding="x" * 17000), "exceeds 16384 bytes"),
    ],
)
def test_a_bad_diagnosis_is_refused_naming_the_field(change: Any, message: str) -> None:
    facts = diagnosis_fixture.healthy()
    change(facts)
    with pytest.raises(DiagnosisError, match=None) as caught:
        check_diagnosis(facts, ROOT)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_not_an_object() -> None:
    with pytest.raises(DiagnosisError, match="must be a JSON object"):
        check_diagnosis(["inventory"], ROOT)


def read(path: Path, operation: str = OPERATION, target: str = TARGET) -> dict[str, Any]:
    return read_diagnosis(path, operation_id=operation, target_id=target, profile_root=ROOT)


def test_a_saved_facts_object_and_a_tecrax_report_are_read(tmp_path: Path) -> None:
    facts = diagnosis_fixture.diagnosis(ntp=("unhealthy", ["clock_not_synchronized"]))
    assert read(diagnosis_fixture.write(tmp_path / "facts.json", facts)) == facts
    report = {"operation_id": OPERATION, "target": TARGET, "state": "completed",
              "facts": {"monitoring_host_diagnosis": facts}}
    assert read(diagnosis_fixture.write(tmp_path / "report.json", report)) == facts


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{\"contract\": ", "d.json: invalid JSON at line 1 column 14"),
        (b"\xff\xfe{}", "d.json: not UTF-8 text"),
        (b"[1, 2]", "d.json: a diagnosis must be a JSON object"),
        (json.dumps({"operation_id": "op-other", "facts": {}}).encode(), "the report's operation_id is 'op-other'"),
        (json.dumps({"target": "other-host", "facts": {}}).encode(), "the report's target is 'other-host'"),
        (json.dumps({"facts": {"basic_host_inventory": {}}}).encode(), "the report holds no monitoring_host_diagnosis"),
        (b"{}", "contract must be"),
    ],
)
def test_bad_files_are_one_line_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "d.json"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        read(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_missing_and_oversized_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read nope.json: No such file or directory"):
        read(tmp_path / "nope.json")
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (1024 * 1024 + 1))
    with pytest.raises(InputError, match="big.json: 1048577 bytes exceeds 1048576 bytes"):
        read(big)


# --- the observation envelope --------------------------------------------------------------

def test_the_envelope_is_an_sclite_observation_bound_to_the_reaction_snapshot() -> None:
    facts = diagnosis_fixture.diagnosis(portainer=("unavailable", ["tls_failed"]))
    observation = observe(facts)
    validate_artifact(observation, "schemas/observation_envelope.v0.1.schema.json")
    profile = load_profile(Path(ROOT))
    assert observation["profile_ref"] == {
        "id": "tecrax", "version": profile.version, "digest": compile_reaction_pack(profile).profile_digest,
    }
    assert observation["source"] == {"operation_id": OPERATION, "intent_id": "diagnose_monitoring_host",
                                      "target_id": TARGET}
    assert observation["facts"] == facts


def test_one_diagnosis_gives_one_observation_id() -> None:
    facts = diagnosis_fixture.healthy()
    early = build_observation(facts, operation_id=OPERATION, target_id=TARGET, profile=profile_ref(ROOT),
                              observed_at=datetime(2026, 1, 1, tzinfo=UTC))
    late = observe(facts)
    assert early["observation_id"] == late["observation_id"] and early["observed_at"] != late["observed_at"]
    other = observe(diagnosis_fixture.diagnosis(ntp=("unhealthy", [])))
    assert other["observation_id"] != late["observation_id"]


def context(shared: dict[str, Any], target: str = TARGET) -> StepExecutionContext:
    return StepExecutionContext(operation_id=OPERATION, target=target, mode="observe",
                                step={"id": "record_reaction_observation", "type": "internal",
                                      "action": "tecrax_reaction_observation"},
                                shared_state=shared)


def test_the_internal_action_is_registered_and_records_the_envelope() -> None:
    assert register_handlers()["tecrax_reaction_observation"] is record_reaction_observation
    facts = diagnosis_fixture.diagnosis(docker=("unhealthy", ["docker_inactive"]))
    shared = {"monitoring_host_diagnosis": facts, "execution_context": {"profile_root": ROOT}}
    result = record_reaction_observation(context(shared))
    observation = shared["reaction_observation"]
    assert result["status"] == "observation_recorded" and result["observation_id"] == observation["observation_id"]
    assert observation["source"]["operation_id"] == OPERATION and observation["facts"] == facts
    assert result["profile_digest"] == observation["profile_ref"]["digest"]


def test_the_internal_action_fails_the_step_without_a_usable_diagnosis() -> None:
    with pytest.raises(ObservationRefused, match="no monitoring_host_diagnosis facts in shared state"):
        record_reaction_observation(context({}))
    broken = diagnosis_fixture.healthy()
    broken["components"].pop("ntp")
    shared = {"monitoring_host_diagnosis": broken}
    with pytest.raises(ObservationRefused, match="cannot be observed: components must be exactly .* missing: ntp"):
        record_reaction_observation(context(shared))
    assert "reaction_observation" not in shared


# --- what the reaction pack decides (RExecOp's evaluator on the profile's pack) --------------

def test_all_healthy_is_no_op() -> None:
    evaluation = react(diagnosis_fixture.healthy())
    assert (evaluation.outcome, evaluation.intent_ref) == ("no_op", None)
    assert evaluation.rule.finding_kind == "monitoring.observed_healthy"


@pytest.mark.parametrize("component", COMPONENTS)
def test_an_unhealthy_component_rechecks_with_its_own_check(component: str) -> None:
    evaluation = react(diagnosis_fixture.diagnosis(**{component: ("unhealthy", ["observed_bad"])}))
    kind = next(k for k in TAXONOMY.kinds.values() if k.components == (component,))
    assert (evaluation.outcome, evaluation.intent_ref) == ("run_intent", kind.recheck_intent)
    assert evaluation.rule.finding_kind == kind.kind and evaluation.rule.finding_severity == kind.severity


@pytest.mark.parametrize("component", COMPONENTS)
def test_an_unavailable_component_escalates(component: str) -> None:
    evaluation = react(diagnosis_fixture.diagnosis(**{component: ("unavailable", ["connection_failed"])}))
    assert (evaluation.outcome, evaluation.intent_ref) == ("escalate", None)
    assert evaluation.rule.finding_kind == "monitoring.component_unavailable"


def test_a_state_the_contract_does_not_have_escalates() -> None:
    evaluation = react(diagnosis_fixture.diagnosis(ntp=("unavailable", ["unclassified_state"])))
    assert (evaluation.outcome, evaluation.rule.rule_id) == ("escalate", "ntp-unavailable-escalate")


def test_an_unknown_status_reaches_the_fallback() -> None:
    evaluation = react(diagnosis_fixture.diagnosis(adguard=("flapping", [])))
    assert (evaluation.outcome, evaluation.reason) == ("escalate", "no_matching_reaction_rule")
    assert evaluation.rule.finding_kind == "monitoring.unclassified_state"


def test_severity_orders_the_reactions() -> None:
    """One evaluation gives one reaction: a high unhealthy component before an unavailable
    one, an unavailable one before the low-severity inventory."""
    both = react(diagnosis_fixture.diagnosis(portainer=("unavailable", []), adguard=("unhealthy", [])))
    assert both.intent_ref == "check_adguard_health"
    low = react(diagnosis_fixture.diagnosis(inventory=("unhealthy", []), ntp=("unavailable", [])))
    assert (low.outcome, low.rule.rule_id) == ("escalate", "ntp-unavailable-escalate")
    medium = react(diagnosis_fixture.diagnosis(host_security=("unhealthy", []), docker=("unavailable", [])))
    assert medium.intent_ref == "collect_host_security_posture_readonly"


def test_budgets_and_cycles_escalate() -> None:
    facts = diagnosis_fixture.diagnosis(ntp=("unhealthy", []))
    assert react(facts, ReactionContext(depth=3)).reason == "max_reaction_depth_exceeded"
    assert react(facts, ReactionContext(depth=2)).outcome == "run_intent"
    assert react(facts, ReactionContext(reaction_count=5)).reason == "reaction_budget_exhausted"
    assert react(facts, ReactionContext(reaction_count=4)).outcome == "run_intent"
    digest = react(facts).rule.digest
    assert react(facts, ReactionContext(visited_rule_digests=(digest,))).reason == "reaction_cycle_detected"


def test_the_contract_schema_is_enforced_when_the_profile_has_it(tmp_path: Path) -> None:
    """A stand-in schema (the real one belongs to diagnose_monitoring_host) in a copy of the
    profile: a diagnosis that breaks it is refused, naming where."""
    import shutil

    root = tmp_path / "profile"
    shutil.copytree(ROOT, root)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://tecrax.invalid/schemas/monitoring_host_diagnosis.v1.schema.json",
        "$ref": "facts_envelope.v1.schema.json#/$defs/envelope",
        "properties": {
            "contract": {"properties": {"id": {"const": "tecrax.monitoring_host_diagnosis"}}},
            "summary": {"type": "object", "required": ["healthy", "unhealthy", "unavailable"],
                        "additionalProperties": {"type": "integer", "minimum": 0}},
        },
        "required": ["summary"],
    }
    (root / "schemas" / "monitoring_host_diagnosis.v1.schema.json").write_text(json.dumps(schema))
    facts = diagnosis_fixture.healthy()
    assert check_diagnosis(facts, root) is facts
    facts["summary"]["healthy"] = -1
    with pytest.raises(DiagnosisError, match="violate monitoring_host_diagnosis.v1.schema.json at summary/healthy"):
        check_diagnosis(facts, root)
