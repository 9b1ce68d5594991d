"""configure_chrony_ntp_server (and its dry run plan_chrony_ntp_server) end to end: real
chronyd under systemd on lab hosts, real Ansible over SSH, the real RExecOp / GovEngine /
SCLite stack, approvals, refusals, faults, rollback and a killed run.

The client subnet is a private /24 picked at run time (chrony_mutation_lab.pick_private_subnet)
and added to the lab hosts' own interfaces; see that module for why and how."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chrony_mutation_lab import (
    INTENT,
    MANAGED_FILE,
    NO_SERVER_PORT,
    PLAN_INTENT,
    RESTART_FAULT_UNIT,
    SLOW_START_UNIT,
    add_private_address,
    apply,
    backup_record,
    chrony_active,
    chrony_environment,
    chrony_pid,
    edit_operation_record,
    expected_file,
    host_fingerprint,
    install_file,
    mutation_policy,
    operation_record,
    operation_state,
    pick_private_subnet,
    point_client_at,
    provision_ntp_client,
    provision_ntp_server,
    provision_without_chrony,
    read_file,
    rollback,
    set_drop_in,
    udp_123_listening,
    wait_for_client_sync,
)
from harness import Governed, PlanRefused, wait_for
from lab import Host, Lab
from ntp_lab import write_host_file

pytestmark = pytest.mark.lab

SERVERS = ("ntp-srv", "ntp-fault", "ntp-roll", "ntp-kill")
REPO = Path(__file__).resolve().parents[2]
NOT_INSTALLED = "chrony is not installed (no chronyd or no chrony.service); nothing was changed"
UNAPPROVED = "; an apply runs only after rexecop approve --operation <id> --by <name>"


@dataclass
class World:
    lab: Lab
    hosts: dict[str, Host]
    subnet: ipaddress.IPv4Network
    addresses: dict[str, str]
    root: Path

    def governed(self, name: str) -> Governed:
        return Governed(self.root / name, self.lab.private_key)

    def operations(self, governed: Governed, monkeypatch: pytest.MonkeyPatch) -> Any:
        """The same RExecOp controller in this process (what `tecrax run` drives): no CLI
        process per command, and a progress listener can act between two steps."""
        from tecrax.operations import Operations

        monkeypatch.setenv("REXECOP_SECRET_LAB_SSH_IDENTITY", str(self.lab.private_key))
        return Operations(governed.root)

    def env(self, name: str, subnets: dict[str, Any] | None = None, **options: Any) -> Path:
        default = {host: [str(self.subnet)] for host in SERVERS}
        return chrony_environment(self.root / f"{name}.environment.yaml", self.lab, self.hosts,
                                  default if subnets is None else subnets, **options)


@pytest.fixture(scope="module")
def world(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> World:
    servers = lab.boot(list(SERVERS), provision=provision_ntp_server)
    (client,) = lab.boot(["ntp-cli"], provision=provision_ntp_client)
    hosts = {host.name: host for host in [*servers, client]}
    subnet = pick_private_subnet()
    addresses = {name: add_private_address(lab, host, subnet, index + 2) for index, (name, host) in enumerate(hosts.items())}
    return World(lab, hosts, subnet, addresses, tmp_path_factory.mktemp("chrony"))


def other_subnet(world: World) -> str:
    """A second private network for 'the subnets changed' cases (an input only)."""
    return str(ipaddress.IPv4Network((int(world.subnet.network_address) ^ 0x800000, 24)))


def test_fresh_apply_serves_a_client_and_a_second_apply_changes_nothing(world: World) -> None:
    lab, server, client = world.lab, world.hosts["ntp-srv"], world.hosts["ntp-cli"]
    governed = world.governed("fresh")
    env = world.env("fresh")
    assert read_file(lab, server, MANAGED_FILE) is None
    assert not udp_123_listening(lab, server)

    started = time.monotonic()
    outcome = apply(governed, env, server.name)
    print(f"first apply through RExecOp: {time.monotonic() - started:.1f} s")
    assert outcome.state == "completed", outcome.last_failure
    assert outcome.validation_passed and outcome.validation["rule"] == "configure_chrony_ntp_server.serving_as_desired"
    assert outcome.runtime_receipt["success"] is True
    assert outcome.evidence_verified, outcome.evidence_checks

    assert read_file(lab, server, MANAGED_FILE) == expected_file([str(world.subnet)])
    mode = lab.exec(server, ["stat", "-c", "%a %U %G", MANAGED_FILE], check=True).stdout.split()
    assert mode == ["644", "root", "root"]
    assert chrony_active(lab, server) and udp_123_listening(lab, server)

    applied = outcome.step_data("apply")
    assert applied["changed"] is True and applied["mode"] == "apply" and applied["check_mode"] is False
    assert applied["before_state"]["present"] is False
    assert applied["after_state"]["allowed_subnets"] == [str(world.subnet)]
    assert applied["facts"]["file_action"] == "create"
    post = outcome.facts["chrony_ntp_server"]  # lifted from the independent post-read
    assert outcome.step_data("post_read")["facts"] == post
    assert post["action"] == "read" and post["assessment"] == {"state": "healthy"}
    assert (post["desired_state_applied"], post["config_present"], post["allow_lines_effective"]) == (True, True, True)
    assert (post["chrony_active"], post["udp_123_listening"], post["rollback_available"]) == (True, True, True)
    assert outcome.step_data("pre_read")["facts"]["desired_state_applied"] is False
    record = json.loads((governed.root / "operations" / f"{outcome.operation_id}.json").read_text())
    mutation = record["metadata"]["shared_state"]["mutation_states"]["apply"]
    assert mutation["before_state"]["present"] is False and mutation["after_state"]["present"] is True

    # A client with an address in the allowed subnet synchronises from the server.
    point_client_at(lab, client, world.addresses["ntp-srv"])
    tracking = wait_for_client_sync(lab, client, world.addresses["ntp-srv"])
    assert tracking["Stratum"] == "9"

    # The second apply, through `tecrax run`: it stops at the approval first, then with
    # --approve-by approves, starts, and finds nothing to change.
    pid = chrony_pid(lab, server)
    waiting = tecrax_run(governed, env, server.name)
    assert waiting.returncode == 4, waiting.stderr
    assert "needs approval before it may start; nothing ran" in waiting.stdout
    assert f"rexecop --root {governed.root} approve --operation op-" in waiting.stdout
    approved = tecrax_run(governed, env, server.name, "--approve-by", "lab-operator", "--json")
    assert approved.returncode == 0, approved.stderr + approved.stdout
    report = json.loads(approved.stdout)
    assert report["state"] == "completed" and report["validation"]["passed"] is True
    assert report["facts"]["chrony_ntp_server_apply"]["changed"] is False
    assert report["facts"]["chrony_ntp_server_apply"]["file_action"] == "none"
    assert chrony_pid(lab, server) == pid
    assert read_file(lab, server, MANAGED_FILE) == expected_file([str(world.subnet)])


def tecrax_run(governed: Governed, env: Path, target: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("tecrax")), "run", INTENT, "--env", str(env), "--target", target,
         "--root", str(governed.root), *options],
        capture_output=True, text=True, env=governed.env, timeout=300, check=False,
    )


@pytest.mark.parametrize("mode", ["dry_run", "observe"])
def test_plan_shows_the_diff_and_leaves_the_host_byte_for_byte_unchanged(world: World, mode: str) -> None:
    lab, server = world.lab, world.hosts["ntp-fault"]
    governed = world.governed(f"plan-{mode}")
    changed = sorted([str(world.subnet), other_subnet(world)], key=lambda s: ipaddress.ip_network(s))
    env = world.env(f"plan-{mode}", {server.name: list(reversed(changed))})
    lab.exec(server, ["rm", "-f", MANAGED_FILE], check=True)  # start from a host without the file
    before = host_fingerprint(lab, server)

    outcome = governed.run(env, PLAN_INTENT, server.name, mode)
    assert outcome.state == "completed" and outcome.validation_passed, outcome.last_failure
    assert outcome.validation["rule"] == "plan_chrony_ntp_server.computed"
    plan = outcome.facts["chrony_ntp_server_plan"]
    assert plan["check_mode"] is True and plan["changed"] is True and plan["file_action"] == "create"
    assert plan["diff"] == {"added_subnets": changed, "removed_subnets": []}
    assert plan["after_state"]["allowed_subnets"] == changed
    assert plan["before_state"]["present"] is False
    assert outcome.step_data("plan_chrony_ntp_server")["check_mode"] is (mode == "dry_run")
    assert host_fingerprint(lab, server) == before
    assert outcome.evidence_verified

    # The mutating intent itself declares no dry_run mode: the plan intent is its dry run.
    with pytest.raises(PlanRefused, match="mode dry_run not declared for intent: configure_chrony_ntp_server"):
        governed.plan(env, INTENT, server.name, "dry_run")


def test_start_without_approval_is_refused_and_nothing_connects(world: World) -> None:
    lab, server = world.lab, world.hosts["ntp-fault"]
    governed = world.governed("unapproved")
    before, logins = host_fingerprint(lab, server), lab.sshd_accepted_count(server)
    operation_id = governed.plan(world.env("unapproved"), INTENT, server.name, "apply")
    refused = governed.start(operation_id)
    assert refused == "start_refused: error: operation cannot be started from state: waiting_for_approval"
    assert json.loads(governed.rexecop("status", "--operation", operation_id).stdout)["state"] == "waiting_for_approval"
    assert host_fingerprint(lab, server) == before
    assert lab.sshd_accepted_count(server) == logins


def test_deny_policy_refuses_the_plan_and_nothing_connects(world: World) -> None:
    lab, server = world.lab, world.hosts["ntp-fault"]
    governed = world.governed("denied")
    before, logins = host_fingerprint(lab, server), lab.sshd_accepted_count(server)
    with pytest.raises(PlanRefused) as refused:
        governed.plan(world.env("denied", policy=mutation_policy(deny=True)), INTENT, server.name, "apply")
    assert str(refused.value) == "error: operation policy denied: operator_denied blockers=operator_denied"
    assert not (governed.root / "operations").exists() or not list((governed.root / "operations").iterdir())
    assert lab.sshd_accepted_count(server) == logins
    assert host_fingerprint(lab, server) == before


BAD_SUBNETS = [
    pytest.param(["8.8.8.0/24"], "'8.8.8.0/24' is not inside a private range", id="public"),
    pytest.param(["10.0.0.0/8"], "'10.0.0.0/8' has prefix /8; IPv4 networks must be /16 to /30", id="slash-8"),
    pytest.param(["10.1.2.0/31"], "'10.1.2.0/31' has prefix /31", id="slash-31"),
    pytest.param(["10.1.2.1/24"], "'10.1.2.1/24' has host bits set", id="host-bits"),  # secret-topology: allow a malformed validator input
    pytest.param(["10.1.2.0/24\nallow 0.0.0.0/0"], "contains whitespace, a control character or a comment", id="newline-directive"),
    pytest.param(["0.0.0.0/24"], "'0.0.0.0/24' is not inside a private range", id="unspecified"),
    pytest.param([], "allowed_subnets is empty; name at least one client subnet", id="empty"),
    pytest.param(["10.1.0.0/16"] * 1000, "allowed_subnets has 1000 entries; at most 32 are allowed", id="1000-entries"),
]


@pytest.mark.parametrize(("subnets", "message"), BAD_SUBNETS)
def test_bad_subnets_fail_with_a_clear_error_and_nothing_is_written(
    world: World, monkeypatch: pytest.MonkeyPatch, subnets: Any, message: str
) -> None:
    from tecrax.operations import RunRequest

    lab, server = world.lab, world.hosts["ntp-fault"]
    governed = world.governed("bad")
    operations = world.operations(governed, monkeypatch)
    before, logins = host_fingerprint(lab, server), lab.sshd_accepted_count(server)
    env = world.env("bad", {server.name: subnets})
    operation_id = operations.plan(RunRequest(INTENT, server.name, "apply", env, None))
    assert operation_state(governed, operation_id) == "waiting_for_approval"
    operations.approve(operation_id, "lab-operator")
    assert operations.start(operation_id, None) == "failed"
    outcome = governed.outcome(operation_id)
    assert outcome.last_failure["step_id"] == "pre_read"
    assert outcome.last_failure["error_class"] == "validation_failed"
    error = outcome.step_results["pre_read"]["error"]
    assert error.startswith(f"connector config: inventory.{server.name}.allowed_subnets")
    assert message in error
    assert "apply" not in outcome.step_results
    assert host_fingerprint(lab, server) == before
    assert lab.sshd_accepted_count(server) == logins  # refused before any Ansible run


def test_chrony_failing_to_restart_restores_the_previous_state(world: World) -> None:
    lab, server = world.lab, world.hosts["ntp-fault"]
    governed = world.governed("restart-fault")
    set_drop_in(lab, server, RESTART_FAULT_UNIT)
    try:
        outcome = apply(governed, world.env("restart-fault"), server.name)
    finally:
        set_drop_in(lab, server, None)
    assert outcome.state == "failed" and outcome.last_failure["step_id"] == "apply"
    assert outcome.last_failure["error_class"] == "validation_failed"
    error = outcome.step_results["apply"]["error"]
    assert error.startswith(f"module failed on {server.name}: chrony did not restart with the new configuration; "
                            "the previous configuration was restored and chrony is active again")
    facts = outcome.step_data("apply")["facts"]
    assert (facts["failure"], facts["automatic_restore"], facts["restore_succeeded"]) == ("restart_failed", True, True)
    assert facts["after_state"]["present"] is False and facts["chrony_active"] is True
    assert read_file(lab, server, MANAGED_FILE) is None and chrony_active(lab, server)
    assert backup_record(lab, server)["phase"] == "restored"

    # The apply wrote and restored: a rollback is admitted and finds nothing left to undo.
    result = rollback(governed, outcome.operation_id)
    assert result["returncode"] == 0, result
    assert result["result"]["success"] is True
    restore = result["result"]["step_results"]["rollback_restore"]["output"]["data"]
    assert restore["changed"] is False and restore["facts"]["desired_state_applied"] is True
    assert read_file(lab, server, MANAGED_FILE) is None and chrony_active(lab, server)


def test_chrony_not_serving_after_restart_restores_the_previous_content(world: World) -> None:
    lab, server = world.lab, world.hosts["ntp-fault"]
    governed = world.governed("port-fault")
    previous = expected_file([other_subnet(world)])
    install_file(lab, server, previous)
    write_host_file(lab, server, NO_SERVER_PORT, "port 0\n")
    try:
        outcome = apply(governed, world.env("port-fault"), server.name)
    finally:
        lab.exec(server, ["rm", "-f", "/" + NO_SERVER_PORT], check=True)
    assert outcome.state == "failed"
    assert outcome.step_results["apply"]["error"].startswith(
        f"module failed on {server.name}: chronyd does not listen on UDP port 123; "
        "the previous configuration was restored and chrony is active again")
    assert outcome.step_data("apply")["facts"]["failure"] == "udp_123_not_listening"
    assert read_file(lab, server, MANAGED_FILE) == previous
    assert chrony_active(lab, server)


def test_rollback_after_a_failed_post_read_restores_the_previous_content(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tecrax.operations import RunRequest

    lab, server = world.lab, world.hosts["ntp-roll"]
    governed = world.governed("post-read-fault")
    previous = "# an older, hand-written allow list\n" + expected_file([other_subnet(world)])
    install_file(lab, server, previous)

    # In-process RExecOp, to cut SSH right after the apply step and before the post-read.
    operations = world.operations(governed, monkeypatch)
    operation_id = operations.plan(RunRequest(INTENT, server.name, "apply", world.env("roll"), None))
    operations.approve(operation_id, "lab-operator")

    def stop_ssh_after_apply(event: Any) -> None:
        if event.get("phase") == "finished" and event.get("action") == "chrony_ntp_server_apply":
            lab.stop_service(server, "ssh.service")

    try:
        state = operations.start(operation_id, stop_ssh_after_apply)
    finally:
        lab.start_service(server, "ssh.service")
    outcome = governed.outcome(operation_id)
    assert state == "failed" and outcome.last_failure["step_id"] == "post_read"
    assert outcome.last_failure["error_class"] == "transient_connector_error"
    assert read_file(lab, server, MANAGED_FILE) == expected_file([str(world.subnet)])

    result = rollback(governed, operation_id)
    assert result["returncode"] == 0 and result["result"]["success"] is True, result
    restore = result["result"]["step_results"]["rollback_restore"]["output"]["data"]
    assert restore["changed"] is True and restore["facts"]["file_action"] == "replace"
    assert read_file(lab, server, MANAGED_FILE) == previous
    assert chrony_active(lab, server) and udp_123_listening(lab, server)
    assert backup_record(lab, server)["phase"] == "rolled_back"


def test_rollback_is_refused_when_the_operations_apply_never_wrote(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tecrax.operations import RunRequest

    lab, server = world.lab, world.hosts["ntp-roll"]
    governed = world.governed("never-wrote")
    env = world.env("never-wrote", {server.name: [other_subnet(world)]})
    done = apply(governed, env, server.name)  # an earlier, successful change
    assert done.state == "completed"
    content, generation = read_file(lab, server, MANAGED_FILE), backup_record(lab, server)["generation"]

    # 1. The operation failed in its pre-read: it changed nothing.
    lab.stop_service(server, "ssh.service")
    try:
        failed = apply(governed, env, server.name)
    finally:
        lab.start_service(server, "ssh.service")
    assert failed.state == "failed" and failed.last_failure["step_id"] == "pre_read"
    result = rollback(governed, failed.operation_id)
    assert result["result"]["success"] is False
    assert "rollback refused: the operation has no successful pre-read" in result["result"]["error"]
    assert "rollback_restore" not in result["result"]["step_results"]

    # 2. Its apply found nothing to change, then the post-read failed.
    operations = world.operations(governed, monkeypatch)
    operation_id = operations.plan(RunRequest(INTENT, server.name, "apply", env, None))
    operations.approve(operation_id, "lab-operator")

    def stop_ssh_after_apply(event: Any) -> None:
        if event.get("phase") == "finished" and event.get("action") == "chrony_ntp_server_apply":
            lab.stop_service(server, "ssh.service")

    try:
        assert operations.start(operation_id, stop_ssh_after_apply) == "failed"
    finally:
        lab.start_service(server, "ssh.service")
    assert governed.outcome(operation_id).step_data("apply")["changed"] is False
    result = rollback(governed, operation_id)
    assert result["result"]["success"] is False
    assert (f"rollback refused: the operation's apply step never wrote the managed file (backup generation is "
            f"still {generation})") in result["result"]["error"]
    assert read_file(lab, server, MANAGED_FILE) == content
    assert backup_record(lab, server)["generation"] == generation


def test_killed_apply_leaves_old_or_new_content_and_the_next_apply_finishes_it(world: World) -> None:
    lab, server = world.lab, world.hosts["ntp-kill"]
    governed = world.governed("kill")
    old, new = expected_file([other_subnet(world)]), expected_file([str(world.subnet)])
    install_file(lab, server, old)
    env = world.env("kill")

    write_host_file(lab, server, "etc/systemd/system/chrony.service.d/zz-tecrax-fault.conf", SLOW_START_UNIT)
    lab.exec(server, ["systemctl", "daemon-reload"], check=True)
    try:
        operation_id = governed.plan(env, INTENT, server.name, "apply")
        governed.rexecop("approve", "--operation", operation_id, "--by", "lab-operator")
        runner = subprocess.Popen(
            [str(Path(sys.executable).with_name("rexecop")), "--root", str(governed.root), "start", "--operation",
             operation_id],
            env=governed.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        try:
            wait_for(lambda: backup_record(lab, server) is not None, 60, "the apply to write its backup record")
            time.sleep(0.5)  # now inside `systemctl restart` (ExecStartPre sleeps 4 s)
            os.killpg(runner.pid, signal.SIGKILL)
            for pid in module_pids(lab, server):
                lab.exec(server, ["kill", "-KILL", pid])
        finally:
            runner.wait(timeout=30)
        content = read_file(lab, server, MANAGED_FILE)
        assert content in (old, new)
        # The killed run left its operation running: the operator cancels it (releasing the
        # target lock) and runs the apply again.
        governed.rexecop("cancel", "--operation", operation_id)
        leftovers = lab.exec(server, ["find", "/etc/chrony/conf.d", "-name", ".tecrax-*"]).stdout
        assert leftovers == ""
    finally:
        lab.exec(server, ["rm", "-f", "/etc/systemd/system/chrony.service.d/zz-tecrax-fault.conf"], check=True)
        lab.exec(server, ["systemctl", "daemon-reload"], check=True)
        wait_for(lambda: chrony_active(lab, server), 15, "chrony to settle")

    finished = apply(governed, env, server.name)
    assert finished.state == "completed" and finished.validation_passed, finished.last_failure
    applied = finished.step_data("apply")
    # New content already in place: the apply finished the interrupted transaction (restart
    # and verify) rather than reporting no change. Old content: an ordinary replace.
    assert applied["changed"] is True
    assert applied["facts"]["file_action"] == ("none" if content == new else "replace")
    assert read_file(lab, server, MANAGED_FILE) == new
    assert backup_record(lab, server)["phase"] == "applied"


def module_pids(lab: Lab, host: Host) -> list[str]:
    """PIDs of the Ansible module's python on the host (it runs as `python3` from SSH)."""
    return [str(pid) for pid in lab.program_pids(host, "/usr/bin/python3")]



