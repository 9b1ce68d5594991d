"""Internal workflow actions (entry point ``rexecop.internal_actions: tecrax``).

Validation rules read named shared-state keys; ``tecrax_lift_facts`` copies each successful
connector step's schema-checked facts to the key its action declares (``facts_key``), so a
rule reads ``basic_host_inventory.coverage.state`` rather than a step id. Over a group target
it lifts the group summary validation judges to that key, and the members' facts beside it
(``tecrax.group_summary``). ``tecrax_reaction_observation`` (``tecrax.observation``) turns a
monitoring-host diagnosis into the SCLite observation envelope RExecOp's reactions read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tecrax.group_summary import BY_HOST_SUFFIX, facts_by_host, group_summary, is_group_step

LIFTED = "lifted_facts"


def lift_facts(context: Any) -> dict[str, Any]:
    """Lift facts of earlier connector steps; a later step's facts replace an earlier one's."""
    lifted: dict[str, str] = {}
    results = context.shared_state.get("connector_results")
    results = results if isinstance(results, Mapping) else {}
    for step_id in _in_execution_order(results, context.shared_state.get("executed_steps")):
        data = results[step_id]
        if not isinstance(data, Mapping):
            continue
        key, facts = data.get("facts_key"), data.get("facts")
        if isinstance(key, str) and is_group_step(data):
            context.shared_state[key] = group_summary(data)
            context.shared_state[key + BY_HOST_SUFFIX] = facts_by_host(data)
            lifted[key] = lifted[key + BY_HOST_SUFFIX] = str(step_id)
        elif isinstance(key, str) and isinstance(facts, Mapping):
            context.shared_state[key] = dict(facts)
            lifted[key] = str(step_id)
    context.shared_state[LIFTED] = lifted
    return {"status": "facts_lifted", "lifted": lifted}


def _in_execution_order(results: Mapping[str, Any], executed: Any) -> list[str]:
    """Step ids of ``results`` in the order the steps ran. RExecOp's file store saves shared
    state with sorted keys, so the mapping's own order is alphabetical, not execution order."""
    ordered = [step for step in executed if step in results] if isinstance(executed, list) else []
    return ordered + [step for step in results if step not in ordered]


def register_handlers() -> Mapping[str, Callable[[Any], dict[str, Any]]]:
    from tecrax.observation import record_reaction_observation
    from tecrax.rollback_guard import chrony_rollback_guard

    return {
        "tecrax_chrony_rollback_guard": chrony_rollback_guard,
        "tecrax_lift_facts": lift_facts,
        "tecrax_reaction_observation": record_reaction_observation,
    }
