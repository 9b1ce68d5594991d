"""Internal action ``tecrax_chrony_rollback_guard``: roll back only what the operation changed.

The host keeps one backup record for the chrony NTP server mutation, with a generation that
every apply which changes the managed file increments. ``rexecop rollback`` runs the
workflow's rollback steps with the failed operation's shared state, so this guard can compare
the generation the operation's own pre-read saw with the one the rollback's pre-check sees:

* unchanged: the operation's apply never wrote (it failed or stopped before), so a rollback
  would undo an *earlier* operation's change: refused;
* exactly one more: the operation's apply wrote the record: the rollback may proceed;
* more than one more: later applies changed the file since: refused.

Raising fails the step, so the rollback's mutating step never starts. Over a group target
the guard decides per member and lists the members to restore (``restore_hosts``); the
restore step (``members_from: rollback_guard`` in the workflow) runs on those only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tecrax.group_summary import is_group_step


class RollbackRefused(RuntimeError):
    """The rollback would not undo this operation's own change."""


def chrony_rollback_guard(context: Any) -> dict[str, Any]:
    metadata = context.step.get("metadata") if isinstance(context.step, Mapping) else None
    metadata = metadata if isinstance(metadata, Mapping) else {}
    results = context.shared_state.get("connector_results")
    results = results if isinstance(results, Mapping) else {}
    pre_read, check = _result(results, metadata.get("pre_read_step")), _result(results, metadata.get("check_step"))
    if isinstance(check, Mapping) and is_group_step(check):
        return _group_guard(pre_read, check)
    return _host_guard(_generation(pre_read), _generation(check))


def _host_guard(before: int | None, now: int | None, host: str = "") -> dict[str, Any]:
    on = f" on {host}" if host else ""
    if before is None:
        raise RollbackRefused(
            f"rollback refused: the operation has no successful pre-read of the backup record{on}, "
            "so it failed before its apply step and changed nothing"
        )
    if now is None:
        raise RollbackRefused(f"rollback refused: the rollback pre-check did not read the backup record{on}")
    if now == before:
        raise RollbackRefused(
            f"rollback refused: the operation's apply step never wrote the managed file{on} (backup generation "
            f"is still {before}); rolling back now would undo an earlier change"
        )
    if now < before:
        raise RollbackRefused(
            f"rollback refused: the host's backup record was reset{on} since this operation's pre-read "
            f"(generation {before} -> {now})"
        )
    if now != before + 1:
        raise RollbackRefused(
            f"rollback refused: {now - before} applies changed the managed file{on} since this operation's "
            f"pre-read (generation {before} -> {now}); roll back the most recent operation instead"
        )
    return {"status": "rollback_admitted", "backup_generation": now}


def _group_guard(pre_read: Any, check: Mapping[str, Any]) -> dict[str, Any]:
    """Per member: restore where this operation's apply wrote (generation + 1), leave alone
    where it never wrote (unchanged), and refuse the whole rollback when any member cannot be
    read before and now or moved on since. The restore step runs on ``restore_hosts`` only."""
    members = [str(member) for member in check["group"].get("members", [])]
    before_hosts = pre_read.get("hosts") if isinstance(pre_read, Mapping) else None
    before_hosts = before_hosts if isinstance(before_hosts, Mapping) else {}
    restore: dict[str, int] = {}
    for member in members:
        before, now = _generation(before_hosts.get(member)), _generation(check["hosts"].get(member))
        if before is not None and before == now:
            continue  # the apply never wrote here: nothing of this operation to undo
        restore[member] = _host_guard(before, now, member)["backup_generation"]
    if not restore:
        raise RollbackRefused(
            "rollback refused: the operation's apply step never wrote the managed file on any member; "
            "rolling back now would undo earlier changes"
        )
    return {"status": "rollback_admitted", "restore_hosts": list(restore), "backup_generations": restore}


def _result(results: Mapping[str, Any], step_id: Any) -> Any:
    return results.get(step_id) if isinstance(step_id, str) else None


def _generation(data: Any) -> int | None:
    facts = data.get("facts") if isinstance(data, Mapping) else None
    backup = facts.get("backup") if isinstance(facts, Mapping) else None
    generation = backup.get("generation") if isinstance(backup, Mapping) else None
    if isinstance(generation, bool) or not isinstance(generation, int):
        return None
    return generation
