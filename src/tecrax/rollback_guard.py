"""Internal action ``tecrax_chrony_rollback_guard``: roll back only what the operation changed.

The host keeps one backup record for the chrony NTP server mutation, with a generation that
every apply which changes the managed file increments. ``rexecop rollback`` runs the
workflow's rollback steps with the failed operation's shared state, so this guard can compare
the generation the operation's own pre-read saw with the one the rollback's pre-check sees:

* unchanged: the operation's apply never wrote (it failed or stopped before), so a rollback
  would undo an *earlier* operation's change: refused;
* exactly one more: the operation's apply wrote the record: the rollback may proceed;
* more than one more: later applies changed the file since: refused.

Raising fails the step, so the rollback's mutating step never starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class RollbackRefused(RuntimeError):
    """The rollback would not undo this operation's own change."""


def chrony_rollback_guard(context: Any) -> dict[str, Any]:
    metadata = context.step.get("metadata") if isinstance(context.step, Mapping) else None
    metadata = metadata if isinstance(metadata, Mapping) else {}
    results = context.shared_state.get("connector_results")
    results = results if isinstance(results, Mapping) else {}
    before = _generation(results, metadata.get("pre_read_step"))
    now = _generation(results, metadata.get("check_step"))
    if before is None:
        raise RollbackRefused(
            "rollback refused: the operation has no successful pre-read of the backup record, "
            "so it failed before its apply step and changed nothing"
        )
    if now is None:
        raise RollbackRefused("rollback refused: the rollback pre-check did not read the backup record")
    if now == before:
        raise RollbackRefused(
            f"rollback refused: the operation's apply step never wrote the managed file (backup generation "
            f"is still {before}); rolling back now would undo an earlier change"
        )
    if now < before:
        raise RollbackRefused(
            f"rollback refused: the host's backup record was reset since this operation's pre-read "
            f"(generation {before} -> {now})"
        )
    if now != before + 1:
        raise RollbackRefused(
            f"rollback refused: {now - before} applies changed the managed file since this operation's "
            f"pre-read (generation {before} -> {now}); roll back the most recent operation instead"
        )
    return {"status": "rollback_admitted", "backup_generation": now}


def _generation(results: Mapping[str, Any], step_id: Any) -> int | None:
    data = results.get(step_id) if isinstance(step_id, str) else None
    facts = data.get("facts") if isinstance(data, Mapping) else None
    backup = facts.get("backup") if isinstance(facts, Mapping) else None
    generation = backup.get("generation") if isinstance(backup, Mapping) else None
    if isinstance(generation, bool) or not isinstance(generation, int):
        return None
    return generation
