"""Group targets in the backend and the internal actions: members from the operation's own
environment file, refusals before any Ansible run, one run over every member, one entry per
member, the summary validation judges and the rollback guard's per-member decision.

The Ansible run is replaced by a recorded ``PlaybookRun`` (a stand-in: the lab tests in
tests/integration/test_group_targets.py run the real thing); the facts in it are the real
normalizer's output for a recorded Debian 12 host."""

from __future__ import annotations

import copy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from ansible_collections.tecrax.ops.plugins.module_utils.host import host_inventory
from rexecop.connectors import ConnectorRequest
from unit.backend_config import ssh_config
from unit.rexecop_step import OperationSteps

from tecrax.backend import build_backend
from tecrax.backend import group_run
from tecrax.backend.config import ConfigError, parse_connector_config
from tecrax.backend.groups import GroupError, GroupTarget, check_members_known, declared_group, group_mutation_rule
from tecrax.backend.playbook_run import HostOutcome, PlaybookRun
from tecrax.group_summary import group_summary
from tecrax.internal_actions import lift_facts
from tecrax.operator_files import OperatorFileError, check_environment, check_group_mutation
from tecrax.rollback_guard import RollbackRefused, chrony_rollback_guard

DATA = Path(__file__).parent / "data" / "host_inventory" / "hosts" / "debian-12"
MEMBERS = ("web-1", "web-2", "web-3")
INVENTORY = {name: {"host": f"198.51.100.{index + 10}", "allowed_subnets": ["10.20.0.0/16"]}
             for index, name in enumerate(MEMBERS)}
CONFIG = ssh_config(INVENTORY, user="root")
READ_POLICY = {"policy_id": "unit", "version": "1", "rules": [
    {"rule_id": "allow-reads", "effect": "allow", "conditions": {"action.category": "operation", "action.mode": "read"},
     "reason_code": "ok"}]}
APPLY_RULE = {"rule_id": "allow-apply", "effect": "allow_with_obligations", "reason_code": "ok",
              "conditions": {"action.category": "operation", "action.mode": "mutating",
                             "action.intent": "configure_chrony_ntp_server"},
              "obligations": [{"obligation_id": "receipt", "kind": "receipt"}]}


def inventory_facts(hostname: str) -> dict[str, Any]:
    raw = {path.name: path.read_text(encoding="utf-8") for path in DATA.iterdir()}
    facts = host_inventory.normalize_host_inventory(dict(raw, hostname=hostname + "\n"))
    assert facts["hostname"] == hostname and facts["coverage"]["state"] == "complete"
    return facts


def write_env(path: Path, members: Any = MEMBERS, policy: dict[str, Any] | None = None,
              connector: dict[str, Any] | None = None) -> Path:
    document = {"environment": {
        "id": "unit", "profile": "tecrax",
        "targets": {**{name: {"type": "host"} for name in MEMBERS}, "fleet": {"type": "group", "members": members}},
        "connectors": {"tecrax_ansible": connector or CONFIG},
        "safety": {"default_mode": "observe"},
        "policy_pack": policy or READ_POLICY,
    }}
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


@pytest.fixture
def steps(tmp_path: Path) -> OperationSteps:
    return OperationSteps(tmp_path / "rexecop")


class Runs(list):  # type: ignore[type-arg]
    """Every Ansible run the backend asked for (its keyword arguments); each run answers with
    ``outcomes``."""

    def __init__(self) -> None:
        super().__init__()
        self.outcomes: dict[str, HostOutcome] = {}

    def run_playbook(self, **kwargs: Any) -> PlaybookRun:
        self.append(kwargs)
        failed = any(outcome.status != "ok" for outcome in self.outcomes.values())
        return PlaybookRun("failed" if failed else "successful", 0, 0.2, dict(self.outcomes))


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Runs:
    recorded = Runs()
    monkeypatch.setattr(group_run, "run_playbook", recorded.run_playbook)
    return recorded


