"""Facts about processes read from /proc, and waiting for them to end.

A PID alone can be reused after its process dies; a (pid, start time) pair cannot,
so ownership records keep both.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name, or None if the process is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name is in parentheses and may itself contain spaces or ')'.
    return raw[raw.rindex(")") + 2 :].split()


def start_ticks(pid: int) -> int | None:
    """Start time of the process in clock ticks since boot (field 22 of /proc/PID/stat)."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def is_running(pid: int) -> bool:
    """True if the process exists and is not a zombie."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def parent_pid(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (all of its threads)."""
    children: list[int] = []
    try:
        for task in (PROC / str(pid) / "task").iterdir():
            children += [int(child) for child in (task / "children").read_text().split()]
    except FileNotFoundError:
        return []
    return children


def command_line(pid: int) -> list[str]:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except FileNotFoundError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def pid_namespace(pid: int) -> str | None:
    try:
        return os.readlink(PROC / str(pid) / "ns" / "pid")
    except FileNotFoundError:
        return None


def wait_for_exit(pid: int, timeout: float) -> bool:
    """Wait until the process is gone or a zombie; True if it ended in time."""
    deadline = time.monotonic() + timeout
    while is_running(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def signal_process(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


@dataclass(frozen=True)
class ProcessRef:
    """One specific process: its PID plus its start time, so a reused PID does not match."""

    pid: int
    start_ticks: int

    @classmethod
    def of(cls, pid: int) -> ProcessRef | None:
        ticks = start_ticks(pid)
        return None if ticks is None else cls(pid, ticks)

    @classmethod
    def current(cls) -> ProcessRef:
        ref = cls.of(os.getpid())
        assert ref is not None
        return ref

    def is_alive(self) -> bool:
        return start_ticks(self.pid) == self.start_ticks and is_running(self.pid)

    def to_json(self) -> dict[str, int]:
        return {"pid": self.pid, "start_ticks": self.start_ticks}

    @classmethod
    def from_json(cls, data: Any) -> ProcessRef | None:
        if not isinstance(data, dict):
            return None
        return cls(int(data["pid"]), int(data["start_ticks"]))
