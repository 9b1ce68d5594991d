"""Group targets and execution nodes end to end: real lab hosts over real SSH through the real
RExecOp / GovEngine / SCLite stack.

A group target (environment ``{type: group, members: [...]}``) is one governed operation: one
admission, one ansible-runner run over every member, per-member facts and results; a mutation
over a group runs host by host, and only when the policy names the group. An execution node
runs the admitted step with ``ansible-runner worker`` on another lab host."""

from __future__ import annotations

import copy
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from chrony_mutation_lab import (
    INTENT as CHRONY_INTENT,
    MANAGED_FILE,
    RESTART_FAULT_UNIT,
    chrony_active,
    expected_file,
    host_fingerprint,
    mutation_policy,
    pick_private_subnet,
    provision_ntp_server,
    read_file,
    rollback,
    set_drop_in,
    udp_123_listening,
)
from harness import (
    Governed,
    LabTarget,
    PlanRefused,
    allow_read_policy,
    deny_rule,
    wait_for,
    write_environment,
)
from node_lab import EXECUTION_NODE_FLAVOR, NODE_RUNNER

from tecrax.evidence import verify_bundle

INTENT = "collect_basic_host_inventory"
GROUP = "fleet"
MEMBERS = ("grp-a", "grp-b", "grp-c")
# Facts of one host that do not change between two runs a second apart.
STABLE_FACTS = ("contract", "scope", "coverage", "hostname", "os", "kernel", "non_claims")
STATE_WAIT = 120  # how long a test waits for a state before failing (not a measured bound)
pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def hosts(lab: Any) -> dict[str, Any]:
    # chrony serving its own clock on every member: the group mutation tests configure it.
    return {host.name: host for host in lab.boot(list(MEMBERS), provision=provision_ntp_server)}


@pytest.fixture(scope="module")
def node(lab: Any) -> Any:
    (booted,) = lab.boot(["grp-node"], flavor=EXECUTION_NODE_FLAVOR)
    return booted


@pytest.fixture
def governed(tmp_path: Path, lab: Any) -> Governed:
    return Governed(tmp_path / "rexecop", lab.private_key)


def environment(tmp_path: Path, lab: Any, hosts: dict[str, Any], *, members: Any = MEMBERS,
                name: str = "environment.yaml", **options: Any) -> Path:
    targets = [LabTarget(h.name, h.address, h.port) for h in hosts.values()]
    return write_environment(tmp_path / name, targets, known_hosts=lab.known_hosts,
                             groups={GROUP: list(members)}, **options)


def logins(lab: Any, hosts: dict[str, Any]) -> dict[str, int]:
    return {name: lab.sshd_accepted_count(host) for name, host in hosts.items()}


def tecrax_run(governed: Governed, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).with_name("tecrax")), "run", *args, "--root", str(governed.root)],
                          capture_output=True, text=True, timeout=600, env=governed.env, check=False)


def host_facts(lab: Any, host: Any) -> dict[str, str]:
    hostname = lab.ssh(host, "hostname", check=True).stdout.strip()
    kernel = lab.ssh(host, "uname -srm", check=True).stdout.split()
    return {"hostname": hostname, "kernel_release": kernel[1]}


# --- read-only intents over a group --------------------------------------------------------