def invoke(steps: OperationSteps, tmp_path: Path, *, action: str = "host_inventory", mode: str = "observe",
           intent: str = "collect_basic_host_inventory", env: Path | None = None, **options: Any) -> Any:
    env = env or write_env(tmp_path / "environment.yaml")
    document = yaml.safe_load(env.read_text())["environment"]
    steps.approve("alice")
    steps.record(intent=intent, target="fleet", mode=mode, environment=env, policy_pack=document["policy_pack"],
                 risk="medium")
    backend = build_backend(connector_name="tecrax_ansible", config=document["connectors"]["tecrax_ansible"],
                            mutating_allowed=True)
    return steps.invoke(backend, ConnectorRequest("tecrax_ansible", action, "fleet", mode, {}), **options)


# --- the group's declaration ---------------------------------------------------------------------


def test_a_group_declares_its_members_in_order() -> None:
    targets = {"a": {"type": "host"}, "fleet": {"type": "GROUP", "members": ["c", "a", "b"]}}
    assert declared_group(targets, "fleet") == GroupTarget("fleet", ("c", "a", "b"))
    assert declared_group(targets, "a") is None
    assert declared_group(targets, "unknown") is None


@pytest.mark.parametrize(
    ("members", "message"),
    [
        (None, "environment.targets.fleet.members must be a non-empty list of target ids"),
        ([], "environment.targets.fleet.members must be a non-empty list of target ids"),
        ("a,b", "environment.targets.fleet.members must be a non-empty list of target ids"),
        (["a", "a"], "environment.targets.fleet.members: a is listed twice"),
        (["a", "inner"], "environment.targets.fleet.members: inner is a group (groups do not nest)"),
        (["a", "b; id"], "environment.targets.fleet.members: 'b; id' is not a target id"),
        (["a", 7], "environment.targets.fleet.members: '7' is not a target id"),
        ([f"h{n}" for n in range(257)], "environment.targets.fleet.members lists 257 members; at most 256"),
    ],
)
def test_a_malformed_group_is_refused_naming_the_field(members: Any, message: str) -> None:
    targets = {"fleet": {"type": "group", "members": members}, "inner": {"type": "group", "members": ["a"]}}
    with pytest.raises(GroupError) as refused:
        declared_group(targets, "fleet")
    assert str(refused.value) == message


def test_members_the_connector_cannot_reach_are_named() -> None:
    with pytest.raises(GroupError, match=r"^environment.targets.fleet.members: x, y are not in the inventory of "
                                         r"connector tecrax_ansible$"):
        check_members_known(GroupTarget("fleet", ("a", "x", "y")), lambda member: member == "a", "tecrax_ansible")


# --- tecrax run's preflight ------------------------------------------------------------------------


def test_tecrax_run_refuses_an_unknown_member_before_planning(tmp_path: Path) -> None:
    check_environment(write_env(tmp_path / "good.yaml"))
    with pytest.raises(OperatorFileError) as refused:
        check_environment(write_env(tmp_path / "bad.yaml", members=["web-1", "ghost"]))
    assert str(refused.value) == ("bad.yaml: environment.targets.fleet.members: ghost is not in the inventory of "
                                  "connector tecrax_ansible")


def policy_with(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"policy_id": "unit", "version": "1", "rules": [copy.deepcopy(rule) for rule in rules]}


def named(rule: dict[str, Any], group: str = "fleet", **changes: Any) -> dict[str, Any]:
    return {**rule, "rule_id": f"{rule['rule_id']}-{group}", **changes,
            "conditions": {**rule["conditions"], "resource.target_ref": group}}


@pytest.mark.parametrize(
    ("rules", "admitting_rule"),
    [
        pytest.param([APPLY_RULE], None, id="generic-rule-only"),
        pytest.param([named(APPLY_RULE)], "allow-apply-fleet", id="rule-names-the-group"),
        pytest.param([APPLY_RULE, named(APPLY_RULE)], "allow-apply-fleet", id="both"),
        pytest.param([named(APPLY_RULE, "other")], None, id="rule-names-another-group"),
        pytest.param([named(APPLY_RULE), {"rule_id": "deny", "effect": "deny", "reason_code": "no",
                                          "conditions": {"action.category": "operation"}}], None, id="denied"),
        pytest.param([APPLY_RULE, named(APPLY_RULE, effect="allow")], None, id="named-rule-outranked"),
    ],
)
def test_a_group_mutation_needs_an_admitting_rule_that_names_the_group(
    tmp_path: Path, rules: list[dict[str, Any]], admitting_rule: str | None
) -> None:
    env = write_env(tmp_path / "env.yaml", policy=policy_with(*rules))
    found = group_mutation_rule(policy_pack=policy_with(*rules), environment_path=env,
                                intent="configure_chrony_ntp_server", group="fleet", mode="apply", risk="medium")
    assert found == admitting_rule
    if admitting_rule is None:
        with pytest.raises(OperatorFileError, match="apply of configure_chrony_ntp_server on group fleet refused"):
            check_group_mutation(env, intent="configure_chrony_ntp_server", target="fleet", mode="apply", risk="medium")
    else:
        check_group_mutation(env, intent="configure_chrony_ntp_server", target="fleet", mode="apply", risk="medium")


