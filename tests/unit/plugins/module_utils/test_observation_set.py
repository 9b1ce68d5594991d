"""Several observations side by side (common/observation_set): each ends as facts, timeout or
observation_failed, none can fail another, and the result keeps their order."""

from __future__ import annotations

import threading
import time
from typing import Any

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import CommandTimedOut
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import FactsContractError
from ansible_collections.tecrax.ops.plugins.module_utils.common.observation_set import observe_concurrently


def test_each_observation_ends_in_one_outcome() -> None:
    released = threading.Event()

    def stuck() -> dict[str, Any]:
        released.wait(30)
        return {"late": True}

    def budget_spent() -> dict[str, Any]:
        raise CommandTimedOut("chronyc", 5)

    def broken() -> dict[str, Any]:
        raise FactsContractError("a normalizer bug quoting 198.51.100.7")

    observations = {"fine": lambda: {"state": "ok"}, "stuck": stuck, "budget": budget_spent, "broken": broken,
                    "crash": lambda: 1 // 0}
    try:
        result = observe_concurrently(observations, time.monotonic() + 0.5)
    finally:
        released.set()
    assert list(result) == ["fine", "stuck", "budget", "broken", "crash"]
    assert result == {"fine": {"facts": {"state": "ok"}}, "stuck": {"unavailable": "timeout"},
                      "budget": {"unavailable": "timeout"}, "broken": {"unavailable": "observation_failed"},
                      "crash": {"unavailable": "observation_failed"}}


def test_observations_run_at_the_same_time() -> None:
    """Each waits until all have started: sequential runs would never get there."""
    barrier = threading.Barrier(3, timeout=20)

    def meet(name: str) -> Any:
        return lambda: {"met": barrier.wait() >= 0, "name": name}

    result = observe_concurrently({name: meet(name) for name in ("a", "b", "c")}, time.monotonic() + 30)
    assert result == {name: {"facts": {"met": True, "name": name}} for name in ("a", "b", "c")}


def test_a_passed_deadline_still_waits_for_nothing_and_reports_what_finished() -> None:
    started = threading.Event()

    def slow() -> dict[str, Any]:
        started.wait(30)
        return {}

    try:
        assert observe_concurrently({"slow": slow}, time.monotonic() - 1) == {"slow": {"unavailable": "timeout"}}
    finally:
        started.set()
    assert observe_concurrently({}, time.monotonic()) == {}
