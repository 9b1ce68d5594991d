"""Drive one RExecOp operation (plan, approval state, start, validation) in-process.

RExecOp owns the lifecycle: this module only calls its controller and reads back what it
recorded. It is the one place that touches RExecOp's operation API, so a move to the 1.x
line changes this file and nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from tecrax import profile_root
from tecrax.evidence import Check, sclite_bundle_dir, verify_bundle

DEFAULT_TARGET = "local"
# RExecOp's states from which an operation may be cancelled.
CANCELLABLE_STATES = frozenset({"waiting_for_approval", "approved", "running", "paused"})
READ_ONLY_ALIAS = {"read_only": "observe"}
# RExecOp's modes that may change a target (GovEngine admission and approval apply).
MUTATING_MODES = frozenset({"apply", "recovery"})


class OperationError(Exception):
    """RExecOp refused a request; the message is RExecOp's own, one line."""


@dataclass(frozen=True)
class RunRequest:
    intent: str
    target: str
    mode: str
    environment: Path | None
    catalog: Path | None


@dataclass
class RunReport:
    operation_id: str
    intent: str
    target: str
    mode: str
    state: str
    validation_passed: bool | None
    validation_rules: list[str]
    failure: Mapping[str, Any] | None
    facts: Mapping[str, Mapping[str, Any]]
    evidence_dir: Path
    evidence_checks: list[Check] = field(default_factory=list)
    # Over a group target: one row per member (result, coverage, assessment, passed, error).
    hosts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.state == "completed" and bool(self.validation_passed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "operation_id": self.operation_id,
            "intent": self.intent,
            "target": self.target,
            "mode": self.mode,
            "state": self.state,
            "validation": {"passed": self.validation_passed, "rules": self.validation_rules},
            "failure": dict(self.failure) if self.failure else None,
            "facts": {key: dict(value) for key, value in self.facts.items()},
            "hosts": {member: dict(row) for member, row in self.hosts.items()},
            "evidence": {
                "dir": str(self.evidence_dir),
                "verified": all(check.passed for check in self.evidence_checks)
                if self.evidence_checks
                else None,
                "checks": {check.name: check.passed for check in self.evidence_checks},
            },
        }


def default_environment() -> Path:
    """The built-in environment: this machine over ``connection: local``, read-only policy."""
    return Path(str(resources.files("tecrax") / "defaults" / "local.environment.yaml"))


def runtime_root(explicit: str | None) -> Path:
    return Path(explicit or os.environ.get("REXECOP_ROOT") or ".rexecop").resolve()


def intent_modes(intent: str) -> list[str]:
    path = Path(profile_root()) / "intents" / f"{intent}.yaml"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OperationError(f"unknown intent: {intent} (see `tecrax intents`)") from None
    return [str(mode) for mode in document["intent"].get("modes", [])]


def intent_risk(intent: str) -> str:
    path = Path(profile_root()) / "intents" / f"{intent}.yaml"
    try:
        return str(yaml.safe_load(path.read_text(encoding="utf-8"))["intent"].get("risk") or "low")
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError):
        raise OperationError(f"unknown intent: {intent} (see `tecrax intents`)") from None


def known_intents() -> list[str]:
    return sorted(path.stem for path in (Path(profile_root()) / "intents").glob("*.yaml"))


def choose_mode(intent: str, requested: str | None) -> str:
    """RExecOp has no ``read_only`` operation mode; read-only runs use ``observe``."""
    modes = intent_modes(intent)
    if requested:
        mode = READ_ONLY_ALIAS.get(requested, requested)
        if mode not in modes:
            raise OperationError(f"intent {intent} does not declare mode {requested} (declared: {', '.join(modes)})")
        return mode
    for preferred in ("observe", "apply", "dry_run"):
        if preferred in modes:
            return preferred
    return modes[0]