def test_group_of_three_is_one_operation_with_each_members_facts(
    tmp_path: Path, lab: Any, hosts: dict[str, Any], governed: Governed
) -> None:
    before = logins(lab, hosts)
    outcome = governed.run(environment(tmp_path, lab, hosts), INTENT, GROUP)

    assert outcome.state == "completed" and outcome.validation_passed, outcome.last_failure
    assert outcome.validation["rule"] == "collect_basic_host_inventory.complete"
    assert outcome.runtime_receipt["success"] is True
    assert outcome.evidence_verified, outcome.evidence_checks
    # One admission and one step for the group; one run in which each member logged in once.
    records = [json.loads(path.read_text()) for path in (governed.root / "operations").glob("*.json")]
    assert [record["target"] for record in records] == [GROUP]
    assert {name: count - before[name] for name, count in logins(lab, hosts).items()} == dict.fromkeys(MEMBERS, 1)

    step = outcome.step_data("observe_host_inventory")
    assert step["group"]["members"] == list(MEMBERS) and step["runner"]["status"] == "successful"
    assert set(step["output_digests"]) == {f"facts.{member}" for member in MEMBERS}
    by_host = outcome.facts["basic_host_inventory_by_host"]
    assert sorted(by_host) == sorted(MEMBERS)
    for name, facts in by_host.items():
        expected = host_facts(lab, hosts[name])
        assert facts["contract"] == {"id": "tecrax.basic_host_inventory", "version": "1.0"}
        assert facts["coverage"]["state"] == "complete"
        assert facts["hostname"] == expected["hostname"] == name
        assert facts["kernel"]["release"] == expected["kernel_release"]
    summary = outcome.facts["basic_host_inventory"]
    assert summary["contract"]["id"] == "tecrax.group_summary"
    assert summary["coverage"] == {"state": "complete", "blockers": []}
    assert {name: row["result"] for name, row in summary["hosts"].items()} == dict.fromkeys(MEMBERS, "ok")


def test_a_member_with_sshd_stopped_fails_alone_and_the_operation_names_it(
    tmp_path: Path, lab: Any, hosts: dict[str, Any], governed: Governed
) -> None:
    down = hosts["grp-c"]
    # A master connection left by an earlier test would outlive sshd (docs/architecture.md,
    # "SSH connection reuse"): this run must make new connections.
    env = environment(tmp_path, lab, hosts, connector={"ssh_control_persist_seconds": 0})
    lab.stop_service(down, "ssh.service")
    try:
        completed = tecrax_run(governed, INTENT, "--env", str(env), "--target", GROUP)
    finally:
        lab.start_service(down, "ssh.service")

    assert completed.returncode == 3, completed.stderr + completed.stdout
    lines = completed.stdout.splitlines()
    assert "  finished  host_inventory: partial (2 of 3 hosts ok)" in "\n".join(lines)
    assert "  state     failed; validation FAILED" in lines
    assert f"  hosts     {GROUP}: 2 of 3 passed" in lines
    rows = {line.split()[0]: line.split() for line in lines if line.startswith("            grp-")}
    assert rows["grp-a"][1:5] == rows["grp-b"][1:5] == ["yes", "ok", "complete", "healthy"]
    assert rows["grp-c"][1:5] == ["NO", "unreachable", "blocked", "unavailable"]
    assert "transient_connector_error: target grp-c unreachable (connection refused)" in " ".join(rows["grp-c"])
    assert down.address not in completed.stdout

    operation_id = lines[-1].split()[-1]
    outcome = governed.outcome(operation_id)
    assert outcome.state == "failed" and outcome.validation["rule"] == "collect_basic_host_inventory.incomplete"
    assert outcome.validation["details"]["coverage"] == {
        "state": "partial", "blockers": ["grp-c: target grp-c unreachable (connection refused)"]}
    assert sorted(outcome.facts["basic_host_inventory_by_host"]) == ["grp-a", "grp-b"]
    assert outcome.facts["basic_host_inventory_by_host"]["grp-b"]["hostname"] == "grp-b"
    assert outcome.evidence_verified, outcome.evidence_checks
    report = json.loads(subprocess.run(
        [str(Path(sys.executable).with_name("tecrax")), "evidence", operation_id, "--root", str(governed.root),
         "--json"], capture_output=True, text=True, timeout=300, check=False).stdout)
    assert {name: row["passed"] for name, row in report["hosts"].items()} == {
        "grp-a": True, "grp-b": True, "grp-c": False}


def test_a_member_not_in_the_environment_is_refused_before_anything_connects(
    tmp_path: Path, lab: Any, hosts: dict[str, Any], governed: Governed
) -> None:
    env = environment(tmp_path, lab, hosts, members=["grp-a", "grp-ghost", "grp-b"])
    before = logins(lab, hosts)
    message = "environment.targets.fleet.members: grp-ghost is not in the inventory of connector tecrax_ansible"

    completed = tecrax_run(governed, INTENT, "--env", str(env), "--target", GROUP)
    assert completed.returncode == 1
    assert completed.stderr.strip() == f"tecrax: environment.yaml: {message}"
    assert not (governed.root / "operations").exists() or not list((governed.root / "operations").glob("*.json"))

    # RExecOp's own plan accepts any member name (0.2.16a0 has no plan-time hook for a plugin
    # backend); the backend refuses the step before any Ansible process starts.
    outcome = governed.run(env, INTENT, GROUP)
    assert outcome.state == "failed"
    assert outcome.last_failure["error_class"] == "validation_failed" and outcome.last_failure["error"] == message
    assert outcome.evidence_verified, outcome.evidence_checks
    assert logins(lab, hosts) == before


