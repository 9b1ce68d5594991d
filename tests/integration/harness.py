"""Run intents through the real RExecOp / GovEngine / SCLite stack against lab hosts.

Environments are written per test from the lab's hosts; operations are planned and started
with the installed ``rexecop`` command (the same entry points an operator uses), and the
results are read back from RExecOp's own store and SCLite bundle.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tecrax.evidence import Check, verify_bundle

IDENTITY_REF = "lab_ssh_identity"
READ_ONLY_INTENTS_RULE = "allow-read-operations"
HOST_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "environments" / "ubuntu-host.readonly.example.yaml"


@dataclass(frozen=True)
class LabTarget:
    """What an environment needs to know about one lab host."""

    name: str
    address: str
    port: int = 22


def allow_read_policy(intents: Iterable[str] | None = None) -> dict[str, Any]:
    """A policy admitting read-only operations (all, or only ``intents``) and our connector."""
    selected = list(intents) if intents is not None else [None]
    rules = [operation_rule(f"{READ_ONLY_INTENTS_RULE}-{intent or 'all'}".replace("_", "-"), "read",
                            "read_operation_allowed", intent) for intent in selected]
    rules.append(connector_rule())
    return {"policy_id": "tecrax-lab-test", "version": "2026-11-25", "rules": rules}


def example_policy() -> dict[str, Any]:
    """The read-only host example's policy as shipped: the diagnosis with obligations, its
    components' re-checks plainly allowed (what RExecOp needs to plan them as reactions)."""
    return dict(yaml.safe_load(HOST_EXAMPLE.read_text(encoding="utf-8"))["environment"]["policy_pack"])


def operation_rule(rule_id: str, mode: str, reason_code: str, intent: str | None = None) -> dict[str, Any]:
    """Admit operations in ``mode`` (of ``intent`` only, when given), with a receipt and output digests."""
    conditions: dict[str, Any] = {"action.category": "operation", "action.mode": mode}
    if intent:
        conditions["action.intent"] = intent
    return {
        "rule_id": rule_id,
        "effect": "allow_with_obligations",
        "conditions": conditions,
        "reason_code": reason_code,
        "obligations": [
            {"obligation_id": "receipt", "kind": "receipt"},
            {"obligation_id": "output-digests", "kind": "output_digest_required"},
        ],
    }


def connector_rule(mode: str = "read") -> dict[str, Any]:
    return {
        "rule_id": f"allow-tecrax-ansible-{mode}",
        "effect": "allow",
        "conditions": {
            "action.category": "connector",
            "action.mode": mode,
            "action.backend": "tecrax_ansible",
            "action.connector": "tecrax_ansible",
        },
        "reason_code": "fixed_module_allowed",
    }


def deny_rule(intent: str) -> dict[str, Any]:
    return {
        "rule_id": f"deny-{intent}".replace("_", "-"),
        "effect": "deny",
        "conditions": {"action.category": "operation", "action.intent": intent},
        "reason_code": "operator_denied",
    }


