"""Watching the processes a test's commands started."""

from __future__ import annotations

import os
import time
from pathlib import Path


def process_ended(pid: int) -> bool:
    """Gone, or a zombie (killed, not yet reaped by whichever process inherited it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat[stat.rindex(")") + 2] in "ZX"


def assert_ended(pid: int) -> None:
    """``pid`` ends: SIGKILL went out before the runner returned, and the kernel may need a
    moment to finish it (a state that is waited for, not a time that is measured)."""
    try:
        for _attempt in range(600):
            if process_ended(pid):
                break
            time.sleep(0.05)
        assert process_ended(pid), f"process {pid}, started by a command, survived it"
    finally:
        if not process_ended(pid):
            os.kill(pid, 9)


def hanging_program(directory: Path, name: str) -> Path:
    """A program ``directory/name`` that appends its PID to ``directory/pids`` and hangs."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\necho $$ >> {directory / 'pids'}\nexec sleep 300\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def started_pids(directory: Path) -> list[int]:
    """The PIDs the hanging programs of ``directory`` recorded."""
    pids = directory / "pids"
    return [int(line) for line in pids.read_text().split()] if pids.exists() else []