class Operations:
    def __init__(self, root: Path) -> None:
        from rexecop.operation.controller import OperationController
        from rexecop.storage.factory import create_store

        self.root = root
        self._controller = OperationController(store=create_store(root))

    def plan(self, request: RunRequest) -> str:
        from rexecop.errors import RExecOpError

        try:
            operation = self._controller.plan(
                profile_path=None if request.catalog else "tecrax",
                environment_path=request.environment,
                intent=request.intent,
                target=request.target,
                mode=request.mode,
                catalog_path=request.catalog,
                auto_react=None,
            )
        except RExecOpError as exc:
            raise OperationError(_one_line(exc)) from None
        return str(operation.id)

    def state(self, operation_id: str) -> str:
        return str(self._controller.get_operation(operation_id).state)

    def approve(self, operation_id: str, approved_by: str) -> str:
        """Approve as ``approved_by``, a name: RExecOp itself records an empty one, which the
        backend then refuses as no approval."""
        from rexecop.errors import RExecOpError

        if not approved_by.strip():
            raise OperationError("an approval needs the approver's name; an empty or blank name approves nothing")
        try:
            return str(self._controller.approve(operation_id, approved_by=approved_by.strip()).state)
        except RExecOpError as exc:
            raise OperationError(_one_line(exc)) from None

    def start(self, operation_id: str, on_progress: Callable[[Mapping[str, Any]], None] | None) -> str:
        from rexecop.errors import RExecOpError

        from tecrax.backend import progress

        progress.set_listener(on_progress)
        try:
            return str(self._controller.start(operation_id).state)
        except RExecOpError as exc:
            raise OperationError(_one_line(exc)) from None
        finally:
            progress.set_listener(None)

    def interrupt(self, operation_id: str) -> str:
        """Cancel an operation a signal stopped mid-run and export its receipt (SCLite records
        a cancelled operation as interrupted); return the final state."""
        from rexecop.errors import RExecOpError

        if self.state(operation_id) in CANCELLABLE_STATES:
            try:
                self._controller.cancel(operation_id)
                self._controller.export_receipt(operation_id)
            except RExecOpError as exc:
                raise OperationError(_one_line(exc)) from None
        return self.state(operation_id)

    def report(self, operation_id: str, *, verify: bool = True) -> RunReport:
        operation = self._controller.get_operation(operation_id)
        metadata = operation.metadata if isinstance(operation.metadata, dict) else {}
        validation = metadata.get("validation") if isinstance(metadata.get("validation"), dict) else {}
        shared = metadata.get("shared_state") if isinstance(metadata.get("shared_state"), dict) else {}
        lifted = shared.get("lifted_facts") if isinstance(shared.get("lifted_facts"), dict) else {}
        bundle = sclite_bundle_dir(self.root, operation_id)
        facts = {key: shared[key] for key in lifted if isinstance(shared.get(key), dict)}
        return RunReport(
            operation_id=operation_id,
            intent=str(operation.intent),
            target=str(operation.target),
            mode=str(operation.mode),
            state=str(operation.state),
            validation_passed=validation.get("passed") if validation else None,
            validation_rules=_rule_ids(validation),
            failure=metadata.get("last_failure") if operation.state != "completed" else None,
            facts=facts,
            evidence_dir=bundle,
            evidence_checks=verify_bundle(bundle) if verify and bundle.is_dir() else [],
            hosts=_group_rows(str(operation.intent), facts) or _failed_group_step_rows(metadata),
        )


def _group_rows(intent: str, facts: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The members' rows of a group summary, each with ``passed``: whether the member meets
    the condition the intent's validation rule puts on the summary."""
    from tecrax.group_summary import CONTRACT

    for key, summary in facts.items():
        if summary.get("contract") != CONTRACT or not isinstance(summary.get("hosts"), Mapping):
            continue
        condition = _pass_condition(intent, key)
        return {
            member: {**row, "passed": condition is not None and row.get(condition[0]) == condition[1]}
            for member, row in summary["hosts"].items()
        }
    return {}


def _failed_group_step_rows(metadata: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The members' rows of a group step that failed (a mutation stops at its first failing
    member; nothing is lifted then): passed is whether the member's own step succeeded."""
    from tecrax.group_summary import group_summary, is_group_step

    failure = metadata.get("last_failure") if isinstance(metadata.get("last_failure"), Mapping) else {}
    results = metadata.get("step_results") if isinstance(metadata.get("step_results"), Mapping) else {}
    result = results.get(failure.get("step_id")) if failure else None
    output = result.get("output") if isinstance(result, Mapping) else None
    data = output.get("data") if isinstance(output, Mapping) else None
    if not isinstance(data, Mapping) or not is_group_step(data):
        return {}
    return {member: {**row, "passed": row["result"] == "ok"} for member, row in group_summary(data)["hosts"].items()}


def _pass_condition(intent: str, facts_key: str) -> tuple[str, Any] | None:
    """(``coverage`` or ``assessment``, required state) from the rule's ``require_equals`` on
    ``<facts_key>.<field>.state``."""
    path = Path(profile_root()) / "validation_rules" / f"{intent}.yaml"
    try:
        rule = yaml.safe_load(path.read_text(encoding="utf-8"))["validation_rule"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None
    for step in rule.get("steps") or []:
        parts = str(step.get("path") or "").split(".") if isinstance(step, Mapping) else []
        if step.get("type") == "require_equals" and len(parts) == 3 and parts[0] == facts_key and parts[2] == "state":
            return parts[1], step.get("value")
    return None


def _rule_ids(validation: Mapping[str, Any]) -> list[str]:
    rule = validation.get("rule")
    return [f"{rule}: {'pass' if validation.get('passed') else 'fail'}"] if rule else []


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:400]
