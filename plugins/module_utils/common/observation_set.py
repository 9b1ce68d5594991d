# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Several observations of one module run side by side, none able to fail another.

A module that makes several observations (the monitoring host diagnosis) runs each in a
thread of its own and waits for all of them until one deadline. Every observation ends as
exactly one of:

- ``{"facts": <facts object>}``: it returned;
- ``{"unavailable": "timeout"}``: it was still running at the deadline, or a command of it was
  ended by the module's budget (``CommandTimedOut``);
- ``{"unavailable": "observation_failed"}``: it raised anything else (a normalizer that broke
  its contract included). Nothing of the exception is kept: its text could quote host data.

The threads are daemon threads: one still running at the deadline does not keep the module
from answering (its commands end at their own budget, see ``command_runner``). The
observations mostly wait on programs or sockets, so the interpreter lock costs little.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, Mapping

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import CommandTimedOut

TIMEOUT = "timeout"
OBSERVATION_FAILED = "observation_failed"

Observation = Callable[[], Mapping[str, Any]]
Clock = Callable[[], float]


def observe_concurrently(observations: Mapping[str, Observation], deadline: float,
                         clock: Clock = time.monotonic) -> Dict[str, Dict[str, Any]]:
    """Run every observation at once; ``deadline`` is a ``clock()`` value. The result has the
    observations' names in their order, each mapped to its outcome (see the module doc)."""
    outcomes: Dict[str, Dict[str, Any]] = {}
    lock = threading.Lock()

    def run(name: str, observe: Observation) -> None:
        try:
            outcome: Dict[str, Any] = {"facts": observe()}
        except CommandTimedOut:
            outcome = {"unavailable": TIMEOUT}
        except Exception:  # noqa: BLE001 - one observation's failure must not end the others
            outcome = {"unavailable": OBSERVATION_FAILED}
        with lock:
            outcomes[name] = outcome

    threads = []
    for name, observe in observations.items():
        thread = threading.Thread(target=run, args=(name, observe), name="tecrax-observe-" + name, daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(max(0.0, deadline - clock()))
    with lock:
        return {name: dict(outcomes.get(name, {"unavailable": TIMEOUT})) for name in observations}
