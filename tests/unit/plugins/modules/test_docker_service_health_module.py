"""The tecrax.ops.docker_service_health module, run in-process.

This machine has no running systemd, so the real command shows the "could not observe"
path; recorded lab output stands in for systemd through the command runner.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import generate_module_docs
import pytest
from ansible.module_utils import basic

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import CommandResult, CommandRunner
from ansible_collections.tecrax.ops.plugins.modules import docker_service_health
from unit.recorded_commands import exited
from unit import module_runner

SCHEMA = "docker_service_health.v1.schema.json"
DATA = Path(__file__).resolve().parents[2] / "data" / "docker_service_health"


def run_module(capsys: pytest.CaptureFixture[str], args: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    return module_runner.run_module(docker_service_health.main, capsys, args)[:2]


@pytest.fixture
def systemctl_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    """The runner answers with the recorded output of a failed docker.service."""
    calls: list[tuple[Any, dict[str, Any]]] = []

    def recorded(self: CommandRunner, argv: Any, **kwargs: Any) -> CommandResult:
        calls.append((argv, kwargs))
        return exited(0, (DATA / "failed.txt").read_bytes())

    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name)
    monkeypatch.setattr(CommandRunner, "run", recorded)
    return calls


@pytest.mark.parametrize("check_mode", [False, True])
def test_module_runs_one_fixed_command(capsys: pytest.CaptureFixture[str], facts_schema_errors: Any,
                                       systemctl_calls: list[Any], check_mode: bool) -> None:
    code, result = run_module(capsys, {"_ansible_check_mode": check_mode})
    assert code == 0
    assert result["changed"] is False and "failed" not in result
    facts = result["facts"]
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["assessment"] == {"state": "unhealthy", "reasons": ["docker_failed"]}
    assert facts["units"]["docker_service"]["sub_state"] == "failed"
    (argv, options), = systemctl_calls
    assert argv == ["/usr/bin/systemctl", "show", "--no-pager",
                    "--property=Id,LoadState,ActiveState,SubState,UnitFileState,Result",
                    "docker.service", "docker.socket"]
    assert options == {"environ_update": {"SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0"}}


def test_module_refuses_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run_module(capsys, {"unit": "sshd.service"})
    assert code == 1
    assert result["failed"] is True
    assert "unit" in result["msg"]


def test_missing_systemctl_is_unavailable(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                          facts_schema_errors: Any) -> None:
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, *args, **kwargs: None)
    code, result = run_module(capsys)
    assert code == 0 and result["changed"] is False
    assert facts_schema_errors(result["facts"], SCHEMA) == []
    assert result["facts"]["coverage"] == {"state": "blocked", "blockers": ["systemctl_not_found"]}
    assert result["facts"]["assessment"] == {"state": "unavailable"}


def test_this_machine_without_systemd_is_unavailable(capsys: pytest.CaptureFixture[str],
                                                     facts_schema_errors: Any) -> None:
    # The real systemctl of the test machine. Where systemd runs, the answer is an observation.
    code, result = run_module(capsys)
    assert code == 0 and result["changed"] is False
    facts = result["facts"]
    assert facts_schema_errors(facts, SCHEMA) == []
    if Path("/run/systemd/system").is_dir():
        assert facts["coverage"]["state"] == "complete"
        assert facts["assessment"]["state"] in ("healthy", "unhealthy")
    else:
        assert facts["coverage"]["state"] == "blocked"
        assert facts["assessment"] == {"state": "unavailable"}


def test_documentation_matches_the_module() -> None:
    docs = generate_module_docs.sidecar("docker_service_health")
    documentation = docs["DOCUMENTATION"]
    assert documentation["module"] == "docker_service_health"
    assert documentation["options"] == {}
    returned = docs["RETURN"]["facts"]["contains"]
    assert set(returned) == {"contract", "scope", "coverage", "assessment", "non_claims", "units"}