# --- a host without chrony: check mode and the plan refuse as the apply does ------------------


@pytest.fixture(scope="module")
def bare(world: World) -> Host:
    (host,) = world.lab.boot(["ntp-bare"], provision=provision_without_chrony)
    assert world.lab.exec(host, ["sh", "-c", "command -v chronyd"]).returncode != 0
    return host


def ansible_playbook(world: World, host: Host, *options: str) -> tuple[int, dict[str, Any]]:
    """The collection's apply playbook run directly with ansible-playbook; its return code and
    the host's task result."""
    collections = world.root / "collections" / "ansible_collections" / "tecrax"
    if not collections.exists():
        collections.mkdir(parents=True)
        (collections / "ops").symlink_to(REPO, target_is_directory=True)
    inventory = world.lab.write_inventory(world.root / "direct-inventory.yml")
    extra_vars = {"tecrax_target": host.name, "tecrax_allowed_subnets": [str(world.subnet)]}
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory), "--limit", host.name,
         "tecrax.ops.chrony_ntp_server_apply", "-e", json.dumps(extra_vars), *options],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(world.root / "collections"),
             "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false", "ANSIBLE_NOCOLOR": "1",
             "ANSIBLE_CALLBACK_RESULT_FORMAT": "json", "ANSIBLE_CALLBACK_FORMAT_PRETTY": "false"},
    )
    prefix = f"fatal: [{host.name}]: FAILED! => "
    results = [json.loads(line[len(prefix):]) for line in completed.stdout.splitlines() if line.startswith(prefix)]
    assert len(results) == 1, completed.stdout[-3000:] + completed.stderr[-2000:]
    return completed.returncode, results[0]


