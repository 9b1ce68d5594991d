"""Call a connector backend the way RExecOp 0.2.16a0 does: as one step of an operation,
through its real StepExecutor, called by an object that holds the runtime store (as RExecOp's
orchestrator and controller do). The backend's approval lookup finds the operation id and
the store there; ``approve`` writes the record ``rexecop approve --by NAME`` writes."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from rexecop.connectors import ConnectorRequest, ConnectorResponse
from rexecop.connectors.runtime import ConnectorDispatcher
from rexecop.execution.backend import StepExecutionContext
from rexecop.execution.executor import StepExecutor

OPERATION_ID = "op-20261201-120000-0a1b2c"


class _Kept:
    """Passes requests to the backend and keeps its response (the executor reshapes it)."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.response: ConnectorResponse | None = None

    def invoke(self, request: ConnectorRequest) -> ConnectorResponse:
        self.response = self.backend.invoke(request)
        return self.response


class OperationSteps:
    def __init__(self, root: Path) -> None:
        # The controller's own name for it: importing rexecop.storage.factory first fails
        # on a circular import inside RExecOp 0.2.16a0.
        from rexecop.operation.controller import create_store

        self.store = create_store(root, backend="file")

    def approve(self, approved_by: str, operation_id: str = OPERATION_ID, *, record_for: str | None = None) -> None:
        self.store.save_approval(operation_id, {
            "operation_id": record_for or operation_id,
            "approved_by": approved_by,
            "approved_at": "2026-12-01T12:00:00Z",
            "govengine_decision_type": "approval_required",
        })

    def record(self, *, intent: str, target: str, mode: str, environment: Path, policy_pack: dict[str, Any],
               risk: str = "low", operation_id: str = OPERATION_ID) -> None:
        """Save the operation and plan records RExecOp's plan writes (the fields the backend reads)."""
        from rexecop.operation.model import Operation
        from rexecop.operation.plan import OperationPlan

        self.store.save_operation(Operation(
            id=operation_id, profile="tecrax", environment="unit", intent=intent, target=target, mode=mode,
            requested_by="operator", state="running", created_at="2026-12-01T12:00:00Z",
            updated_at="2026-12-01T12:00:00Z",
            metadata={"environment_path": str(environment), "policy_pack": policy_pack}))
        self.store.save_plan(OperationPlan(
            operation_id=operation_id, profile="tecrax", environment="unit", intent=intent, target=target, mode=mode,
            workflow={}, planned_steps=[], required_connectors=[], risk=risk, govengine_request_preview={},
            expected_evidence=[], pause_safe_points=[], retry_policy_summary={}, rollback_available=False))

    def invoke(self, backend: Any, request: ConnectorRequest, operation_id: str = OPERATION_ID, *,
               step_metadata: dict[str, Any] | None = None,
               shared_state: dict[str, Any] | None = None) -> ConnectorResponse:
        kept = _Kept(backend)
        step = {"id": "step", "type": "connector", "connector": request.connector, "action": request.action,
                "metadata": step_metadata or {}}
        context = StepExecutionContext(operation_id=operation_id, target=request.target, mode=request.mode,
                                       step=step, shared_state=dict(shared_state or {}))
        StepExecutor(ConnectorDispatcher(kept)).execute(context)
        assert kept.response is not None, "the executor did not call the backend"
        return kept.response


def invoke_approved(backend: Any, request: ConnectorRequest, approved_by: str = "lab-operator") -> ConnectorResponse:
    """``request`` as a step of an operation that ``approved_by`` approved."""
    with tempfile.TemporaryDirectory(prefix="tecrax-rexecop-") as root:
        steps = OperationSteps(Path(root))
        steps.approve(approved_by)
        return steps.invoke(backend, request)