def test_a_deny_policy_makes_no_ssh_connection_to_any_member(
    tmp_path: Path, lab: Any, hosts: dict[str, Any], governed: Governed
) -> None:
    policy = {**allow_read_policy(), "rules": [deny_rule(INTENT), *allow_read_policy()["rules"]]}
    before = logins(lab, hosts)
    with pytest.raises(PlanRefused, match="operation policy denied"):
        governed.plan(environment(tmp_path, lab, hosts, policy=policy), INTENT, GROUP)
    assert logins(lab, hosts) == before
    assert not list((governed.root / "operations").glob("*.json"))


# --- the execution node ------------------------------------------------------------------------


@pytest.mark.parametrize("identity", ["key-file", "key-material"])
def test_execution_node_returns_the_same_facts_as_a_local_run_with_verified_evidence(
    tmp_path: Path, lab: Any, hosts: dict[str, Any], node: Any, governed: Governed, identity: str
) -> None:
    if identity == "key-material":
        governed.env["REXECOP_SECRET_LAB_SSH_IDENTITY"] = lab.private_key.read_text()
    target = hosts["grp-a"]
    local_env = environment(tmp_path, lab, hosts, name="local.yaml")
    node_env = environment(tmp_path, lab, hosts, name="node.yaml", connector={
        "execution_node": {"host": node.address, "ansible_runner": NODE_RUNNER}})

    local = governed.run(local_env, INTENT, target.name)
    node_logins = lab.sshd_accepted_count(node)
    remote = governed.run(node_env, INTENT, target.name)

    for outcome in (local, remote):
        assert outcome.state == "completed" and outcome.validation_passed, outcome.last_failure
        assert outcome.runtime_receipt["success"] is True
        assert outcome.evidence_verified, outcome.evidence_checks
    local_facts, remote_facts = local.facts["basic_host_inventory"], remote.facts["basic_host_inventory"]
    assert {key: remote_facts[key] for key in STABLE_FACTS} == {key: local_facts[key] for key in STABLE_FACTS}
    assert remote_facts["memory_mib"]["total"] == local_facts["memory_mib"]["total"]
    assert remote_facts["root_filesystem"]["device"] == local_facts["root_filesystem"]["device"]
    local_step, remote_step = local.step_data("observe_host_inventory"), remote.step_data("observe_host_inventory")
    assert remote_step["collection"] == local_step["collection"]
    assert remote_step["runner"]["status"] == "successful"

    # The module ran from the node: the controller logged in to the node, the node to the target.
    assert lab.sshd_accepted_count(node) == node_logins + 1
    journal = lab.exec(target, ["journalctl", "--unit=ssh", "--output=cat", "--no-pager"], check=True).stdout
    accepted = [line for line in journal.splitlines() if "Accepted publickey" in line]
    assert f" from {node.address} " in accepted[-1] and f" from {lab.network.controller_address} " in accepted[-2]
    # The worker's job directory is gone, and no key reached the node's disk.
    leftovers = lab.exec(node, ["sh", "-c", "ls -d /tmp/tecrax-job-* 2>/dev/null; "
                                            "grep -rls 'PRIVATE KEY' /tmp /root /var/tmp 2>/dev/null"]).stdout
    assert leftovers.strip() == ""


