"""Ctrl-C, SIGTERM and SIGKILL while a governed step waits on an endpoint that never answers.

Real `tecrax run` / `rexecop start` processes run the Zabbix problem summary (real
ansible-playbook, local connection) against a listener on this machine that accepts and never
replies, so the step is genuinely stuck in the module's HTTP read. Each process gets its own
TMPDIR, so its ansible-runner private data dirs can be inspected: while the run hangs the
resolved API token (a canary) is in no file there or under the RExecOp root, and after the
signal the private dir and every Ansible process of the run are gone.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import allow_read_policy
from tecrax.evidence import verify_bundle

INTENT = "collect_zabbix_problem_summary_readonly"
STUCK, REFUSING = "stuck-zabbix", "refusing-zabbix"
# Long enough that only the signal can end the step while the test waits on it.
MODULE_TIMEOUT, STEP_TIMEOUT = 60, 300
STATE_WAIT = 120  # how long the test waits for a state before failing (not a measured bound)


class SilentListener:
    """Accepts TCP connections and never answers."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.accepted = threading.Event()
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _address = self.socket.accept()
            except OSError:
                return
            self._held.append(connection)
            self.accepted.set()

    def close(self) -> None:
        for connection in self._held:
            connection.close()
        self.socket.close()


class Workspace:
    def __init__(self, base: Path, token: str, stuck_port: int, refused_port: int) -> None:
        self.base = base
        self.token = token
        self.root = base / "rexecop"
        self.tmp = base / "tmp"
        self.tmp.mkdir()
        self.environment = base / "environment.yaml"
        secrets_file = base / "secrets.yaml"
        secrets_file.touch(mode=0o600)
        secrets_file.write_text(yaml.safe_dump({"secrets": {"zabbix_api_token": token}}))

        def zabbix(port: int) -> dict[str, Any]:
            return {"connection": "local", "zabbix": {
                "api_url": f"http://127.0.0.1:{port}/api_jsonrpc.php",
                "timeout_seconds": MODULE_TIMEOUT, "api_token_secret_ref": "zabbix_api_token"}}

        inventory = {STUCK: zabbix(stuck_port), REFUSING: zabbix(refused_port)}
        document = {"environment": {
            "id": "tecrax-interruption", "description": "A Zabbix API that never answers.",
            "profile": "tecrax",
            "targets": {name: {"type": "host", "criticality": "low"} for name in inventory},
            "connectors": {"tecrax_ansible": {
                "enabled": True, "backend": "tecrax_ansible", "connection": "local",
                "timeout_seconds": STEP_TIMEOUT, "max_output_bytes": 65536, "inventory": inventory}},
            "safety": {"default_mode": "observe", "apply_requires_govengine": True,
                       "secrets_source": "external", "max_concurrent_operations": 1,
                       "target_lock_enabled": True},
            "policy_pack": allow_read_policy(),
        }}
        self.environment.write_text(yaml.safe_dump(document, sort_keys=False))
        self.env = {**os.environ, "TMPDIR": str(self.tmp), "REXECOP_SECRETS_FILE": str(secrets_file)}

    def bin(self, name: str) -> str:
        return str(Path(sys.executable).with_name(name))

    def tecrax_run(self, target: str, root: Path | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [self.bin("tecrax"), "run", INTENT, "--env", str(self.environment), "--target", target,
             "--root", str(root or self.root)],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def private_dirs(self) -> list[Path]:
        return sorted(self.tmp.glob("tecrax-run-*"))

    def files_holding_token(self) -> list[str]:
        needle = self.token.encode()
        found = []
        for top in (self.tmp, self.root):
            for directory, _dirs, names in os.walk(top):
                for name in names:
                    path = Path(directory, name)
                    if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
                        found.append(str(path.relative_to(self.base)))
        return found

    def run_processes(self) -> list[int]:
        """Processes (Ansible and its workers) whose command line names this workspace."""
        marker = str(self.base).encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if marker in (entry / "cmdline").read_bytes() or marker in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def operation(self, operation_id: str) -> dict[str, Any]:
        return json.loads((self.root / "operations" / f"{operation_id}.json").read_text())

    def only_operation_id(self) -> str:
        (record,) = (self.root / "operations").glob("op-*.json")
        return record.stem


@pytest.fixture
def listener() -> Iterator[SilentListener]:
    silent = SilentListener()
    yield silent
    silent.close()


@pytest.fixture
def workspace(tmp_path: Path, listener: SilentListener) -> Iterator[Workspace]:
    closed = socket.create_server(("127.0.0.1", 0))
    refused_port = closed.getsockname()[1]
    closed.close()
    space = Workspace(tmp_path, "canary" + secrets.token_hex(24), listener.port, refused_port)
    yield space
    for pid in space.run_processes():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_until_stuck(space: Workspace, listener: SilentListener, process: subprocess.Popen[str]) -> Path:
    """The module has read its token and waits on the silent API; return the private dir."""
    for _attempt in range(STATE_WAIT * 10):
        if listener.accepted.wait(0.1) or process.poll() is not None:
            break
    if not listener.accepted.is_set():
        process.kill()
        stdout, stderr = process.communicate()
        raise AssertionError(f"the run never reached the API: {stdout[-3000:]} {stderr[-2000:]}")
    (private_dir,) = space.private_dirs()
    return private_dir


def wait_for_exit(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        stdout, stderr = process.communicate(timeout=STATE_WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        raise AssertionError("the run ignored the signal: " + stdout[-2000:]) from None
    return process.returncode, stdout, stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_tecrax_run_stops_records_interrupted_and_leaves_nothing(
    workspace: Workspace, listener: SilentListener, signum: int,
) -> None:
    process = workspace.tecrax_run(STUCK)
    private_dir = wait_until_stuck(workspace, listener, process)
    assert (private_dir / "artifacts").is_dir()  # the scan below looks at a live run
    assert workspace.files_holding_token() == []

    process.send_signal(signum)
    returncode, stdout, stderr = wait_for_exit(process)

    assert returncode == 128 + signum, (stdout, stderr)
    assert f"{signal.Signals(signum).name} received, stopping" in stderr
    operation_id = workspace.only_operation_id()
    record = workspace.operation(operation_id)
    assert record["state"] == "cancelled"
    assert "state     cancelled" in stdout
    truth_path = subprocess.run(
        [workspace.bin("rexecop"), "--root", str(workspace.root), "operation", "truth-path",
         "--operation", operation_id], env=workspace.env, capture_output=True, text=True, check=True)
    assert '"interrupted"' in truth_path.stdout
    # The pinned SCLite bundle's receipt says dry_run for every read-only operation; it must
    # still be written and verify.
    bundle = workspace.root / "sclite" / operation_id
    assert all(check.passed for check in verify_bundle(bundle)), verify_bundle(bundle)
    assert workspace.private_dirs() == []
    assert workspace.run_processes() == []
    assert workspace.files_holding_token() == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_rexecop_start_stops_and_removes_the_private_dir(
    workspace: Workspace, listener: SilentListener, signum: int,
) -> None:
    plan = subprocess.run(
        [workspace.bin("rexecop"), "--root", str(workspace.root), "plan", "--profile", "tecrax",
         "--env", str(workspace.environment), "--intent", INTENT, "--target", STUCK],
        env=workspace.env, capture_output=True, text=True, check=True, timeout=STATE_WAIT)
    operation_id = plan.stdout.strip().splitlines()[-1]
    process = subprocess.Popen(
        [workspace.bin("rexecop"), "--root", str(workspace.root), "start", "--operation", operation_id],
        env=workspace.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until_stuck(workspace, listener, process)

    process.send_signal(signum)
    returncode, stdout, stderr = wait_for_exit(process)

    assert returncode != 0, (stdout, stderr)
    assert workspace.private_dirs() == []
    assert workspace.run_processes() == []
    assert workspace.files_holding_token() == []


def test_a_sigkilled_runs_private_dir_is_swept_by_the_next_run(
    workspace: Workspace, listener: SilentListener,
) -> None:
    process = workspace.tecrax_run(STUCK)
    stale = wait_until_stuck(workspace, listener, process)
    process.kill()
    process.wait(timeout=STATE_WAIT)
    assert stale.is_dir() and workspace.files_holding_token() == []

    # Another runtime root: the killed operation still holds this one's target lock.
    follow_up = workspace.tecrax_run(REFUSING, workspace.base / "rexecop-next")
    returncode, stdout, stderr = wait_for_exit(follow_up)

    # It ran to the end: a refused connection gives unavailable facts, which fail validation.
    assert returncode == 3 and "assessment unavailable (connection_failed)" in stdout, (stdout, stderr)
    assert not stale.exists()
    assert workspace.private_dirs() == []


def test_the_private_dir_is_gone_and_held_no_token_after_a_normal_run(workspace: Workspace) -> None:
    returncode, stdout, stderr = wait_for_exit(workspace.tecrax_run(REFUSING))
    assert returncode == 3 and "assessment unavailable (connection_failed)" in stdout, (stdout, stderr)
    assert workspace.private_dirs() == []
    assert workspace.files_holding_token() == []
