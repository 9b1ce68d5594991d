"""The playbook runner's private data: stale dirs swept, secrets served through a FIFO once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tecrax.backend.playbook_run import PRIVATE_DIR_PREFIX, RUN_MARKER, _SecretServer, end_processes_of, sweep_stale_private_dirs


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_only_dirs_of_ended_processes_are_swept(tmp_path: Path) -> None:
    stale = tmp_path / f"{PRIVATE_DIR_PREFIX}{dead_pid()}-abc123"
    live = tmp_path / f"{PRIVATE_DIR_PREFIX}{os.getpid()}-def456"
    unrelated = tmp_path / f"{PRIVATE_DIR_PREFIX}not-a-pid"
    linked = tmp_path / f"{PRIVATE_DIR_PREFIX}{dead_pid()}-link"
    for directory in (stale, live, unrelated):
        (directory / "env").mkdir(parents=True)
    target = tmp_path / "elsewhere"
    target.mkdir()
    linked.symlink_to(target, target_is_directory=True)

    assert sweep_stale_private_dirs(tmp_path) == [stale]
    assert not stale.exists()
    assert live.is_dir() and unrelated.is_dir() and target.is_dir() and linked.is_symlink()


def test_a_secret_is_served_to_one_reader_then_the_pipe_is_closed(tmp_path: Path) -> None:
    server = _SecretServer(tmp_path / "secrets" / "token", "s3cr3t-value")
    assert server.path.stat().st_mode & 0o777 == 0o600
    assert server.path.read_text() == "s3cr3t-value"
    server.stop()
    assert not server._thread.is_alive()
    assert "s3cr3t-value" not in "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())


def test_stopping_a_secret_nobody_read_ends_its_writer(tmp_path: Path) -> None:
    server = _SecretServer(tmp_path / "secrets" / "token", "never-read")
    server.stop()
    assert not server._thread.is_alive()


def test_every_process_carrying_the_run_marker_is_ended(tmp_path: Path) -> None:
    workdir = tmp_path / f"{PRIVATE_DIR_PREFIX}1-x"
    # A process that starts its own session, as ansible-core's workers do.
    marked = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                              env={**os.environ, RUN_MARKER: str(workdir)}, start_new_session=True)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                             env={**os.environ, RUN_MARKER: str(workdir) + "-other"})
    try:
        assert end_processes_of(workdir) == [marked.pid]
        assert marked.wait(timeout=60) == -9
        assert other.poll() is None
    finally:
        for process in (marked, other):
            process.kill()
            process.wait()
