"""The tecrax.ops.host_inventory module, run in-process on this machine."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from ansible.module_utils import basic

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import CommandResult, CommandRunner
from ansible_collections.tecrax.ops.plugins.module_utils.common import command_runner
from ansible_collections.tecrax.ops.plugins.module_utils.host import host_inventory as collection
from ansible_collections.tecrax.ops.plugins.modules import host_inventory
from unit.recorded_commands import exited
from unit import module_runner

SCHEMA = "basic_host_inventory.v1.schema.json"


def run_module(capsys: pytest.CaptureFixture[str], args: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    return module_runner.run_module(host_inventory.main, capsys, args)[:2]


@pytest.mark.parametrize("check_mode", [False, True])
def test_module_observes_this_machine(capsys: pytest.CaptureFixture[str], facts_schema_errors: Any,
                                      check_mode: bool) -> None:
    code, result = run_module(capsys, {"_ansible_check_mode": check_mode})
    assert code == 0
    assert result["changed"] is False
    assert "failed" not in result
    facts = result["facts"]
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["hostname"] == socket.gethostname()
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    assert facts["root_filesystem"]["mount"] == "/"
    assert facts["memory_mib"]["total"] > 0


def test_module_refuses_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run_module(capsys, {"command": "id"})
    assert code == 1
    assert result["failed"] is True
    assert "command" in result["msg"]


def test_missing_df_is_an_unobserved_root_filesystem(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, facts_schema_errors: Any
) -> None:
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, *args, **kwargs: None)
    code, result = run_module(capsys)
    assert code == 0 and result["changed"] is False
    facts = result["facts"]
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["scope"]["not_observed"] == ["root_filesystem"]
    assert facts["coverage"] == {"state": "partial", "blockers": ["root_filesystem_unavailable"]}
    assert facts["assessment"] == {"state": "unknown"}


def test_failing_df_is_an_unobserved_root_filesystem(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []

    def failing_df(self: CommandRunner, argv: Any, **kwargs: Any) -> CommandResult:
        calls.append((argv, kwargs))
        return exited(1, b"", b"df: /: Input/output error")

    monkeypatch.setattr(CommandRunner, "run", failing_df)
    code, result = run_module(capsys)
    assert code == 0
    assert result["facts"]["coverage"]["blockers"] == ["root_filesystem_unavailable"]
    (argv, options), = calls
    assert argv[1:] == ["-P", "-k", "/"] and argv[0].endswith("/df")
    assert options == {}  # the runner's own C locale, no other environment


def test_unreadable_files_are_unobserved(capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collection, "read_bounded", lambda path: None)
    code, result = run_module(capsys)
    assert code == 0
    assert result["facts"]["scope"]["not_observed"] == ["os_release", "uptime", "load_average", "memory"]
    assert result["facts"]["assessment"] == {"state": "unknown"}


def test_read_bounded(tmp_path: Any) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * (command_runner.MAX_RAW_BYTES + 10))
    assert command_runner.read_bounded(str(big)) == b"x" * command_runner.MAX_RAW_BYTES
    assert command_runner.read_bounded(str(big), 3) == b"xxx"
    assert command_runner.read_bounded(str(tmp_path / "missing")) is None
    assert command_runner.read_bounded(str(tmp_path)) is None


def test_kernel_is_formatted_like_uname_srm() -> None:
    kernel = collection.read_kernel()
    assert kernel is not None and len(kernel.split()) == 3
