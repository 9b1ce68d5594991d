"""tecrax_chrony_rollback_guard: a rollback only undoes the failed operation's own change."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tecrax.internal_actions import register_handlers
from tecrax.rollback_guard import RollbackRefused, chrony_rollback_guard

STEP = {"id": "rollback_guard", "metadata": {"pre_read_step": "pre_read", "check_step": "rollback_check"}}


def context(pre: int | None, now: int | None) -> Any:
    results: dict[str, Any] = {}
    if pre is not None:
        results["pre_read"] = {"facts": {"backup": {"generation": pre}}}
    if now is not None:
        results["rollback_check"] = {"facts": {"backup": {"generation": now}}}
    return SimpleNamespace(step=STEP, shared_state={"connector_results": results})


def test_the_operations_own_write_is_admitted() -> None:
    assert chrony_rollback_guard(context(3, 4)) == {"status": "rollback_admitted", "backup_generation": 4}
    assert chrony_rollback_guard(context(0, 1))["status"] == "rollback_admitted"


@pytest.mark.parametrize(
    ("pre", "now", "message"),
    [
        (None, 4, "has no successful pre-read of the backup record, so it failed before its apply step"),
        (3, None, "the rollback pre-check did not read the backup record"),
        (3, 3, "the operation's apply step never wrote the managed file (backup generation is still 3)"),
        (3, 6, "3 applies changed the managed file since this operation's pre-read (generation 3 -> 6)"),
        (5, 2, "the host's backup record was reset since this operation's pre-read (generation 5 -> 2)"),
    ],
)
def test_anything_else_is_refused(pre: int | None, now: int | None, message: str) -> None:
    with pytest.raises(RollbackRefused) as refused:
        chrony_rollback_guard(context(pre, now))
    assert str(refused.value).startswith("rollback refused: ")
    assert message in str(refused.value)


def test_malformed_state_is_refused_not_crashed() -> None:
    broken = SimpleNamespace(step={"id": "x"}, shared_state={"connector_results": {"pre_read": {"facts": "?"}}})
    with pytest.raises(RollbackRefused):
        chrony_rollback_guard(broken)
    bools = SimpleNamespace(step=STEP, shared_state={"connector_results": {
        "pre_read": {"facts": {"backup": {"generation": True}}},
        "rollback_check": {"facts": {"backup": {"generation": 2}}}}})
    with pytest.raises(RollbackRefused, match="no successful pre-read"):
        chrony_rollback_guard(bools)


def test_the_guard_is_registered() -> None:
    assert register_handlers()["tecrax_chrony_rollback_guard"] is chrony_rollback_guard
