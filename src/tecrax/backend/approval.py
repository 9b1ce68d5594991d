"""Who approved the operation a connector step belongs to, read from RExecOp's own store.

RExecOp 0.2.16a0 decides ``mutating_allowed`` from the operation record's ``state`` and
``govengine_decision_type``, a plain JSON file under ``<root>/operations/``: editing it to
``approved`` / ``allowed`` lets ``rexecop start`` run an apply that nobody approved. The
approval record that ``rexecop approve --by NAME`` writes is kept apart from it (read through
the store's ``load_approval``), but a backend is handed neither the operation id nor the
store: a ``ConnectorRequest`` carries connector, action, target, mode and execution controls
only. Both are found in the live call that invokes the backend: the step's
``StepExecutionContext`` (operation id, target, mode, step) and, further up, the RExecOp
controller or orchestrator (``self.store``) running the step. Nothing found is no approval.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rexecop.connectors import ConnectorRequest

# RExecOp's operation ids (op-<date>-<time>-<hex>); anything else is not looked up as a file name.
_OPERATION_ID = re.compile(r"^op-[0-9A-Za-z][0-9A-Za-z_-]{0,63}$")


@dataclass(frozen=True)
class ApprovalCheck:
    """The operation the step belongs to and its named approver (``None``: not approved)."""

    operation_id: str | None
    approver: str | None
    reason: str


def approval_of_running_operation(request: ConnectorRequest) -> ApprovalCheck:
    """The approval of the RExecOp operation whose step is calling the backend right now."""
    context, store = _running_step(request)
    if context is None or store is None:
        return ApprovalCheck(None, None, "the step does not run inside an RExecOp operation")
    operation_id = str(context.operation_id)
    if not _OPERATION_ID.fullmatch(operation_id):
        return ApprovalCheck(None, None, "the operation id is not one RExecOp issues")
    try:
        record = store.load_approval(operation_id)
    except Exception:  # noqa: BLE001 - a missing or unreadable record is no approval
        return ApprovalCheck(operation_id, None, "RExecOp holds no approval record for the operation")
    return ApprovalCheck(operation_id, *_named_approver(record, operation_id))


@dataclass(frozen=True)
class RunningOperation:
    """The RExecOp operation a step belongs to: its record, its store and the step's shared
    state, found the same way as the approval."""

    operation_id: str
    record: Any
    store: Any
    step: Mapping[str, Any]
    shared_state: Mapping[str, Any]


def running_operation(request: ConnectorRequest) -> RunningOperation | None:
    """The operation whose step is calling the backend right now; ``None`` outside one."""
    context, store = _running_step(request)
    if context is None or store is None or not _OPERATION_ID.fullmatch(str(context.operation_id)):
        return None
    try:
        record = store.load_operation(str(context.operation_id))
    except Exception:  # noqa: BLE001 - no record is no operation
        return None
    step = context.step if isinstance(context.step, Mapping) else {}
    shared = context.shared_state if isinstance(context.shared_state, Mapping) else {}
    return RunningOperation(str(context.operation_id), record, store, step, shared)


def _named_approver(record: Any, operation_id: str) -> tuple[str | None, str]:
    if not isinstance(record, Mapping) or record.get("operation_id") != operation_id:
        return None, "the approval record does not belong to the operation"
    approver = record.get("approved_by")
    if not isinstance(approver, str) or not approver.strip():
        return None, "the approval record names no approver (rexecop approve --by was empty)"
    return approver.strip(), "approved"


def _running_step(request: ConnectorRequest) -> tuple[Any, Any]:
    """(StepExecutionContext of this request, the RExecOp store above it) from the call stack."""
    from rexecop.execution.backend import StepExecutionContext

    context = None
    frame = inspect.currentframe()
    try:
        while frame is not None:
            if context is None:
                context = next((value for value in frame.f_locals.values()
                                if isinstance(value, StepExecutionContext) and _is_for(value, request)), None)
            else:
                store = getattr(frame.f_locals.get("self"), "store", None)
                if callable(getattr(store, "load_approval", None)):
                    return context, store
            frame = frame.f_back
    finally:
        del frame
    return context, None


def _is_for(context: Any, request: ConnectorRequest) -> bool:
    step = context.step if isinstance(context.step, Mapping) else {}
    return (
        context.target == request.target
        and context.mode == request.mode
        and step.get("action") == request.action
        and step.get("connector") == request.connector
    )