def write_environment(
    path: Path,
    targets: Sequence[LabTarget],
    *,
    known_hosts: Path,
    policy: Mapping[str, Any] | None = None,
    connector: Mapping[str, Any] | None = None,
    env_id: str = "tecrax-lab",
    groups: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    """Write an RExecOp environment for ``targets`` reached over SSH as root; ``groups``
    adds group targets ``{name: members}``."""
    connector_config: dict[str, Any] = {
        "enabled": True,
        "backend": "tecrax_ansible",
        "connection": "ssh",
        "user": "root",
        "known_hosts_file": str(known_hosts),
        "identity_file_secret_ref": IDENTITY_REF,
        "python_interpreter": "/usr/bin/python3",
        "timeout_seconds": 60,
        "max_output_bytes": 65536,
        "inventory": {t.name: {"host": t.address, "port": t.port} for t in targets},
    }
    connector_config.update(connector or {})
    document = {
        "environment": {
            "id": env_id,
            "description": "Lab hosts booted by the test suite.",
            "profile": "tecrax",
            "targets": {
                **{t.name: {"type": "host", "criticality": "low"} for t in targets},
                **{name: {"type": "group", "members": list(members), "criticality": "low"}
                   for name, members in (groups or {}).items()},
            },
            "connectors": {"tecrax_ansible": connector_config},
            "safety": {
                "default_mode": "observe",
                "apply_requires_govengine": True,
                "secrets_source": "external",
                "max_concurrent_operations": 1,
                "target_lock_enabled": True,
            },
            "policy_pack": dict(policy or allow_read_policy()),
        }
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def write_catalog(path: Path, environment: Path, targets: Sequence[LabTarget], capabilities: Sequence[str]) -> Path:
    """Write an RExecOp target catalog (version 0.1) binding ``targets`` to ``environment``."""
    document = {
        "target_catalog": {
            "version": "0.1",
            "targets": [
                {
                    "id": target.name,
                    "target_kind": "host",
                    "profile_ref": "tecrax",
                    "environment_ref": str(environment),
                    "environment_target": target.name,
                    "capabilities": list(capabilities),
                    "connector_refs": ["tecrax_ansible"],
                    "classification": {"site": "lab"},
                }
                for target in targets
            ],
        }
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll until ``condition()`` is true; fail naming ``what`` after ``timeout`` seconds.
    (A bound on waiting for a state, not an assertion on how long anything took.)"""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class PlanRefused(Exception):
    """``rexecop plan`` exited non-zero; the message is its error line."""


@dataclass
class Outcome:
    operation_id: str
    state: str
    validation: Mapping[str, Any]
    facts: Mapping[str, Any]
    step_results: Mapping[str, Any]
    last_failure: Mapping[str, Any] | None
    runtime_receipt: Mapping[str, Any]
    evidence_checks: list[Check] = field(default_factory=list)

    @property
    def validation_passed(self) -> bool:
        return bool(self.validation.get("passed"))

    @property
    def evidence_verified(self) -> bool:
        return bool(self.evidence_checks) and all(check.passed for check in self.evidence_checks)

    def step_data(self, step_id: str) -> Mapping[str, Any]:
        result = self.step_results.get(step_id) or {}
        output = result.get("output") or {}
        return output.get("data") or {}


class Governed:
    """One RExecOp runtime root; every call runs the real ``rexecop`` command."""

    def __init__(self, root: Path, identity_file: Path) -> None:
        self.root = root
        self.env = {
            **os.environ,
            f"REXECOP_SECRET_{IDENTITY_REF.upper()}": str(identity_file),
        }

    def rexecop(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        rexecop = Path(sys.executable).with_name("rexecop")
        completed = subprocess.run(
            [str(rexecop), "--root", str(self.root), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=600,
            check=False,
        )
        if check and completed.returncode != 0:
            raise AssertionError(
                f"rexecop {' '.join(args)} exited {completed.returncode}: "
                f"{completed.stderr.strip() or completed.stdout.strip()}"
            )
        return completed

    def plan(self, env: Path, intent: str, target: str, mode: str = "observe", options: Sequence[str] = ()) -> str:
        completed = self.rexecop(
            "plan", "--profile", "tecrax", "--env", str(env),
            "--intent", intent, "--target", target, "--mode", mode, *options,
            check=False,
        )
        if completed.returncode != 0:
            raise PlanRefused((completed.stderr or completed.stdout).strip())
        return completed.stdout.strip().splitlines()[-1]

    def start(self, operation_id: str) -> str:
        completed = self.rexecop("start", "--operation", operation_id, check=False)
        if completed.returncode != 0:
            return "start_refused: " + (completed.stderr or completed.stdout).strip()
        return str(json.loads(completed.stdout)["state"])

    def run(self, env: Path, intent: str, target: str, mode: str = "observe", options: Sequence[str] = ()) -> Outcome:
        operation_id = self.plan(env, intent, target, mode, options)
        self.start(operation_id)
        return self.outcome(operation_id)

    def outcome(self, operation_id: str) -> Outcome:
        record = json.loads((self.root / "operations" / f"{operation_id}.json").read_text())
        metadata = record.get("metadata") or {}
        shared = metadata.get("shared_state") or {}
        lifted = shared.get("lifted_facts") or {}
        return Outcome(
            operation_id=operation_id,
            state=str(record["state"]),
            validation=metadata.get("validation") or {},
            facts={key: shared[key] for key in lifted if key in shared},
            step_results=metadata.get("step_results") or {},
            last_failure=metadata.get("last_failure"),
            runtime_receipt=shared.get("execution_receipt") or {},
            evidence_checks=verify_bundle(self.root / "sclite" / operation_id),
        )
