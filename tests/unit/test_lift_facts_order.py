"""tecrax_lift_facts lifts in execution order, not in the (sorted) order RExecOp stores."""

from __future__ import annotations

from types import SimpleNamespace

from tecrax.internal_actions import lift_facts


def test_a_later_step_wins_even_when_its_id_sorts_first() -> None:
    # What RExecOp's file store hands back: connector_results with sorted keys.
    shared = {
        "connector_results": {
            "apply": {"facts_key": "applied", "facts": {"n": 2}},
            "post_read": {"facts_key": "state", "facts": {"n": 3}},
            "pre_read": {"facts_key": "state", "facts": {"n": 1}},
        },
        "executed_steps": ["pre_read", "apply", "post_read"],
    }
    result = lift_facts(SimpleNamespace(shared_state=shared))
    assert shared["state"] == {"n": 3}
    assert result["lifted"] == {"state": "post_read", "applied": "apply"}


def test_without_an_execution_record_the_mapping_order_applies() -> None:
    shared = {"connector_results": {"b": {"facts_key": "k", "facts": {"n": 1}}, "a": {"facts_key": "k", "facts": {"n": 2}}}}
    lift_facts(SimpleNamespace(shared_state=shared))
    assert shared["k"] == {"n": 2}