def test_without_chrony_check_mode_refuses_as_the_apply_does(world: World, bare: Host) -> None:
    lab = world.lab
    before = host_fingerprint(lab, bare)
    code, checked = ansible_playbook(world, bare, "--check", "--diff")
    assert host_fingerprint(lab, bare) == before
    assert code == 2 and checked["msg"] == NOT_INSTALLED and checked["changed"] is False
    facts = checked["facts"]
    assert facts["check_mode"] is True and facts["failure"] == "chrony_not_installed"
    assert facts["chrony_installed"] is False and facts["file_action"] == "none"

    code, applied = ansible_playbook(world, bare)
    assert code == 2 and applied["msg"] == checked["msg"] and applied["changed"] is False
    assert applied["facts"]["failure"] == "chrony_not_installed" and applied["facts"]["check_mode"] is False
    assert host_fingerprint(lab, bare) == before
    assert lab.exec(bare, ["test", "-e", "/var/lib/tecrax"]).returncode != 0


def test_without_chrony_the_governed_dry_run_fails_as_the_apply_does(world: World, bare: Host) -> None:
    lab = world.lab
    governed = world.governed("bare")
    env = chrony_environment(world.root / "bare.environment.yaml", lab, {bare.name: bare},
                             {bare.name: [str(world.subnet)]})
    before = host_fingerprint(lab, bare)
    expected = f"module failed on {bare.name}: {NOT_INSTALLED}"

    plan = governed.run(env, PLAN_INTENT, bare.name, "dry_run")
    assert plan.state == "failed" and plan.last_failure["step_id"] == "plan_chrony_ntp_server"
    assert plan.last_failure["error_class"] == "validation_failed"
    assert plan.step_results["plan_chrony_ntp_server"]["error"] == expected
    planned = plan.step_data("plan_chrony_ntp_server")["facts"]
    assert planned["check_mode"] is True and planned["failure"] == "chrony_not_installed"
    assert plan.runtime_receipt["success"] is False and plan.evidence_verified, plan.evidence_checks

    applied = apply(governed, env, bare.name)
    assert applied.state == "failed" and applied.last_failure["step_id"] == "apply"
    assert applied.last_failure["error_class"] == "validation_failed"
    assert applied.step_results["apply"]["error"] == expected
    assert applied.step_data("apply")["facts"]["failure"] == "chrony_not_installed"
    assert applied.runtime_receipt["success"] is False and applied.evidence_verified, applied.evidence_checks
    assert host_fingerprint(lab, bare) == before


