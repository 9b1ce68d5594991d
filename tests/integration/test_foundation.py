"""collect_basic_host_inventory end to end: real Ansible over real SSH to lab hosts, through
the real RExecOp / GovEngine / SCLite stack, including refusals and faults."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import tecrax
from harness import (
    IDENTITY_REF,
    Governed,
    LabTarget,
    Outcome,
    PlanRefused,
    allow_read_policy,
    connector_rule,
    deny_rule,
    wait_for,
    write_catalog,
    write_environment,
)

INTENT = "collect_basic_host_inventory"
PYTHON = "/usr/bin/python3"  # the module's interpreter on the lab hosts
pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def hosts(lab: Any) -> dict[str, Any]:
    booted = lab.boot(["inv-main", "inv-victim", "inv-faults"])
    return {host.name: host for host in booted}



def environment(tmp_path: Path, lab: Any, hosts: dict[str, Any], **options: Any) -> Path:
    targets = [LabTarget(h.name, h.address, h.port) for h in hosts.values()]
    return write_environment(tmp_path / "environment.yaml", targets, known_hosts=lab.known_hosts, **options)


def host_says(lab: Any, host: Any, command: str) -> str:
    completed = lab.ssh(host, command)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def assert_failed_with_evidence(outcome: Outcome, error_class: str, host: Any) -> None:
    """The observation step failed with ``error_class``, the message names no address, the
    runtime receipt says no success, and the evidence bundle was written and verifies."""
    assert outcome.state == "failed"
    assert outcome.last_failure["error_class"] == error_class
    assert outcome.last_failure["step_id"] == "observe_host_inventory"
    assert host.address not in json.dumps(outcome.last_failure)
    assert outcome.runtime_receipt.get("success") is not True
    assert outcome.evidence_verified, outcome.evidence_checks


def test_inventory_equals_what_the_host_reports(tmp_path: Path, lab: Any, hosts: dict[str, Any], governed: Governed) -> None:
    host = hosts["inv-main"]
    outcome = governed.run(environment(tmp_path, lab, hosts), INTENT, host.name)

    assert outcome.state == "completed"
    assert outcome.validation_passed
    assert outcome.validation["rule"] == "collect_basic_host_inventory.complete"
    assert outcome.runtime_receipt["success"] is True
    assert outcome.evidence_verified, outcome.evidence_checks

    facts = outcome.facts["basic_host_inventory"]
    assert facts["contract"] == {"id": "tecrax.basic_host_inventory", "version": "1.0"}
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    assert facts["assessment"]["state"] == "healthy"

    os_release = dict(
        line.split("=", 1) for line in host_says(lab, host, "cat /etc/os-release").splitlines() if "=" in line
    )
    assert facts["os"] == {
        "id": os_release["ID"].strip('"'),
        "version_id": os_release["VERSION_ID"].strip('"'),
        "pretty_name": os_release["PRETTY_NAME"].strip('"'),
    }
    kernel_name, release, machine = host_says(lab, host, "uname -srm").split()
    assert facts["kernel"] == {"name": kernel_name, "release": release, "machine": machine}
    assert facts["hostname"] == host_says(lab, host, "hostname") == host.name

    df = host_says(lab, host, "df -P -k /").splitlines()[-1].split()
    root = facts["root_filesystem"]
    assert (root["device"], root["size_kib"], root["mount"]) == (df[0], int(df[1]), df[5])
    assert abs(root["used_kib"] - int(df[2])) <= 64 * 1024  # the host keeps writing journals

    free_total = int(host_says(lab, host, "free -m | awk '/^Mem:/ {print $2}'"))
    assert abs(facts["memory_mib"]["total"] - free_total) <= 1
    uptime = float(host_says(lab, host, "cut -d' ' -f1 /proc/uptime"))
    assert 0 <= uptime - facts["uptime_seconds"] <= 120

    # The real backend ran: its step data records the collection it ran and the digests.
    step = outcome.step_data("observe_host_inventory")
    collection = tecrax.collection_root()
    playbook_digest = "sha256:" + hashlib.sha256((collection / "playbooks/host_inventory.yml").read_bytes()).hexdigest()
    assert step["collection"]["playbook_digest"] == playbook_digest
    assert step["collection"]["version"] == tecrax.__version__
    assert step["runner"]["status"] == "successful"
    assert step["output_digests"]["facts"].startswith("sha256:")


def test_dry_run_mode_observes_the_same_host(tmp_path: Path, lab: Any, hosts: dict[str, Any], governed: Governed) -> None:
    host = hosts["inv-main"]
    outcome = governed.run(environment(tmp_path, lab, hosts), INTENT, host.name, mode="dry_run")
    assert outcome.state == "completed" and outcome.validation_passed
    assert outcome.step_data("observe_host_inventory")["check_mode"] is True
    assert outcome.facts["basic_host_inventory"]["hostname"] == host.name


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param({**allow_read_policy(), "rules": [deny_rule(INTENT), *allow_read_policy()["rules"]]}, id="deny-rule"),
        pytest.param({"policy_id": "no-allow", "version": "1", "rules": [connector_rule()]}, id="no-allow-rule"),
    ],
)
def test_policy_refusal_stops_the_plan_before_any_ssh(
    tmp_path: Path, lab: Any, hosts: dict[str, Any], governed: Governed, policy: dict[str, Any]
) -> None:
    host = hosts["inv-main"]
    before = lab.sshd_accepted_count(host)
    with pytest.raises(PlanRefused) as refused:
        governed.plan(environment(tmp_path, lab, hosts, policy=policy), INTENT, host.name)
    assert "polic" in str(refused.value).lower() or "denied" in str(refused.value).lower()
    assert lab.sshd_accepted_count(host) == before
    assert not list((governed.root / "operations").glob("*.json")) or all(
        json.loads(path.read_text())["state"] != "completed" for path in (governed.root / "operations").glob("*.json")
    )


def test_stopped_host_fails_transient_with_complete_evidence(
    tmp_path: Path, lab: Any, hosts: dict[str, Any], governed: Governed
) -> None:
    victim = hosts["inv-victim"]
    lab.stop_host(victim)
    outcome = governed.run(environment(tmp_path, lab, hosts, connector={"timeout_seconds": 30}), INTENT, victim.name)
    assert_failed_with_evidence(outcome, "transient_connector_error", victim)


def test_hung_host_command_is_ended_by_the_module_and_reported_as_timeout(
    tmp_path: Path, lab: Any, hosts: dict[str, Any], governed: Governed
) -> None:
    # The module runs `df -P -k /`; on this host df never returns, so the step can only end
    # by a timeout, however fast or slow the machine is. The module's own budget (30 s step
    # timeout -> 20 s) must end it, before ansible-runner's timeout would cut the session.
    host = hosts["inv-main"]
    env = environment(tmp_path, lab, hosts, connector={"timeout_seconds": 30})
    with lab.hang_command(host, "/usr/bin/df") as hung_df:
        outcome = governed.run(env, INTENT, host.name)
        assert len(hung_df.pids()) == 1, "df ran once: the module reached it and the timeout was not retried"
        assert hung_df.running() == [], "the module left its hung df running"
        assert lab.program_pids(host, PYTHON) == [], "the module's python is still running on the host"
    assert_failed_with_evidence(outcome, "timeout", host)
    assert outcome.last_failure["error"] == (
        f"module on {host.name} timed out: df did not finish within the module's budget of 20 s and was killed "
        "with its process group")
    # The fault is gone with the block: the same host observes normally again.
    assert governed.run(env, INTENT, host.name).state == "completed"


def test_stopped_sshd_fails_transient_with_complete_evidence(
    tmp_path: Path, lab: Any, hosts: dict[str, Any], governed: Governed
) -> None:
    host = hosts["inv-faults"]
    env = environment(tmp_path, lab, hosts, connector={"timeout_seconds": 30})
    lab.stop_service(host, "ssh.service")
    try:
        outcome = governed.run(env, INTENT, host.name)
    finally:
        lab.start_service(host, "ssh.service")
    assert_failed_with_evidence(outcome, "transient_connector_error", host)
    assert outcome.last_failure["error"] == f"target {host.name} unreachable (connection refused)"
    assert outcome.last_failure["attempt"] == 2  # a refused connection is retried once
    assert governed.run(env, INTENT, host.name).state == "completed"


def test_link_cut_mid_run_fails_transient_and_the_module_still_ends_its_command(
    tmp_path: Path, lab: Any, hosts: dict[str, Any], governed: Governed
) -> None:
    # The module hangs in df; then the link goes down. ssh's keepalives give the session up
    # (unreachable, transient), the retry cannot connect, and on the host the module still
    # ends df at its budget (60 s step timeout -> 45 s) and exits, with nobody listening.
    host = hosts["inv-faults"]
    env = environment(tmp_path, lab, hosts, connector={"timeout_seconds": 60})
    with lab.hang_command(host, "/usr/bin/df") as hung_df:
        operation_id = governed.plan(env, INTENT, host.name)
        with ThreadPoolExecutor(max_workers=1) as pool:
            started = pool.submit(governed.start, operation_id)
            wait_for(hung_df.pids, 120, "the module to reach df")
            lab.cut_link(host)
            try:
                state = started.result(timeout=600)
            finally:
                lab.restore_link(host)
        wait_for(lambda: not hung_df.running() and not lab.program_pids(host, PYTHON), 120,
                 "the module to end df at its budget and exit")
        assert len(hung_df.pids()) == 1, "the retry reached the host through a cut link"
    outcome = governed.outcome(operation_id)
    assert state == "failed"
    assert_failed_with_evidence(outcome, "transient_connector_error", host)
    # Attempt 1 was retried, so it ended transient (a timeout is not retried): the keepalives
    # gave the dead session up. Attempt 2 could not connect through the cut link (how the
    # connect fails depends on whether the host's neighbour entry has expired by then).
    assert outcome.last_failure["attempt"] == 2
    assert outcome.last_failure["error"] in {
        f"target {host.name} unreachable ({reason})" for reason in ("connection timed out", "no route to host")}
    assert governed.run(env, INTENT, host.name).state == "completed"


def test_refused_key_is_auth_failed(tmp_path: Path, lab: Any, hosts: dict[str, Any]) -> None:
    stranger_key = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger_key)], check=True)
    governed = Governed(tmp_path / "rexecop", stranger_key)
    outcome = governed.run(environment(tmp_path, lab, hosts), INTENT, hosts["inv-main"].name)
    assert outcome.state == "failed"
    assert outcome.last_failure["error_class"] == "auth_failed"
    assert str(stranger_key) not in json.dumps(outcome.step_results)


def test_key_material_in_the_secret_logs_in_and_is_never_written(
    tmp_path: Path, lab: Any, hosts: dict[str, Any],
) -> None:
    """The identity secret holds the key itself: it reaches a fresh ssh-agent through
    ansible-runner's FIFO, so no file under the run's TMPDIR or the RExecOp root holds it."""
    key_material = Path(lab.private_key).read_text()
    run_tmp = tmp_path / "tmp"
    run_tmp.mkdir()
    governed = Governed(tmp_path / "rexecop", lab.private_key)
    governed.env[f"REXECOP_SECRET_{IDENTITY_REF.upper()}"] = key_material
    governed.env["TMPDIR"] = str(run_tmp)
    outcome = governed.run(environment(tmp_path, lab, hosts), INTENT, hosts["inv-main"].name)
    assert outcome.state == "completed", outcome.last_failure
    key_body = key_material.strip().splitlines()[1].encode()
    for top in (run_tmp, governed.root):
        holding = [str(path) for path in top.rglob("*") if path.is_file() and key_body in path.read_bytes()]
        assert holding == []
    assert list(run_tmp.glob("tecrax-run-*")) == []


def test_unknown_host_key_is_auth_failed(tmp_path: Path, lab: Any, hosts: dict[str, Any], governed: Governed) -> None:
    empty_known_hosts = tmp_path / "known_hosts"
    empty_known_hosts.write_text("")
    outcome = governed.run(
        environment(tmp_path, lab, hosts, connector={"known_hosts_file": str(empty_known_hosts)}),
        INTENT,
        hosts["inv-main"].name,
    )
    assert outcome.state == "failed"
    assert outcome.last_failure["error_class"] == "auth_failed"


def test_default_environment_run_on_this_machine(tmp_path: Path) -> None:
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("tecrax")), "run", INTENT, "--json", "--root", str(tmp_path / "rx")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "PATH": "/usr/bin:/bin"},  # the venv need not be activated
        check=False,
    )
    assert completed.returncode == 0, completed.stderr + completed.stdout
    report = json.loads(completed.stdout)
    assert report["state"] == "completed" and report["validation"]["passed"] is True
    assert report["facts"]["basic_host_inventory"]["hostname"] == socket.gethostname()
    assert report["evidence"]["verified"] is True
    assert Path(report["evidence"]["dir"]).is_dir()


def test_catalog_bound_run_with_the_tecrax_cli(tmp_path: Path, lab: Any, hosts: dict[str, Any]) -> None:
    host = hosts["inv-main"]
    env = environment(tmp_path, lab, hosts)
    catalog = write_catalog(
        tmp_path / "targets.yaml", env, [LabTarget(host.name, host.address)], ["tecrax.host.basic_inventory.v1"]
    )
    governed = Governed(tmp_path / "rexecop", lab.private_key)
    listed = json.loads(governed.rexecop("targets", "list", "--catalog", str(catalog)).stdout)
    assert [target["id"] for target in listed["targets"]] == [host.name]

    completed = subprocess.run(
        [str(Path(sys.executable).with_name("tecrax")), "run", INTENT, "--catalog", str(catalog),
         "--target", host.name, "--root", str(governed.root)],
        capture_output=True, text=True, timeout=300, env=governed.env, check=False,
    )
    assert completed.returncode == 0, completed.stderr + completed.stdout
    assert "running   tecrax.ops.host_inventory on inv-main" in completed.stdout
    assert "state     completed; validation passed" in completed.stdout
    assert f"hostname = {host.name}" in completed.stdout
    assert "(verified)" in completed.stdout