# --- the backend ----------------------------------------------------------------------------------


def test_one_run_over_every_member_and_one_entry_per_member(steps: OperationSteps, runs: Any, tmp_path: Path) -> None:
    runs.outcomes.update({
        "web-1": HostOutcome("ok", {"facts": inventory_facts("web-1"), "changed": False}),
        "web-2": HostOutcome("ok", {"facts": {"contract": "broken"}}),
        "web-3": HostOutcome("unreachable", {"msg": "ssh: connect to host 198.51.100.12 port 22: Connection refused"}),
    })
    response = invoke(steps, tmp_path)

    assert response.success, response.error
    (run,) = runs
    assert [host.name for host in run["hosts"]] == list(MEMBERS) and run["forks"] == 3
    assert "extravars" not in run  # per-member inputs are host variables
    assert all(host.variables["ansible_host"] == INVENTORY[host.name]["host"] for host in run["hosts"])
    data = response.data
    assert data["group"] == {"name": "fleet", "members": list(MEMBERS), "ran_on": list(MEMBERS), "forks": 3,
                             "serial": None}
    assert data["hosts"]["web-1"]["status"] == "ok" and data["hosts"]["web-1"]["facts"]["hostname"] == "web-1"
    assert data["hosts"]["web-2"]["error_class"] == "validation_failed"
    assert data["hosts"]["web-3"] == {"status": "unreachable", "error_class": "transient_connector_error",
                                      "error": "target web-3 unreachable (connection refused)"}
    assert set(data["output_digests"]) == {"facts.web-1"}
    assert "198.51.100" not in str({k: v for k, v in data.items() if k != "hosts"}) + data["hosts"]["web-3"]["error"]


def test_a_group_where_no_member_answers_fails_with_their_common_class(
    steps: OperationSteps, runs: Any, tmp_path: Path
) -> None:
    runs.outcomes.update({name: HostOutcome("unreachable", {"msg": "Connection refused"}) for name in MEMBERS})
    response = invoke(steps, tmp_path)
    assert not response.success
    assert response.data["error_class"] == "transient_connector_error"  # RExecOp retries it once
    assert response.error.startswith("group fleet: failed on web-1, web-2, web-3 (web-1: target web-1 unreachable")
    assert set(response.data["hosts"]) == set(MEMBERS)


def test_an_unknown_member_is_refused_before_any_run(steps: OperationSteps, runs: Any, tmp_path: Path) -> None:
    env = write_env(tmp_path / "environment.yaml", members=["web-1", "ghost"])
    response = invoke(steps, tmp_path, env=env)
    assert response.data["error_class"] == "validation_failed"
    assert response.error == ("environment.targets.fleet.members: ghost is not in the inventory of connector "
                              "tecrax_ansible")
    assert runs == []


def test_outside_an_operation_a_name_not_in_the_inventory_is_not_a_group(runs: Any) -> None:
    backend = build_backend(connector_name="tecrax_ansible", config=CONFIG)
    response = backend.invoke(ConnectorRequest("tecrax_ansible", "host_inventory", "fleet", "observe", {}))
    assert response.error == "target 'fleet' is not in the connector inventory"
    assert runs == []


