"""Every step of an apply-mode operation needs an approval record naming an approver, found
through RExecOp's own store; read-only modes need none. A refusal is policy_denied, says why,
and comes before any Ansible process starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rexecop.connectors import ConnectorRequest
from unit.backend_config import ssh_config
from unit.rexecop_step import OPERATION_ID, OperationSteps

from tecrax.backend import build_backend
from tecrax.backend import runtime as backend_runtime
from tecrax.backend.playbook_run import HostOutcome, PlaybookRun

CONFIG = ssh_config({"ntp-1": {"host": "198.51.100.7", "allowed_subnets": ["10.20.0.0/16"]}}, user="root")
REFUSAL_TAIL = "; an apply runs only after rexecop approve --operation <id> --by <name>"


@pytest.fixture
def playbook_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def run_playbook(**kwargs: Any) -> PlaybookRun:
        calls.append(kwargs)
        return PlaybookRun("failed", 2, 0.1, {"ntp-1": HostOutcome("failed", {"msg": "stand-in"})})

    monkeypatch.setattr(backend_runtime, "run_playbook", run_playbook)
    return calls


@pytest.fixture
def steps(tmp_path: Path) -> OperationSteps:
    return OperationSteps(tmp_path / "rexecop")


def request(action: str = "chrony_ntp_server_apply", mode: str = "apply") -> ConnectorRequest:
    return ConnectorRequest("tecrax_ansible", action, "ntp-1", mode, {})


def backend() -> Any:
    return build_backend(connector_name="tecrax_ansible", config=CONFIG, mutating_allowed=True)


@pytest.mark.parametrize("action", ["chrony_ntp_server_read", "chrony_ntp_server_apply", "chrony_ntp_server_rollback"])
def test_a_named_approver_lets_every_step_of_the_apply_run(steps: OperationSteps, playbook_runs: list[Any],
                                                           action: str) -> None:
    steps.approve("alice")
    response = steps.invoke(backend(), request(action))
    assert response.error == "module failed on ntp-1: stand-in"  # it got as far as Ansible
    assert len(playbook_runs) == 1


@pytest.mark.parametrize(
    ("approve", "reason"),
    [
        pytest.param(None, "RExecOp holds no approval record for the operation", id="no-record"),
        pytest.param({"approved_by": ""}, "the approval record names no approver (rexecop approve --by was empty)",
                     id="empty-by"),
        pytest.param({"approved_by": " \t "}, "the approval record names no approver (rexecop approve --by was empty)",
                     id="blank-by"),
        pytest.param({"approved_by": "alice", "record_for": "op-20261201-120000-ffffff"},
                     "the approval record does not belong to the operation", id="other-operation"),
    ],
)
@pytest.mark.parametrize("action", ["chrony_ntp_server_read", "chrony_ntp_server_apply"])
def test_an_apply_without_a_named_approver_is_refused_before_ansible(
    steps: OperationSteps, playbook_runs: list[Any], approve: Any, reason: str, action: str
) -> None:
    if approve is not None:
        steps.approve(**approve)
    response = steps.invoke(backend(), request(action))
    assert not response.success
    assert response.data["error_class"] == "policy_denied"
    assert response.error == f"apply step {action} refused: {reason}{REFUSAL_TAIL}"
    assert playbook_runs == []


def test_an_approval_of_another_operation_does_not_count(steps: OperationSteps, playbook_runs: list[Any]) -> None:
    steps.approve("alice", "op-20261201-120000-ffffff")
    response = steps.invoke(backend(), request(), OPERATION_ID)
    assert response.data["error_class"] == "policy_denied"
    assert "RExecOp holds no approval record for the operation" in response.error
    assert playbook_runs == []


def test_a_call_from_outside_an_rexecop_operation_is_refused(playbook_runs: list[Any]) -> None:
    response = backend().invoke(request())
    assert response.data["error_class"] == "policy_denied"
    assert response.error == (
        f"apply step chrony_ntp_server_apply refused: the step does not run inside an RExecOp operation{REFUSAL_TAIL}")
    assert playbook_runs == []


def test_an_operation_id_that_is_not_rexecops_is_not_looked_up(steps: OperationSteps,
                                                               playbook_runs: list[Any]) -> None:
    steps.approve("alice", "op-20261201-120000-0a1b2c")
    response = steps.invoke(backend(), request(), "../approvals/op-20261201-120000-0a1b2c")
    assert response.data["error_class"] == "policy_denied"
    assert "the operation id is not one RExecOp issues" in response.error
    assert playbook_runs == []


@pytest.mark.parametrize("mode", ["dry_run", "observe", "read_only", "emergency_readonly"])
def test_read_only_steps_need_no_approval(playbook_runs: list[Any], mode: str) -> None:
    response = backend().invoke(request("chrony_ntp_server_plan", mode))
    assert response.error == "module failed on ntp-1: stand-in"
    assert len(playbook_runs) == 1