def test_execution_node_runs_a_group_and_an_unreachable_node_is_transient(
    tmp_path: Path, lab: Any, hosts: dict[str, Any], node: Any, governed: Governed
) -> None:
    env = environment(tmp_path, lab, hosts, connector={
        "execution_node": {"host": node.address, "ansible_runner": NODE_RUNNER}, "timeout_seconds": 30})
    outcome = governed.run(env, INTENT, GROUP)
    assert outcome.state == "completed" and outcome.validation_passed, outcome.last_failure
    assert sorted(outcome.facts["basic_host_inventory_by_host"]) == sorted(MEMBERS)
    assert outcome.evidence_verified, outcome.evidence_checks

    before = logins(lab, hosts)
    lab.stop_service(node, "ssh.service")
    try:
        outcome = governed.run(env, INTENT, GROUP)
    finally:
        lab.start_service(node, "ssh.service")
    assert outcome.state == "failed"
    assert outcome.last_failure["error_class"] == "transient_connector_error"
    assert outcome.last_failure["error"] == f"execution node {node.address} unreachable (connection refused)"
    assert outcome.last_failure["attempt"] == 2  # retried once, like an unreachable host
    assert logins(lab, hosts) == before
    assert outcome.evidence_verified, outcome.evidence_checks


def test_ctrl_c_cuts_the_stream_to_the_node_and_the_job_ends_there_on_its_own(
    tmp_path: Path, lab: Any, hosts: dict[str, Any], node: Any, governed: Governed
) -> None:
    # df hangs on the target, so the job on the node waits in the module until the signal.
    # The controller cuts the stream at once; on the node the module ends df at its budget
    # (30 s step timeout -> 20 s), the worker ends and removes its job directory.
    target = hosts["grp-b"]
    env = environment(tmp_path, lab, hosts, connector={
        "timeout_seconds": 30, "execution_node": {"host": node.address, "ansible_runner": NODE_RUNNER}})
    node_python = f"{NODE_RUNNER.rsplit('/', 1)[0]}/python3"
    with lab.hang_command(target, "/usr/bin/df") as hung_df:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("tecrax")), "run", INTENT, "--env", str(env), "--target", target.name,
             "--root", str(governed.root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=governed.env)
        wait_for(lambda: hung_df.pids(), STATE_WAIT, "the module to reach df on the target")
        assert lab.program_pids(node, node_python), "the job runs on the node"
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=STATE_WAIT)
        assert process.returncode == 130, stdout
        wait_for(lambda: not lab.program_pids(node, node_python), STATE_WAIT, "the job on the node to end")
    operation_id = stdout.splitlines()[-1].split()[-1]
    assert json.loads((governed.root / "operations" / f"{operation_id}.json").read_text())["state"] == "cancelled"
    assert lab.exec(node, ["sh", "-c", "ls -d /tmp/tecrax-job-* 2>/dev/null; true"]).stdout.strip() == ""
    assert verify_bundle(governed.root / "sclite" / operation_id)[0].passed


# --- a mutation over a group -------------------------------------------------------------------


def chrony_group_environment(
    tmp_path: Path, lab: Any, hosts: dict[str, Any], *, name_the_group: bool
) -> tuple[Path, str]:
    """configure_chrony_ntp_server admitted for the intent; with ``name_the_group`` also by a
    rule naming the group (resource.target_ref), which a mutation over a group needs. Every
    member serves one private /24; returns the environment and that subnet."""
    policy = mutation_policy()
    if name_the_group:
        group_rule = {**copy.deepcopy(policy["rules"][0]), "rule_id": "allow-chrony-ntp-server-apply-fleet"}
        group_rule["conditions"] = {**group_rule["conditions"], "resource.target_ref": GROUP}
        policy["rules"].insert(0, group_rule)
    subnet = str(pick_private_subnet())
    inventory = {h.name: {"host": h.address, "port": h.port, "allowed_subnets": [subnet]} for h in hosts.values()}
    return environment(tmp_path, lab, hosts, policy=policy, connector={"inventory": inventory}), subnet