@pytest.mark.parametrize("action", ["chrony_ntp_server_read", "chrony_ntp_server_apply"])
def test_a_group_mutation_the_policy_does_not_name_is_refused_before_any_run(
    steps: OperationSteps, runs: Any, tmp_path: Path, action: str
) -> None:
    env = write_env(tmp_path / "environment.yaml", policy=policy_with(APPLY_RULE))
    response = invoke(steps, tmp_path, env=env, action=action, mode="apply", intent="configure_chrony_ntp_server")
    assert response.data["error_class"] == "policy_denied"
    assert response.error == (
        "apply on group fleet refused: no policy rule admits configure_chrony_ntp_server on the group by name "
        "(conditions resource.target_ref: fleet); a mutation over a group runs only then")
    assert runs == []


def test_a_named_group_mutation_runs_host_by_host_with_each_members_inputs_and_stops_at_a_failure(
    steps: OperationSteps, runs: Any, tmp_path: Path
) -> None:
    env = write_env(tmp_path / "environment.yaml", policy=policy_with(named(APPLY_RULE)))
    runs.outcomes.update({"web-1": HostOutcome("failed", {"msg": "chrony did not restart"})})
    response = invoke(steps, tmp_path, env=env, action="chrony_ntp_server_apply", mode="apply",
                      intent="configure_chrony_ntp_server")
    (run,) = runs
    assert run["forks"] == 1
    assert [host.variables["tecrax_allowed_subnets"] for host in run["hosts"]] == [["10.20.0.0/16"]] * 3
    assert response.data["error_class"] == "validation_failed"
    assert response.error.startswith("group fleet: failed on web-1; not run on web-2, web-3 (web-1: module failed")
    assert {name: entry["status"] for name, entry in response.data["hosts"].items()} == {
        "web-1": "failed", "web-2": "not_run", "web-3": "not_run"}


def test_a_rollback_restore_runs_only_on_the_members_the_guard_named(
    steps: OperationSteps, runs: Any, tmp_path: Path
) -> None:
    env = write_env(tmp_path / "environment.yaml", policy=policy_with(named(APPLY_RULE)))
    common = {"env": env, "action": "chrony_ntp_server_rollback", "mode": "apply",
              "intent": "configure_chrony_ntp_server", "step_metadata": {"members_from": "rollback_guard"}}
    guard = {"internal_results": {"rollback_guard": {"status": "rollback_admitted", "restore_hosts": ["web-3"]}}}
    invoke(steps, tmp_path, shared_state=guard, **common)
    assert [host.name for host in runs[0]["hosts"]] == ["web-3"]

    refused = invoke(steps, tmp_path, shared_state={}, **common)
    assert refused.data["error_class"] == "policy_denied"
    assert refused.error == "step refused: rollback_guard named no members of group fleet to act on"
    assert len(runs) == 1


# --- lifting and the summary ------------------------------------------------------------------------


def group_step(entries: dict[str, Any]) -> dict[str, Any]:
    return {"facts_key": "basic_host_inventory", "facts_contract": "tecrax.basic_host_inventory",
            "group": {"name": "fleet", "members": list(entries)}, "hosts": entries}


def test_the_summary_passes_only_when_every_member_does() -> None:
    healthy = {name: {"status": "ok", "facts": inventory_facts(name)} for name in MEMBERS}
    summary = group_summary(group_step(healthy))
    assert summary["coverage"] == {"state": "complete", "blockers": []}
    assert summary["assessment"] == {"state": "healthy", "reasons": []}

    degraded = copy.deepcopy(healthy)
    degraded["web-2"]["facts"]["assessment"]["state"] = "degraded"
    degraded["web-3"] = {"status": "unreachable", "error_class": "transient_connector_error",
                         "error": "target web-3 unreachable (connection refused)"}
    summary = group_summary(group_step(degraded))
    assert summary["coverage"] == {"state": "partial",
                                   "blockers": ["web-3: target web-3 unreachable (connection refused)"]}
    assert summary["assessment"] == {"state": "unavailable", "reasons": ["web-2: degraded", "web-3: unavailable"]}
    assert summary["hosts"]["web-3"] == {"result": "unreachable", "coverage": "blocked", "assessment": "unavailable",
                                         "error_class": "transient_connector_error",
                                         "error": "target web-3 unreachable (connection refused)"}

    nobody = {name: {"status": "unreachable", "error_class": "x", "error": "down"} for name in MEMBERS}
    assert group_summary(group_step(nobody))["coverage"]["state"] == "blocked"


