#!/usr/bin/env python3
"""Write the profile files of every read-only intent from its action's declaration.

A read-only intent is one connector step (an action of
profile/connectors/tecrax_ansible/actions.yaml with an ``intent:`` block), one facts lift and
one receipt, validated by one condition on its facts. RExecOp must find its intent, workflow
and validation rule as files, so they are generated here from that one declaration; a unit
test fails when a file on disk is not what this script writes. Hand-written profile files
remain for intents that are genuinely different (the chrony mutation and its plan).

    python scripts/generate_profile.py          # write the files
    python scripts/generate_profile.py --check  # exit 1 and list the stale ones

The playbooks of these actions are generated too, by scripts/generate_playbooks.py.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

import generated_files

PROFILE = Path(__file__).resolve().parents[1] / "profile"
# The connector's declarations (its contract, actions, inputs, intents). The contract RExecOp
# reads, CONTRACT_FILE, is generated from them: its capabilities are the declared actions.
DECLARATIONS_FILE = "connectors/tecrax_ansible/actions.yaml"
CONTRACT_FILE = "connectors/tecrax_ansible.yaml"
CONTRACT_KEYS = ("name", "backend", "description", "modes")
CONTRACT_NOTE = (
    "RExecOp reads this contract (three times per run, with PyYAML's pure-Python loader), so it "
    "holds only what RExecOp uses: name, backend, description, modes, and the actions as "
    "capabilities. The actions themselves, their inputs and their intents are declared in "
    "tecrax_ansible/actions.yaml beside it, which only the backend and the generators read; the "
    "backend refuses a profile where the capabilities and the declared actions differ."
)
READ_ONLY_MODES = ["read_only", "observe", "dry_run"]
# A timeout is final: the module already ended what hung at its budget, and a retry would
# double the step's time (docs/architecture.md, "Timeouts"). A lost connection is retried.
RETRY = {
    "max_attempts": 1,
    "allowed_on": ["transient_connector_error"],
    "blocked_on": ["timeout", "policy_denied", "auth_failed", "validation_failed", "unsupported"],
}
# What a passing intent asserts about its facts, and the default suffixes of its rule ids.
# `recorded`: schema-valid facts of the action's own contract were recorded, whatever they say
# (a diagnosis whose components fail still passes); None stands for that contract id.
CONDITIONS = {
    "healthy": ("assessment.state", "healthy", ("healthy", "not_healthy")),
    "complete": ("coverage.state", "complete", ("complete", "incomplete")),
    "recorded": ("contract.id", None, ("recorded", "not_recorded")),
}
INTENT_KEYS = {"id", "step", "passes_when", "rules", "title", "summary", "workflow", "target_kinds",
               "capability", "runbook", "note", "about", "workflow_note", "playbook", "reaction_observation"}
# An intent whose facts feed RExecOp's reactions (``reaction_observation: true``): its workflow
# records the SCLite observation envelope after the facts lift, and the intent declares it.
OBSERVATION_STEP = "record_reaction_observation"
REQUIRED_KEYS = {"id", "step", "passes_when", "title", "summary", "workflow", "target_kinds", "capability", "runbook"}


class DeclarationError(ValueError):
    """An action's intent declaration is malformed."""


def connector_declarations(profile: Path = PROFILE) -> Mapping[str, Any]:
    """The connector's ``actions``, ``inputs`` and ``secret_inputs``, as declared."""
    return yaml.safe_load((profile / DECLARATIONS_FILE).read_text(encoding="utf-8"))


