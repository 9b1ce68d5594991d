"""SIGINT and SIGTERM while a playbook runs: stop Ansible, clean up, then let the signal act.

ansible-runner, left to itself, installs SIGINT/SIGTERM handlers that only set a flag and
never restores them, so after the first run the process ignores Ctrl-C and ``kill``. The
backend instead installs its own handlers for the duration of one run (main thread only:
Python allows no other), hands ansible-runner a cancel callback, and once the run is over
and its private data dir removed, re-delivers the signal under the handler that was there
before: ``rexecop start`` then ends as it would have, and ``tecrax run`` records the
operation as interrupted (see tecrax.cli).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class OperatorInterrupt(BaseException):
    """Raised by ``tecrax run``'s handlers; a BaseException so RExecOp's ``except Exception``
    blocks do not turn it into a step failure."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class RunCancellation:
    """What one playbook run needs: a cancel callback and the signal that cancelled it."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def requested(self) -> bool:
        return self.signum is not None

    def _handler(self, signum: int, _frame: FrameType | None) -> None:
        self.signum = signum


@contextmanager
def cancellable_run() -> Iterator[RunCancellation]:
    """Within the block, SIGINT/SIGTERM cancel the run; after it, the signal is re-raised."""
    cancellation = RunCancellation()
    if threading.current_thread() is not threading.main_thread():
        yield cancellation
        return
    previous: dict[int, Any] = {signum: signal.signal(signum, cancellation._handler) for signum in SIGNALS}
    try:
        yield cancellation
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if cancellation.signum is not None:
        signal.raise_signal(cancellation.signum)


@contextmanager
def interruptible() -> Iterator[None]:
    """``tecrax run``: SIGINT/SIGTERM raise OperatorInterrupt; a second one acts at once."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        for each in SIGNALS:
            signal.signal(each, signal.SIG_DFL if each == signal.SIGTERM else signal.default_int_handler)
        raise OperatorInterrupt(signum)

    previous = {signum: signal.signal(signum, handler) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, restored in previous.items():
            signal.signal(signum, restored)
