"""Timeouts on the backend side: the module budget under the step timeout, how a timed-out
module, a runner timeout and a lost connection are classified, and a real local run whose
module ends a hung command itself."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from rexecop.connectors import ConnectorRequest

import tecrax
from tecrax.backend import build_backend
from tecrax.backend import runtime as backend_runtime
from tecrax.backend.playbook_run import BUDGET_VARIABLE, HostOutcome, PlaybookRun, module_budget_seconds
from unit.processes import assert_ended, hanging_program, started_pids

SSH_CONFIG: dict[str, Any] = {
    "enabled": True,
    "backend": "tecrax_ansible",
    "connection": "ssh",
    "user": "root",
    "known_hosts_file": "/nonexistent/known_hosts",
    "timeout_seconds": 60,
    "inventory": {"web-1": {"host": "198.51.100.7"}},
}
BUDGET_ENVIRONMENT = {"TECRAX_MODULE_BUDGET_SECONDS": "{{ tecrax_module_budget_seconds | default('') }}"}


def invoke(action: str = "host_inventory", config: dict[str, Any] | None = None, target: str = "web-1") -> Any:
    backend = build_backend(connector_name="tecrax_ansible", config=config or SSH_CONFIG)
    return backend.invoke(ConnectorRequest("tecrax_ansible", action, target, "observe", {}))


def answer(monkeypatch: pytest.MonkeyPatch, status: str, outcome: HostOutcome | None) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def run_playbook(**kwargs: Any) -> PlaybookRun:
        calls.append(kwargs)
        return PlaybookRun(status, None, 1.0, {} if outcome is None else {"web-1": outcome})

    monkeypatch.setattr(backend_runtime, "run_playbook", run_playbook)
    return calls


@pytest.mark.parametrize(("timeout", "budget"), [(1, 1), (5, 1), (15, 5), (30, 20), (60, 45), (120, 90),
                                                 (3600, 3570)])
def test_module_budget_keeps_a_margin_under_the_timeout(timeout: int, budget: int) -> None:
    assert module_budget_seconds(timeout) == budget


def test_module_budget_is_always_inside_the_timeout() -> None:
    for timeout in range(2, 3601):
        assert 1 <= module_budget_seconds(timeout) < timeout


def test_a_module_that_timed_out_is_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    message = ("timed out: df did not finish within the module's budget of 45 s and was killed with its "
               "process group")
    answer(monkeypatch, "failed", HostOutcome("failed", {"failed": True, "timed_out": True, "msg": message}))
    response = invoke()
    assert not response.success
    assert response.data["error_class"] == "timeout"
    assert response.error == "module on web-1 " + message


def test_any_other_module_failure_stays_validation_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    answer(monkeypatch, "failed", HostOutcome("failed", {"failed": True, "timed_out": "yes", "msg": "broken"}))
    response = invoke()
    assert response.data["error_class"] == "validation_failed"
    assert response.error == "module failed on web-1: broken"


def test_a_runner_timeout_is_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    answer(monkeypatch, "timeout", None)
    response = invoke()
    assert response.data["error_class"] == "timeout"
    assert response.error.startswith("playbook run exceeded its timeout")


def test_a_connection_lost_mid_run_is_transient_without_the_address(monkeypatch: pytest.MonkeyPatch) -> None:
    message = "Failed to connect to the host via ssh: Timeout, server 198.51.100.7 not responding."
    answer(monkeypatch, "failed", HostOutcome("unreachable", {"unreachable": True, "msg": message}))
    response = invoke()
    assert response.data["error_class"] == "transient_connector_error"
    assert response.error == "target web-1 unreachable (connection lost mid-run)"


def test_ssh_keepalives_detect_a_dead_link(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = answer(monkeypatch, "successful", None)
    invoke()
    (call,) = calls
    options = dict(re.findall(r"-o (\w+)=(\S+)", call["ssh_args"]))
    assert options["ServerAliveInterval"] == "5" and options["ServerAliveCountMax"] == "3"
    assert call["timeout_seconds"] == 60


def module_playbooks() -> list[tuple[str, str]]:
    """(playbook, module) for every playbook whose module runs commands through the runner."""
    found = []
    root = tecrax.collection_root()
    for playbook in sorted((root / "playbooks").glob("*.yml")):
        (play,) = yaml.safe_load(playbook.read_text())
        (task,) = play["tasks"]
        module = next(key for key in task if key.startswith("tecrax.ops."))
        source = (root / "plugins" / "modules" / (module.rsplit(".", 1)[1] + ".py")).read_text()
        if any(entry in source for entry in ("module_commands", "run_host_module", "run_wrapper_module")):
            found.append((playbook.name, module))
    return found


def test_every_module_that_runs_commands_gets_its_budget() -> None:
    playbooks = module_playbooks()
    assert len(playbooks) == 11
    for name, module in playbooks:
        (play,) = yaml.safe_load((tecrax.collection_root() / "playbooks" / name).read_text())
        (task,) = play["tasks"]
        assert task.get("environment") == BUDGET_ENVIRONMENT, (name, module)


def test_no_workflow_retries_a_timeout() -> None:
    for path in sorted((Path(tecrax.profile_root()) / "workflows").glob("*.yaml")):
        retry = yaml.safe_load(path.read_text())["workflow"]["retry"]
        assert "timeout" not in retry["allowed_on"] and "timeout" in retry["blocked_on"], path.name
        assert retry["allowed_on"] == ["transient_connector_error"], path.name


def test_a_real_run_ends_the_hung_command_at_the_module_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On the controller (local connection) the module finds this df first on PATH; it never
    # returns, so only the module's budget (15 s timeout -> 5 s) can end the step.
    bin_dir = tmp_path / "bin"
    hanging_program(bin_dir, "df")
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    config = {**SSH_CONFIG, "timeout_seconds": 15, "inventory": {"here": {"connection": "local"}}}
    seen: list[Any] = []
    real_run = backend_runtime.run_playbook

    def recording(**kwargs: Any) -> PlaybookRun:
        run = real_run(**kwargs)
        seen.append(run)
        return run

    monkeypatch.setattr(backend_runtime, "run_playbook", recording)
    response = invoke(config=config, target="here")
    assert not response.success
    assert response.data["error_class"] == "timeout"
    assert response.error == (
        "module on here timed out: df did not finish within the module's budget of 5 s and was killed with its "
        "process group")
    (run,) = seen
    assert run.status == "failed"  # the module answered; ansible-runner's own timeout did not fire
    (pid,) = started_pids(bin_dir)
    assert_ended(pid)


def test_the_budget_variable_reaches_the_extra_vars(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ansible_runner

    from tecrax.backend.playbook_run import RunHost, run_playbook

    written: list[str] = []

    class Finished:
        status, rc = "successful", 0

    def fake_run(**kwargs: Any) -> Finished:
        written.append((Path(kwargs["private_data_dir"]) / "env" / "extravars").read_text())
        return Finished()

    monkeypatch.setattr(ansible_runner, "run", fake_run)
    run_playbook(collection_root=tecrax.collection_root(), playbook="playbooks/host_inventory.yml",
                 module="tecrax.ops.host_inventory", hosts=[RunHost("here", {"ansible_connection": "local"})],
                 ssh_args="", pipelining=True, timeout_seconds=60, check_mode=False,
                 extravars={"tecrax_allowed_subnets": ["10.20.0.0/16"]})
    (extravars,) = written
    assert extravars == f"tecrax_allowed_subnets:\n- !unsafe '10.20.0.0/16'\n{BUDGET_VARIABLE}: 45\n"