def declarations(profile: Path = PROFILE) -> dict[str, tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
    """``{intent id: (action name, action spec, intent block)}`` for every declared intent."""
    found: dict[str, tuple[str, Mapping[str, Any], Mapping[str, Any]]] = {}
    for action, spec in connector_declarations(profile)["actions"].items():
        intent = spec.get("intent")
        if intent is None:
            continue
        if not isinstance(intent, Mapping):
            raise DeclarationError(f"action {action}: intent must be a mapping")
        unknown, missing = set(intent) - INTENT_KEYS, REQUIRED_KEYS - set(intent)
        if unknown or missing:
            raise DeclarationError(f"action {action}: intent has unknown keys {sorted(unknown)}"
                                   f" or lacks {sorted(missing)}")
        if intent["passes_when"] not in CONDITIONS:
            raise DeclarationError(f"action {action}: passes_when must be one of {sorted(CONDITIONS)}")
        if intent.get("playbook", "hand-written") != "hand-written":
            raise DeclarationError(f"action {action}: playbook may only be 'hand-written' (generated when absent)")
        if not isinstance(intent.get("reaction_observation", False), bool):
            raise DeclarationError(f"action {action}: reaction_observation must be true or false")
        if spec.get("mutating"):
            raise DeclarationError(f"action {action}: a mutating action cannot declare a read-only intent")
        if intent["id"] in found:
            raise DeclarationError(f"intent {intent['id']} is declared by two actions")
        found[intent["id"]] = (action, spec, intent)
    return found


def _contract(profile: Path) -> dict[str, Any]:
    declared = connector_declarations(profile)
    contract = declared.get("contract")
    if not isinstance(contract, Mapping) or set(contract) != set(CONTRACT_KEYS):
        raise DeclarationError(f"{DECLARATIONS_FILE}: contract must have exactly the keys {list(CONTRACT_KEYS)}")
    return {"connector": {**{key: contract[key] for key in CONTRACT_KEYS},
                          "capabilities": list(declared["actions"])}}


def rendered(profile: Path = PROFILE) -> dict[Path, str]:
    """Every generated file (relative to the profile root) and its text."""
    files: dict[Path, str] = {
        Path(CONTRACT_FILE): _document(
            f"Generated by scripts/generate_profile.py from {DECLARATIONS_FILE}; do not edit.\n",
            CONTRACT_NOTE, _contract(profile)),
    }
    for intent_id, (action, spec, intent) in declarations(profile).items():
        origin = f"Generated by scripts/generate_profile.py from action `{action}` of {DECLARATIONS_FILE}; do not edit.\n"
        files[Path("intents") / f"{intent_id}.yaml"] = _document(origin, intent.get("about"), _intent(intent_id, spec, intent))
        files[Path("workflows") / f"{intent_id}.yaml"] = _document(
            origin, intent.get("workflow_note"), _workflow(intent_id, action, spec, intent))
        files[Path("validation_rules") / f"{intent_id}.yaml"] = _document(
            origin, intent.get("note"), _validation_rule(intent_id, spec, intent))
    return files


def _intent(intent_id: str, spec: Mapping[str, Any], intent: Mapping[str, Any]) -> dict[str, Any]:
    observation = {"reaction_observation": {
        "shared_state_key": "reaction_observation",
        "schema_ref": "schemas/observation_envelope.v0.1.schema.json",
        "source_intent": intent_id,
        "producer_step": OBSERVATION_STEP,
        "requires_completed_operation": True,
    }} if intent.get("reaction_observation") else {}
    return {"intent": {
        "id": intent_id,
        "workflow": f"workflows/{intent_id}.yaml",
        "risk": "low",
        "enforce_declared_modes": True,
        "modes": READ_ONLY_MODES,
        "facts_contract": f"{spec['facts_contract']}@1.0",
        **observation,
        "catalog": {
            "title": intent["title"],
            "summary": intent["summary"],
            "target_kinds": list(intent["target_kinds"]),
            "required_capabilities": [intent["capability"]],
            "side_effect_class": "none",
            "validation_ref": f"validation_rules/{intent_id}.yaml",
            "runbook_ref": intent["runbook"],
        },
    }}


def _workflow(intent_id: str, action: str, spec: Mapping[str, Any], intent: Mapping[str, Any]) -> dict[str, Any]:
    return {"workflow": {
        "id": f"tecrax.{intent_id}",
        "intent": intent_id,
        "mode": "read_only",
        "risk": "low",
        "description": intent["workflow"],
        "steps": [
            {"id": intent["step"], "type": "connector", "connector": "tecrax_ansible", "action": action,
             "pause_safe": True},
            {"id": f"lift_{spec['facts_key']}_facts", "type": "internal", "action": "tecrax_lift_facts",
             "pause_safe": True},
            *([{"id": OBSERVATION_STEP, "type": "internal", "action": "tecrax_reaction_observation",
                "pause_safe": True}] if intent.get("reaction_observation") else []),
            {"id": "produce_receipt", "type": "evidence", "action": "produce_receipt", "pause_safe": True},
        ],
        "retry": RETRY,
    }}


def condition(spec: Mapping[str, Any], intent: Mapping[str, Any]) -> tuple[str, str, tuple[str, str]]:
    """The facts path a passing intent's rule checks, the value it must have, and the default
    suffixes of the pass and fail rule ids."""
    path, value, default_rules = CONDITIONS[intent["passes_when"]]
    return path, spec["facts_contract"] if value is None else value, default_rules


def _validation_rule(intent_id: str, spec: Mapping[str, Any], intent: Mapping[str, Any]) -> dict[str, Any]:
    key = spec["facts_key"]
    path, value, default_rules = condition(spec, intent)
    pass_rule, fail_rule = intent.get("rules") or default_rules
    return {"validation_rule": {
        "intent": intent_id,
        "steps": [
            {"type": "require_mapping", "key": key, "fail": {
                "rule": f"{intent_id}.facts_required",
                "details": {"reason": f"no schema-valid {key} facts were recorded"}}},
            {"type": "require_equals", "path": f"{key}.{path}", "value": value,
             "pass_rule": f"{intent_id}.{pass_rule}", "fail_rule": f"{intent_id}.{fail_rule}",
             "details_from": key},
        ],
    }}


class _IndentedDumper(yaml.SafeDumper):
    """Indents block sequences under their key, as the hand-written profile files do."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def _document(origin: str, prose: str | None, data: Mapping[str, Any]) -> str:
    lines = textwrap.wrap(origin, 94) + (textwrap.wrap(" ".join(prose.split()), 94) if prose else [])
    header = "".join(f"# {line}\n" for line in lines)
    return header + yaml.dump(dict(data), Dumper=_IndentedDumper, sort_keys=False, width=100, allow_unicode=False)


GENERATOR = generated_files.Generator("generate_profile", PROFILE, rendered, (DeclarationError,))
stale, main = GENERATOR.stale, GENERATOR.main

if __name__ == "__main__":
    sys.exit(main())
