"""A profile and environment for the reaction tests.

``draft_profile`` copies the installed tecrax profile and adds a draft
``diagnose_monitoring_host`` whose diagnosis step is RExecOp's own ``static_fixture``
connector backend returning a saved diagnosis (a named stand-in: the real diagnosis step
belongs to the diagnose_monitoring_host work and is not in this branch). Everything after it
is what the real workflow must have too, and runs for real here:

    lift the facts (tecrax_lift_facts)
    -> record_reaction_observation: internal action tecrax_reaction_observation
    -> produce_receipt

and the intent declares the observation the way ``rexecop profile lint`` checks it
(``reaction_observation`` with shared_state_key, schema_ref, source_intent, producer_step and
requires_completed_operation).

Reactions plan children only when GovEngine's verdict is a plain ``allow`` (no obligations or
constraints), so the environment's policy allows read operations plainly.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from harness import LabTarget, connector_rule, write_environment

INTENT = "diagnose_monitoring_host"
FIXTURE_CONNECTOR = "diagnosis_fixture"
FIXTURE_ACTION = "monitoring_host_diagnosis"
OBSERVATION_STEP = "record_reaction_observation"

DRAFT_FILES: dict[str, Any] = {
    f"intents/{INTENT}.yaml": {
        "intent": {
            "id": INTENT,
            "workflow": f"workflows/{INTENT}.yaml",
            "risk": "low",
            "enforce_declared_modes": True,
            "modes": ["read_only", "observe", "dry_run"],
            "facts_contract": "tecrax.monitoring_host_diagnosis@1.0",
            "reaction_observation": {
                "shared_state_key": "reaction_observation",
                "schema_ref": "schemas/observation_envelope.v0.1.schema.json",
                "source_intent": INTENT,
                "producer_step": OBSERVATION_STEP,
                "requires_completed_operation": True,
            },
            "catalog": {
                "title": "Diagnose a monitoring host (test draft)",
                "summary": "Test draft: a saved diagnosis stands in for the observation.",
                "target_kinds": ["host"],
                "required_capabilities": ["tecrax.host.monitoring_diagnosis.v1"],
                "side_effect_class": "none",
                "validation_ref": f"validation_rules/{INTENT}.yaml",
                "runbook_ref": "runbooks/ubuntu-host-readonly-runbook.md",
            },
        }
    },
    f"workflows/{INTENT}.yaml": {
        "workflow": {
            "id": f"tecrax.{INTENT}",
            "intent": INTENT,
            "mode": "read_only",
            "risk": "low",
            "description": "Test draft of the diagnosis workflow.",
            "steps": [
                {"id": "diagnose", "type": "connector", "connector": FIXTURE_CONNECTOR,
                 "action": FIXTURE_ACTION, "pause_safe": True},
                {"id": "lift_monitoring_host_diagnosis_facts", "type": "internal",
                 "action": "tecrax_lift_facts", "pause_safe": True},
                {"id": OBSERVATION_STEP, "type": "internal", "action": "tecrax_reaction_observation",
                 "pause_safe": True},
                {"id": "produce_receipt", "type": "evidence", "action": "produce_receipt", "pause_safe": True},
            ],
        }
    },
    f"validation_rules/{INTENT}.yaml": {
        "validation_rule": {
            "intent": INTENT,
            "steps": [
                {"type": "require_mapping", "key": "monitoring_host_diagnosis",
                 "fail": {"rule": f"{INTENT}.facts_required", "details": {"reason": "no diagnosis"}}},
                {"type": "require_equals", "path": "reaction_observation.facts.contract.id",
                 "value": "tecrax.monitoring_host_diagnosis", "pass_rule": f"{INTENT}.recorded",
                 "fail_rule": f"{INTENT}.observation_required"},
            ],
        }
    },
    f"connectors/{FIXTURE_CONNECTOR}.yaml": {
        "connector": {
            "name": FIXTURE_CONNECTOR,
            "backend": "static_fixture",
            "description": "Test stand-in for the diagnosis step: returns a saved diagnosis.",
            "modes": ["read_only", "observe", "dry_run"],
            "capabilities": [FIXTURE_ACTION],
        }
    },
}


def draft_profile(destination: Path) -> Path:
    """A copy of the installed profile with the draft diagnosis intent; returns its root."""
    from tecrax import profile_root

    shutil.copytree(profile_root(), destination)
    for relative, document in DRAFT_FILES.items():
        (destination / relative).write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    metadata_path = destination / "operator_metadata.yaml"
    metadata = yaml.safe_load(metadata_path.read_text(encoding="utf-8"))
    any_entry = metadata["operator_metadata"]["intents"]["collect_basic_host_inventory"]
    metadata["operator_metadata"]["intents"][INTENT] = {
        **any_entry, "label": "Diagnose a monitoring host (test draft)",
        "runbook_hint": "Test draft.", "safe_next_options": [f"rexecop runbook show {INTENT} --profile tecrax"],
    }
    metadata_path.write_text(yaml.safe_dump(metadata, sort_keys=False), encoding="utf-8")
    return destination


def plain_allow_policy() -> dict[str, Any]:
    """Read operations allowed without obligations (what RExecOp needs to plan a reaction's
    child), the tecrax_ansible connector and the fixture connector allowed for reads."""
    fixture_rule = {
        "rule_id": "allow-diagnosis-fixture-read",
        "effect": "allow",
        "conditions": {"action.category": "connector", "action.mode": "read", "action.connector": FIXTURE_CONNECTOR},
        "reason_code": "fixture_read_allowed",
    }
    return {
        "policy_id": "tecrax-reaction-test",
        "version": "2026-12-05",
        "rules": [
            {
                "rule_id": "allow-read-operations-plainly",
                "effect": "allow",
                "conditions": {"action.category": "operation", "action.mode": "read"},
                "reason_code": "read_operation_allowed",
            },
            connector_rule(),
            fixture_rule,
        ],
    }


def write_reaction_environment(
    path: Path,
    targets: Sequence[LabTarget],
    *,
    known_hosts: Path,
    diagnosis: Mapping[str, Any] | None = None,
    policy: Mapping[str, Any] | None = None,
) -> Path:
    """The lab environment plus, with ``diagnosis``, the fixture connector returning it."""
    write_environment(path, targets, known_hosts=known_hosts, policy=policy or plain_allow_policy())
    if diagnosis is not None:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        document["environment"]["connectors"][FIXTURE_CONNECTOR] = {
            "enabled": True,
            "backend": "static_fixture",
            "fixture_only": True,
            "actions": {FIXTURE_ACTION: {"data": {"facts_key": "monitoring_host_diagnosis", "facts": dict(diagnosis)}}},
        }
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path
