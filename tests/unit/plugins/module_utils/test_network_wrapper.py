"""Calls of tecrax-network-cli-readonly: real programs written to a temporary directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ansible_collections.tecrax.ops.plugins.module_utils.network import network_wrapper as nw
from unit.processes import assert_ended

NAME = "tecrax-network-cli-readonly"


def wrapper(directory: Path, body: str, mode: int = 0o755) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    path = directory / NAME
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(mode)
    return str(path)


def test_ok_returns_stdout_and_discards_stderr(tmp_path: Path) -> None:
    path = wrapper(tmp_path / "bin", 'echo "device says $1"; echo noise >&2')
    result = nw.run_wrapper(path, "system-info")
    assert result["status"] == "ok" and result["exit_code"] == 0
    assert result["output"] == b"device says system-info\n"
    assert result["output_bytes"] == len(result["output"])


def test_argv_environment_and_stdin_are_fixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_OF_CALLER", "do-not-pass")
    monkeypatch.setenv("HOME", "/nonexistent-home")
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    path = wrapper(tmp_path / "bin", 'echo "argc=$# args=$*"; env | sort; cat; pwd')
    result = nw.run_wrapper(path, "ssh-status", device_id="core-sw-01")
    lines = result["output"].decode().splitlines()
    assert lines[0] == "argc=1 args=ssh-status"
    environment = dict(line.split("=", 1) for line in lines[1:-1])
    environment.pop("PWD", None)
    environment.pop("SHLVL", None)
    environment.pop("_", None)
    assert environment == {
        "PATH": nw.SEARCH_PATH, "LC_ALL": "C", "LANG": "C", "HOME": "/nonexistent-home",
        "TECRAX_NETWORK_DEVICE": "core-sw-01",
    }
    assert lines[-1] == "/"


def test_non_zero_exit_is_failed_without_output(tmp_path: Path) -> None:
    path = wrapper(tmp_path / "bin", "echo partial; exit 69")
    result = nw.run_wrapper(path, "system-info")
    assert result["status"] == "failed"
    assert result["exit_code"] == 69
    assert result["output"] == b""
    assert result["output_bytes"] == len(b"partial\n")


def test_killed_by_signal_is_failed(tmp_path: Path) -> None:
    path = wrapper(tmp_path / "bin", "kill -TERM $$")
    result = nw.run_wrapper(path, "system-info")
    assert result["status"] == "failed" and result["exit_code"] == -15


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    child_pid = tmp_path / "child.pid"
    # The wrapper and a child of its own both hang: the timeout must end them both.
    path = wrapper(tmp_path / "bin", f"sh -c 'echo $$ > {child_pid}; exec sleep 300' & echo started; sleep 300")
    result = nw.run_wrapper(path, "system-info", timeout_seconds=2)
    assert result["status"] == "timeout" and result["exit_code"] is None
    assert result["output"] == b""
    assert_ended(int(child_pid.read_text()))


def test_output_beyond_the_bound_is_refused(tmp_path: Path) -> None:
    path = wrapper(tmp_path / "bin", "yes 0123456789")
    result = nw.run_wrapper(path, "ssh-status")
    assert result["status"] == "output_limit_exceeded"
    assert result["output"] == b""
    assert nw.MAX_OUTPUT_BYTES < result["output_bytes"] <= nw.MAX_OUTPUT_BYTES + 8192


def test_output_at_the_bound_is_accepted(tmp_path: Path) -> None:
    path = wrapper(tmp_path / "bin", f"head -c {nw.MAX_OUTPUT_BYTES} /dev/zero | tr '\\0' x")
    result = nw.run_wrapper(path, "ssh-status")
    assert result["status"] == "ok" and len(result["output"]) == nw.MAX_OUTPUT_BYTES


@pytest.mark.parametrize("mode", [0o644, 0o000])
def test_non_executable_wrapper_is_missing(tmp_path: Path, mode: int) -> None:
    # Even root may only execute a file with some execute bit set.
    path = wrapper(tmp_path / "bin", "echo hi", mode)
    assert nw.run_wrapper(path, "system-info")["status"] == "missing"


def test_absent_wrapper_and_directory_are_missing(tmp_path: Path) -> None:
    assert nw.run_wrapper(str(tmp_path / "none" / NAME), "system-info")["status"] == "missing"
    (tmp_path / NAME).mkdir()
    assert nw.run_wrapper(str(tmp_path / NAME), "system-info")["status"] == "missing"


def test_broken_interpreter_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "bin" / NAME
    path.parent.mkdir()
    path.write_text("#!/nonexistent/interpreter\n")
    path.chmod(0o755)
    assert nw.run_wrapper(str(path), "system-info")["status"] == "missing"


def test_only_fixed_subcommands(tmp_path: Path) -> None:
    path = wrapper(tmp_path / "bin", "echo hi")
    with pytest.raises(ValueError, match="subcommand"):
        nw.run_wrapper(path, "show running-config")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("relative/" + NAME, "absolute"),
        (None, "absolute"),
        ("/opt/" + NAME + " --debug", "blanks"),
        ("/opt/\n/" + NAME, "blanks"),
        ("/opt/../bin/" + NAME, "normalised"),
        ("/opt//" + NAME, "normalised"),
        ("/opt/./" + NAME, "normalised"),
        ("/opt/" + NAME + "/", "normalised"),
        ("/bin/sh", "called " + NAME),
        ("/opt/" + NAME + ".sh", "called " + NAME),
        ("/" + "a" * 5000 + "/" + NAME, "absolute"),
    ],
)
def test_wrapper_path_syntax_is_checked(path: object, message: str) -> None:
    with pytest.raises(nw.WrapperConfigError, match=message):
        nw.check_wrapper_path(path)


def test_good_wrapper_path_and_device_ids() -> None:
    assert nw.check_wrapper_path("/usr/local/libexec/tecrax/" + NAME).endswith(NAME)
    assert nw.check_device_id(None) is None
    assert nw.check_device_id("core-sw-01.lab_2") == "core-sw-01.lab_2"


@pytest.mark.parametrize("device_id", ["", "-x", "a b", "a;b", "x" * 64, 7, "sw\n1", "sw-1\n", "sw-1\r\n"])
def test_bad_device_ids(device_id: object) -> None:
    with pytest.raises(nw.WrapperConfigError, match="device_id"):
        nw.check_device_id(device_id)


def test_group_or_world_writable_wrapper_or_directory_is_insecure(tmp_path: Path) -> None:
    path = wrapper(tmp_path / "bin", "echo hi")
    assert nw.insecure_reason(path) is None
    os.chmod(path, 0o775)
    assert nw.insecure_reason(path) == "the wrapper is writable by group or others"
    os.chmod(path, 0o755)
    os.chmod(tmp_path / "bin", 0o777)
    assert nw.insecure_reason(path) == "its directory is writable by group or others"
    os.chmod(tmp_path / "bin", 0o755)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the file to another user")
def test_wrapper_owned_by_another_user_is_insecure(tmp_path: Path) -> None:
    path = wrapper(tmp_path / "bin", "echo hi")
    os.chown(path, 65534, 65534)
    assert nw.insecure_reason(path) == "the wrapper is owned by another user"


def test_missing_wrapper_is_not_insecure(tmp_path: Path) -> None:
    assert nw.insecure_reason(str(tmp_path / "absent" / NAME)) is None


def test_ssh_status_only_follows_a_supported_family(tmp_path: Path) -> None:
    log = tmp_path / "calls"
    path = wrapper(tmp_path / "bin", f'echo "$1" >> {log}; echo "$1 output"')
    raw = nw.observe_device(path, device_id=None, timeout_seconds=5, family_of=lambda text: None)
    assert log.read_text().split() == ["system-info"]
    assert raw["ssh_status"]["status"] == "not_run"
    raw = nw.observe_device(path, device_id=None, timeout_seconds=5,
                            family_of=lambda text: "family" if text == b"system-info output\n" else None)
    assert log.read_text().split() == ["system-info", "system-info", "ssh-status"]
    assert raw["ssh_status"]["output"] == b"ssh-status output\n"
