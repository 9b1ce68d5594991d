"""One connector step over a group target: one ansible-runner run over every member.

The step's data carries one entry per member under ``hosts``: its status, and either its
facts (schema-checked on their own, with their own digest) or the error class and message a
single-host step would have failed with. One unreachable or failing member never hides the
others' results: a read-only step succeeds when at least one member returned facts, and
``tecrax_lift_facts`` turns the entries into per-host facts and the group summary that the
intent's validation rule judges (see ``tecrax.internal_actions``).

A mutating step runs host by host (the mutation playbooks declare ``serial: 1``): the first
member that fails restores its own previous state (the module's guarantee), the play stops,
and the members after it are not touched. The step then fails, naming which members applied,
which failed and which never ran, so that ``rexecop rollback`` can restore the ones that
applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rexecop.connectors import ConnectorRequest, ConnectorResponse

from tecrax import __version__, collection_root
from tecrax.backend import progress
from tecrax.backend.actions import ActionSpec, load_input_catalog
from tecrax.backend.config import ConnectorConfig
from tecrax.backend.digests import collection_digests
from tecrax.backend.facts_check import FactsRejected, canonical_json, check_facts, sha256_digest
from tecrax.backend.approval import RunningOperation, running_operation
from tecrax.backend.groups import (
    GroupError,
    GroupTarget,
    check_members_known,
    declared_group,
    environment_targets,
    group_mutation_rule,
    member_names,
)
from tecrax.backend.playbook_run import PlaybookRun, RunHost, run_playbook
from tecrax.backend.runtime import (
    CHECK_MODES,
    POLICY_DENIED,
    READ_ONLY_MODES,
    TIMEOUT,
    UNSUPPORTED,
    VALIDATION_FAILED,
    AnsibleBackend,
    Failure,
    _action_inputs,
    _effective_limit,
    _execution_node,
    _host_variables,
    _Identity,
    _module_result,
    _prepare_result_checks,
    _scrub,
    _ssh_args,
    _where_it_runs,
)

NOT_RUN = "not_run"
# Step metadata naming the internal step whose result lists the members a step may touch
# (the rollback restore runs only where the rollback guard found this operation's change).
MEMBERS_FROM = "members_from"


def resolve_group_step(
    backend: AnsibleBackend, request: ConnectorRequest, action: ActionSpec, config: ConnectorConfig, target: str
) -> ConnectorResponse | None:
    """The step over ``target``'s members when the operation's environment declares it as a
    group; ``None`` when it is not a group (or the call comes from outside an operation)."""
    operation = running_operation(request)
    path = operation.record.metadata.get("environment_path") if operation is not None else None
    if operation is None or not isinstance(path, str) or not path:
        return None
    try:
        group = declared_group(environment_targets(Path(path)), target)
        if group is None:
            return None
        check_members_known(group, lambda member: config.host_for(member) is not None, backend.connector_name)
    except GroupError as exc:
        raise Failure(VALIDATION_FAILED, str(exc)) from None
    if request.mode not in READ_ONLY_MODES:
        _require_group_mutation_rule(operation, group, request.mode)
    return run_group_step(backend, request, action, config, group, _members_for_step(operation, group))


def _require_group_mutation_rule(operation: RunningOperation, group: GroupTarget, mode: str) -> None:
    """Every step of a mutating operation on a group (its reads too, so nothing connects)
    needs a policy rule that admits it by naming the group."""
    metadata = operation.record.metadata
    policy = metadata.get("policy_pack")
    rule = None
    if isinstance(policy, Mapping):
        try:
            rule = group_mutation_rule(
                policy_pack=policy,
                environment_path=Path(str(metadata.get("environment_path"))),
                intent=str(operation.record.intent),
                group=group.name,
                mode=mode,
                risk=str(operation.store.load_plan(operation.operation_id).risk),
            )
        except Exception:  # noqa: BLE001 - an unreadable policy or plan admits nothing
            rule = None
    if rule is None:
        raise Failure(
            POLICY_DENIED,
            f"{mode} on group {group.name} refused: no policy rule admits {operation.record.intent} on the group "
            f"by name (conditions resource.target_ref: {group.name}); a mutation over a group runs only then",
        )


def _members_for_step(operation: RunningOperation, group: GroupTarget) -> tuple[str, ...]:
    metadata = operation.step.get("metadata")
    source = metadata.get(MEMBERS_FROM) if isinstance(metadata, Mapping) else None
    if not source:
        return group.members
    results = operation.shared_state.get("internal_results")
    result = results.get(source) if isinstance(results, Mapping) else None
    listed = result.get("restore_hosts") if isinstance(result, Mapping) else None
    if not isinstance(listed, list) or not set(listed) <= set(group.members):
        raise Failure(POLICY_DENIED, f"step refused: {source} named no members of group {group.name} to act on")
    if not listed:
        raise Failure(VALIDATION_FAILED, f"nothing to do on group {group.name}: {source} found no member to act on")
    return tuple(member for member in group.members if member in listed)


def run_group_step(
    backend: AnsibleBackend,
    request: ConnectorRequest,
    action: ActionSpec,
    config: ConnectorConfig,
    group: GroupTarget,
    members: tuple[str, ...],
) -> ConnectorResponse:
    """Run ``action`` over ``members`` (the group's, or the subset a rollback restores)."""
    catalog = load_input_catalog(backend._profile_path())
    secrets = catalog.secrets
    if any(name in secrets for name in action.inputs):
        raise Failure(UNSUPPORTED,
                      f"action {action.name} takes a secret input: run it per target, not on group {group.name}")
    if not (collection_root() / action.playbook).is_file():
        raise Failure(UNSUPPORTED, f"the bundled collection has no playbook for {action.name}")
    hosts = {member: _where_it_runs(action, catalog, config.host_for(member)) for member in members}
    inputs = {member: _action_inputs(action, host, member, secrets) for member, host in hosts.items()}
    timeout = _effective_limit(request, "timeout_seconds", config.timeout_seconds)
    max_output = _effective_limit(request, "max_output_bytes", config.max_output_bytes)
    over_ssh = any(host.connection != "local" for host in hosts.values())
    identity = backend._identity(config) if over_ssh else _Identity()
    forks = 1 if action.mutating else min(len(members), config.forks)
    progress.emit(phase="started", action=action.name, module=action.module,
                  target=f"{group.name} ({len(members)} hosts)", hosts=list(members))
    prepared = _prepare_result_checks(backend._profile_path() / action.schema, action)
    run = run_playbook(
        collection_root=collection_root(),
        playbook=action.playbook,
        module=action.module,
        hosts=[RunHost(member, {**_host_variables(config, host, identity.key_file), **inputs[member]})
               for member, host in hosts.items()],
        ssh_args=_ssh_args(config, timeout, identity) if over_ssh else "",
        pipelining=config.ssh_pipelining,
        timeout_seconds=timeout,
        check_mode=request.mode in CHECK_MODES,
        ssh_key=identity.key_material,
        forks=forks,
        node=_execution_node(config, list(hosts.values())),
    )
    prepared.join()
    entries = {member: _member_entry(backend, action, run, member) for member in members}
    ok = [member for member, entry in entries.items() if entry["status"] == "ok"]
    progress.emit(
        phase="finished", action=action.name, target=group.name, seconds=run.duration_seconds,
        status="ok" if len(ok) == len(members) else "partial" if ok else "failed",
        detail=f"{len(ok)} of {len(members)} hosts ok",
    )
    data: dict[str, Any] = {
        "action": action.name,
        "target": request.target,
        "mode": request.mode,
        "changed": any(entry.get("changed") for entry in entries.values()),
        "check_mode": request.mode in CHECK_MODES,
        "facts_contract": action.facts_contract,
        "facts_key": action.facts_key,
        "group": {"name": group.name, "members": list(group.members), "ran_on": list(members),
                  "forks": forks, "serial": 1 if action.mutating else None},
        "hosts": entries,
        "output_digests": {f"facts.{member}": entries[member]["output_digest"] for member in ok},
        "output_sizes": {f"facts_bytes.{member}": entries[member]["facts_bytes"] for member in ok},
        "output_truncated": {"facts": False},
        "collection": {"name": "tecrax.ops", "version": __version__, **collection_digests(action)},
        "runner": {"status": run.status, "duration_seconds": run.duration_seconds},
    }
    failed = [member for member in members if member not in ok]
    if not ok or (action.mutating and failed):
        raise Failure(_step_error_class(entries, failed), _step_message(group, entries, failed), data)
    size = len(canonical_json(data))
    if size > max_output:
        raise Failure(VALIDATION_FAILED, f"step data of {size} bytes exceeds max_output_bytes {max_output}")
    return ConnectorResponse(request.connector, request.action, True, data, "")


def _member_entry(backend: AnsibleBackend, action: ActionSpec, run: PlaybookRun, member: str) -> dict[str, Any]:
    outcome = run.outcome_for(member)
    try:
        if outcome.status == "no_result" and run.status != "timeout":
            return {"status": NOT_RUN, "error_class": NOT_RUN, "error": "an earlier host failed or the run stopped"}
        result = outcome.result if outcome.status == "ok" else _module_result(run, member)
        facts = result.get("facts")
        encoded = check_facts(facts, schema_path=backend._profile_path() / action.schema,
                              contract_id=action.facts_contract)
    except Failure as failure:
        entry: dict[str, Any] = {"status": outcome.status if outcome.status != "no_result" else "timeout",
                                 "error_class": failure.error_class, "error": _scrub(failure.message)}
        reported = backend._failed_module_data(action, run, member)
        if reported:
            entry.update({key: reported[key] for key in ("facts", "changed", "before_state", "after_state")
                          if key in reported})
        return entry
    except FactsRejected as exc:
        return {"status": "failed", "error_class": VALIDATION_FAILED, "error": _scrub(str(exc))}
    entry = {
        "status": "ok",
        "changed": bool(result.get("changed", False)),
        "facts": facts,
        "output_digest": sha256_digest(encoded),
        "facts_bytes": len(encoded),
    }
    for state_key in ("before_state", "after_state"):
        if isinstance(result.get(state_key), dict):
            entry[state_key] = result[state_key]
    return entry


def _step_error_class(entries: Mapping[str, Mapping[str, Any]], failed: list[str]) -> str:
    """The members' common error class; a mix is validation_failed. A timeout of the run or
    unreachable members only keep their own class, so that RExecOp's retry policy applies."""
    classes = {entries[member]["error_class"] for member in failed if entries[member]["status"] != NOT_RUN}
    if len(classes) == 1:
        return classes.pop()
    return TIMEOUT if TIMEOUT in classes else VALIDATION_FAILED


def _step_message(group: GroupTarget, entries: Mapping[str, Mapping[str, Any]], failed: list[str]) -> str:
    """Who succeeded, who failed and who never ran first (messages are cut at 300 characters),
    then the first failures' own messages."""
    succeeded = [member for member, entry in entries.items() if entry["status"] == "ok"]
    not_run = [member for member in failed if entries[member]["status"] == NOT_RUN]
    broken = [member for member in failed if member not in not_run]
    text = f"group {group.name}: failed on {member_names(broken)}" if broken else f"group {group.name}:"
    if succeeded:
        text += f"; succeeded on {member_names(succeeded)}"
    if not_run:
        text += f"; not run on {member_names(not_run)}"
    return text + " (" + "; ".join(f"{member}: {entries[member]['error']}" for member in broken[:3]) + ")"