def test_a_group_mutation_the_policy_does_not_name_the_group_for_is_refused_and_nothing_connects(
    tmp_path: Path, lab: Any, hosts: dict[str, Any], governed: Governed
) -> None:
    env, _ = chrony_group_environment(tmp_path, lab, hosts, name_the_group=False)
    before, files = logins(lab, hosts), {name: host_fingerprint(lab, host) for name, host in hosts.items()}

    completed = tecrax_run(governed, CHRONY_INTENT, "--env", str(env), "--target", GROUP,
                           "--approve-by", "lab-operator")
    assert completed.returncode == 1
    assert completed.stderr.strip() == (
        "tecrax: environment.yaml: apply of configure_chrony_ntp_server on group fleet refused: no policy rule "
        "admits it by naming the group (conditions resource.target_ref: fleet)")

    # Through RExecOp directly: admitted for the intent and approved, yet every step is refused.
    operation_id = governed.plan(env, CHRONY_INTENT, GROUP, "apply")
    governed.rexecop("approve", "--operation", operation_id, "--by", "lab-operator")
    governed.start(operation_id)
    outcome = governed.outcome(operation_id)
    assert outcome.state == "failed" and outcome.last_failure["step_id"] == "pre_read"
    assert outcome.last_failure["error_class"] == "policy_denied"
    assert outcome.last_failure["error"].startswith("apply on group fleet refused: no policy rule admits")
    assert logins(lab, hosts) == before
    assert {name: host_fingerprint(lab, host) for name, host in hosts.items()} == files


def test_a_group_mutation_goes_host_by_host_stops_at_the_first_failure_and_rolls_back_what_it_applied(
    tmp_path: Path, lab: Any, hosts: dict[str, Any], governed: Governed
) -> None:
    env, subnet = chrony_group_environment(tmp_path, lab, hosts, name_the_group=True)
    first, failing, last = (hosts[name] for name in MEMBERS)
    untouched = host_fingerprint(lab, last)
    # chronyd refuses to start while the managed file exists on the second member.
    set_drop_in(lab, failing, RESTART_FAULT_UNIT)
    try:
        completed = tecrax_run(governed, CHRONY_INTENT, "--env", str(env), "--target", GROUP,
                               "--approve-by", "lab-operator")
    finally:
        set_drop_in(lab, failing, None)
    assert completed.returncode == 3, completed.stderr + completed.stdout
    operation_id = completed.stdout.splitlines()[-1].split()[-1]
    outcome = governed.outcome(operation_id)
    assert outcome.state == "failed" and outcome.last_failure["step_id"] == "apply"
    assert outcome.last_failure["error"].startswith(
        "group fleet: failed on grp-b; succeeded on grp-a; not run on grp-c")
    apply_data = outcome.step_results["apply"]["output"]["data"]
    assert apply_data["group"]["serial"] == 1 and apply_data["group"]["forks"] == 1
    assert {name: entry["status"] for name, entry in apply_data["hosts"].items()} == {
        "grp-a": "ok", "grp-b": "failed", "grp-c": "not_run"}
    assert outcome.evidence_verified, outcome.evidence_checks

    assert read_file(lab, first, MANAGED_FILE) == expected_file([subnet])
    assert read_file(lab, failing, MANAGED_FILE) is None  # restored by the module itself
    assert chrony_active(lab, failing)
    assert host_fingerprint(lab, last) == untouched  # never reached: the play stopped at grp-b

    result = rollback(governed, operation_id)
    assert result["returncode"] == 0 and result["result"]["success"] is True, result
    guard = result["result"]["step_results"]["rollback_guard"]["output"]
    assert guard["restore_hosts"] == ["grp-a", "grp-b"]  # grp-c: this operation never wrote there
    restore = result["result"]["step_results"]["rollback_restore"]["output"]["data"]
    assert restore["group"]["ran_on"] == ["grp-a", "grp-b"]
    assert restore["hosts"]["grp-a"]["changed"] is True and restore["hosts"]["grp-b"]["changed"] is False
    assert read_file(lab, first, MANAGED_FILE) is None
    assert chrony_active(lab, first) and host_fingerprint(lab, last) == untouched

    # Without the fault the same operation runs through every member, one after the other.
    completed = tecrax_run(governed, CHRONY_INTENT, "--env", str(env), "--target", GROUP,
                           "--approve-by", "lab-operator")
    assert completed.returncode == 0, completed.stderr + completed.stdout
    assert "configure_chrony_ntp_server.serving_as_desired: pass" in completed.stdout
    assert f"  hosts     {GROUP}: 3 of 3 passed" in completed.stdout.splitlines()
    for host in hosts.values():
        assert read_file(lab, host, MANAGED_FILE) == expected_file([subnet])
        assert chrony_active(lab, host) and udp_123_listening(lab, host)