def test_lifting_a_group_step_gives_the_summary_and_each_members_facts() -> None:
    entries = {"web-1": {"status": "ok", "facts": inventory_facts("web-1")},
               "web-2": {"status": "failed", "error_class": "validation_failed", "error": "x"}}
    shared: dict[str, Any] = {"connector_results": {"observe": group_step(entries)}, "executed_steps": ["observe"]}
    result = lift_facts(SimpleNamespace(shared_state=shared))
    assert result["lifted"] == {"basic_host_inventory": "observe", "basic_host_inventory_by_host": "observe"}
    assert shared["basic_host_inventory"]["contract"] == {"id": "tecrax.group_summary", "version": "1.0"}
    assert list(shared["basic_host_inventory_by_host"]) == ["web-1"]


# --- the rollback guard over a group ------------------------------------------------------------------


def guard_context(before: dict[str, int | None], now: dict[str, int | None]) -> Any:
    def read(generations: dict[str, int | None]) -> dict[str, Any]:
        return {"group": {"name": "fleet", "members": list(generations)},
                "hosts": {name: {"status": "ok", "facts": {"backup": {"generation": value}}}
                          if value is not None else {"status": "unreachable"} for name, value in generations.items()}}

    step = {"id": "rollback_guard", "metadata": {"pre_read_step": "pre_read", "check_step": "rollback_check"}}
    return SimpleNamespace(step=step, shared_state={"connector_results": {
        "pre_read": read(before), "rollback_check": read(now)}})


def test_the_guard_restores_where_the_operation_wrote_and_skips_where_it_did_not() -> None:
    result = chrony_rollback_guard(guard_context({"a": 3, "b": 0, "c": 5}, {"a": 4, "b": 1, "c": 5}))
    assert result == {"status": "rollback_admitted", "restore_hosts": ["a", "b"],
                      "backup_generations": {"a": 4, "b": 1}}


@pytest.mark.parametrize(
    ("before", "now", "message"),
    [
        ({"a": 3, "b": 0}, {"a": 3, "b": 0}, "never wrote the managed file on any member"),
        ({"a": 3, "b": 0}, {"a": 4, "b": 3}, "3 applies changed the managed file on b since"),
        ({"a": 3, "b": None}, {"a": 4, "b": 1}, "no successful pre-read of the backup record on b"),
        ({"a": 3, "b": 1}, {"a": 4, "b": None}, "the rollback pre-check did not read the backup record on b"),
    ],
)
def test_the_guard_refuses_the_whole_rollback_when_any_member_is_in_doubt(
    before: dict[str, int | None], now: dict[str, int | None], message: str
) -> None:
    with pytest.raises(RollbackRefused, match=message):
        chrony_rollback_guard(guard_context(before, now))


# --- connector settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"forks": 0}, "forks must be between 1 and 100"),
        ({"forks": "10"}, "forks must be an integer"),
        ({"execution_node": "node-1"}, "execution_node must be a mapping"),
        ({"execution_node": {"host": "node-1"}}, "execution_node.ansible_runner is required"),
        ({"execution_node": {"host": "node-1", "ansible_runner": "bin/ansible-runner"}},
         "execution_node.ansible_runner must be an absolute path"),
        ({"execution_node": {"host": "node 1", "ansible_runner": "/opt/r"}}, "execution_node.host is not a valid"),
        ({"execution_node": {"host": "n", "ansible_runner": "/opt/r", "work_dir": "/tmp/$(id)"}},
         "execution_node.work_dir must be an absolute path"),
        ({"execution_node": {"host": "n", "ansible_runner": "/opt/r", "shell": "x"}},
         "unknown key(s) in execution_node: shell"),
    ],
)
def test_bad_fleet_settings_are_refused_naming_the_key(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_connector_config({**CONFIG, **settings})
    assert message in str(refused.value)


def test_fleet_settings_parse() -> None:
    config = parse_connector_config({**CONFIG, "forks": 25, "execution_node": {
        "host": "node-1.example.org", "port": 2222, "user": "runner",
        "ansible_runner": "/opt/node/bin/ansible-runner"}})
    assert config.forks == 25
    assert config.execution_node is not None and config.execution_node.work_dir == "/tmp"
    assert (config.execution_node.host, config.execution_node.port, config.execution_node.user) == (
        "node-1.example.org", 2222, "runner")
