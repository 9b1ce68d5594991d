"""Group targets: one governed operation over the members of an environment group.

An environment target ``{type: group, members: [...]}`` is admitted by RExecOp and GovEngine
under the group's name, and RExecOp hands that name to the backend as the step's target. The
connector configuration knows hosts only, so the members come from the group's declaration in
the environment file the operation was planned with (RExecOp records its path in the
operation); the backend finds that record through the live call, as it finds the approval
(``approval.running_operation``). Every member must be a target of the connector inventory:
``tecrax run`` refuses a group with any other member before planning, and the backend refuses
the step before any Ansible process starts, so a bad member never leaves the group half run.

A mutation over a group needs more than the admission of the intent: the policy rule that
admitted the operation must name the group itself (``resource.target_ref: <group>``). A
generic rule for the intent admits it for single hosts only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Bounds a group to what one run with forks and one step record can carry.
MAX_GROUP_MEMBERS = 256
_MEMBER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


class GroupError(ValueError):
    """The group cannot run; the message names the field (``environment.targets.<group>...``)."""


@dataclass(frozen=True)
class GroupTarget:
    name: str
    members: tuple[str, ...]


def declared_group(targets: Any, name: str) -> GroupTarget | None:
    """The group ``name`` as the environment's ``targets`` declare it; ``None`` when ``name``
    is not a group. A group without members, with a duplicate or malformed member, or with a
    member that is itself a group is refused."""
    spec = targets.get(name) if isinstance(targets, Mapping) else None
    if not isinstance(spec, Mapping) or str(spec.get("type") or "").strip().lower() != "group":
        return None
    field = f"environment.targets.{name}.members"
    members = spec.get("members")
    if not isinstance(members, list) or not members:
        raise GroupError(f"{field} must be a non-empty list of target ids")
    if len(members) > MAX_GROUP_MEMBERS:
        raise GroupError(f"{field} lists {len(members)} members; at most {MAX_GROUP_MEMBERS}")
    seen: list[str] = []
    for member in members:
        if not isinstance(member, str) or not _MEMBER_NAME.fullmatch(member):
            raise GroupError(f"{field}: {str(member)[:64]!r} is not a target id")
        if member in seen:
            raise GroupError(f"{field}: {member} is listed twice")
        if declared_group(targets, member) is not None:
            raise GroupError(f"{field}: {member} is a group (groups do not nest)")
        seen.append(member)
    return GroupTarget(name, tuple(seen))


def check_members_known(group: GroupTarget, known: Any, connector: str) -> None:
    """Refuse a group with a member the connector cannot reach (``known(member)`` false)."""
    unknown = [member for member in group.members if not known(member)]
    if unknown:
        raise GroupError(
            f"environment.targets.{group.name}.members: {', '.join(unknown[:8])} "
            f"{'is' if len(unknown) == 1 else 'are'} not in the inventory of connector {connector}"
        )


def environment_targets(environment_path: Path) -> Mapping[str, Any]:
    """The ``targets`` of an environment file, read the way ``tecrax run`` reads it (bounded,
    no YAML aliases)."""
    from tecrax.operator_files import OperatorFileError, load_yaml

    try:
        document = load_yaml(environment_path, "environment")
    except OperatorFileError as exc:
        raise GroupError(f"the operation's environment file is unusable: {exc}") from None
    environment = document.get("environment")
    targets = environment.get("targets") if isinstance(environment, Mapping) else None
    return targets if isinstance(targets, Mapping) else {}


def group_mutation_rule(
    *,
    policy_pack: Mapping[str, Any],
    environment_path: Path,
    intent: str,
    group: str,
    mode: str,
    risk: str,
) -> str | None:
    """The id of a policy rule that admits a mutating ``intent`` on ``group`` *by naming the
    group*: a rule GovEngine matched, of the effect that decided (several rules of one effect
    may match), with ``resource.target_ref: <group>`` among its conditions. ``None`` when no
    such rule matched or nothing admits the operation."""
    from govengine import explain_policy_evaluation
    from rexecop.environment.loader import load_environment
    from rexecop.policy.operation import build_operation_policy_request
    from rexecop.policy.pack import compile_environment_policy_pack

    compiled = compile_environment_policy_pack(dict(policy_pack))
    if compiled is None:
        return None
    request = build_operation_policy_request(
        operation_id="group-mutation-check",
        profile="tecrax",
        environment=load_environment(environment_path),
        intent=intent,
        target=group,
        mode=mode,
        risk=risk,
    )
    explanation = explain_policy_evaluation(request, compiled)
    if explanation.decision not in ("allow", "allow_with_obligations", "approval_required"):
        return None
    deciding = {item["rule_id"] for item in explanation.rule_evaluations
                if item.get("matched") and item.get("effect") == explanation.decision}
    for rule in policy_pack.get("rules") or []:
        conditions = rule.get("conditions") if isinstance(rule, Mapping) else None
        if rule.get("rule_id") in deciding and isinstance(conditions, Mapping) \
                and conditions.get("resource.target_ref") == group:
            return str(rule["rule_id"])
    return None


def member_names(members: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(members[:limit])
    return shown + (f" and {len(members) - limit} more" if len(members) > limit else "")