# --- approval by a named approver -------------------------------------------------------------


def test_an_apply_runs_only_with_an_approval_record_naming_an_approver(world: World) -> None:
    lab, server = world.lab, world.hosts["ntp-fault"]
    governed = world.governed("approver")
    lab.exec(server, ["rm", "-f", MANAGED_FILE], check=True)
    approved = apply(governed, world.env("approver", {server.name: [other_subnet(world)]}), server.name)
    assert approved.state == "completed" and approved.validation_passed, approved.last_failure
    assert read_file(lab, server, MANAGED_FILE) == expected_file([other_subnet(world)])

    env = world.env("approver-refused")
    before, logins = host_fingerprint(lab, server), lab.sshd_accepted_count(server)

    # 1. A hand edit of the operation record makes RExecOp itself start the apply (its gate
    #    reads the edited state and decision); the backend finds no approval record.
    edited = governed.plan(env, INTENT, server.name, "apply")
    edit_operation_record(governed, edited, state="approved", govengine_decision_type="allowed")
    assert not (governed.root / "approvals" / f"{edited}.json").exists()
    assert governed.start(edited) == "failed"

    # 2. rexecop approve --by "" is accepted by RExecOp 0.2.16a0 and records an empty approver.
    empty = governed.plan(env, INTENT, server.name, "apply")
    assert governed.rexecop("approve", "--operation", empty, "--by", "").returncode == 0
    assert json.loads((governed.root / "approvals" / f"{empty}.json").read_text())["approved_by"] == ""
    assert governed.start(empty) == "failed"

    reasons = {edited: "RExecOp holds no approval record for the operation",
               empty: "the approval record names no approver (rexecop approve --by was empty)"}
    for operation_id, reason in reasons.items():
        outcome = governed.outcome(operation_id)
        assert outcome.last_failure["step_id"] == "pre_read"
        assert outcome.last_failure["error_class"] == "policy_denied"
        assert outcome.step_results["pre_read"]["error"] == (
            f"apply step chrony_ntp_server_read refused: {reason}{UNAPPROVED}")
        assert "apply" not in outcome.step_results and "post_read" not in outcome.step_results
        assert outcome.runtime_receipt["success"] is False
        assert outcome.evidence_verified, outcome.evidence_checks
        assert operation_record(governed, operation_id)["state"] == "failed"
    assert lab.sshd_accepted_count(server) == logins  # refused before any Ansible run
    assert host_fingerprint(lab, server) == before
    assert read_file(lab, server, MANAGED_FILE) == expected_file([other_subnet(world)])
