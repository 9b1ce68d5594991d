"""The examples, as shipped, against lab hosts: the read-only host example environment through
`tecrax run` and the Ansible-user inventory through the README's own command line. Only what
names the operator's host changes (address, port, user, known_hosts file, key); the policy
and the step timeout bound stay as they are."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tecrax.backend.playbook_run import module_budget_seconds

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "environments" / "ubuntu-host.readonly.example.yaml"
ANSIBLE_INVENTORY = "examples/ansible/inventory.yml"
TARGET = "monitoring-host-01"
INTENT = "collect_basic_host_inventory"
PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def hosts(lab: Any) -> dict[str, Any]:
    return {host.name: host for host in lab.boot(["ex-hung", "ex-retry", "ex-ansible"])}


def example_for(tmp_path: Path, lab: Any, host: Any) -> tuple[Path, dict[str, str], int]:
    """The example with TARGET pointing at ``host``; the environment variables that resolve its
    identity secret reference; and the example's step bound."""
    document = yaml.safe_load(EXAMPLE.read_text())
    connector = document["environment"]["connectors"]["tecrax_ansible"]
    connector.update(user="root", known_hosts_file=str(lab.known_hosts))
    connector["inventory"][TARGET] = {"host": host.address, "port": host.port}
    path = tmp_path / "environment.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    secret = {f"REXECOP_SECRET_{connector['identity_file_secret_ref'].upper()}": str(lab.private_key)}
    return path, secret, int(connector["timeout_seconds"])


def tecrax_run(tmp_path: Path, environment: Path, secret: dict[str, str], *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("tecrax")), "run", INTENT, "--env", str(environment), "--target", TARGET,
         "--root", str(tmp_path / "rexecop"), *options],
        capture_output=True, text=True, timeout=600, env={**os.environ, **secret}, check=False,
    )


def test_a_step_that_hangs_past_the_examples_bound_ends_as_timeout(tmp_path: Path, lab: Any, hosts: dict[str, Any]) -> None:
    host = hosts["ex-hung"]
    environment, secret, bound = example_for(tmp_path, lab, host)
    budget = module_budget_seconds(bound)
    with lab.hang_command(host, "/usr/bin/df") as hung_df:
        completed = tecrax_run(tmp_path, environment, secret, "--json")
        assert len(hung_df.pids()) == 1, "df ran once: the module reached it and the timeout was not retried"
        assert hung_df.running() == [] and lab.program_pids(host, PYTHON) == [], "the hung step left processes"
    assert completed.returncode == 3, completed.stderr + completed.stdout
    report = json.loads(completed.stdout)
    assert report["state"] == "failed" and report["validation"]["passed"] is not True
    assert report["failure"]["error_class"] == "timeout"
    assert report["failure"]["error"] == (
        f"module on {TARGET} timed out: df did not finish within the module's budget of {budget} s and was killed "
        "with its process group")
    assert report["evidence"]["verified"] is True


def test_a_retried_step_is_shown_as_a_retry(tmp_path: Path, lab: Any, hosts: dict[str, Any]) -> None:
    host = hosts["ex-retry"]
    environment, secret, _bound = example_for(tmp_path, lab, host)
    lab.stop_service(host, "ssh.service")
    try:
        completed = tecrax_run(tmp_path, environment, secret)
    finally:
        lab.start_service(host, "ssh.service")
    assert completed.returncode == 3, completed.stderr + completed.stdout
    progress = [line.split()[0] for line in completed.stdout.splitlines() if line.split()[:1] in (
        ["running"], ["retrying"], ["finished"])]
    assert progress == ["running", "finished", "retrying", "finished"], completed.stdout
    assert f"retrying  tecrax.ops.host_inventory on {TARGET} ..." in completed.stdout
    assert f"transient_connector_error: target {TARGET} unreachable (connection refused)" in completed.stdout


def test_the_readmes_ansible_playbook_command_runs_with_the_example_inventory(
    tmp_path: Path, lab: Any, hosts: dict[str, Any]
) -> None:
    host = hosts["ex-ansible"]
    inventory = yaml.safe_load((REPO / ANSIBLE_INVENTORY).read_text())
    linux = inventory["all"]["children"]["linux_hosts"]
    (name,) = linux["hosts"]
    linux["hosts"][name].update(
        ansible_host=host.address, ansible_port=host.port, ansible_ssh_private_key_file=str(lab.private_key),
        ansible_ssh_common_args=f"-o UserKnownHostsFile={lab.known_hosts} -o StrictHostKeyChecking=yes")
    rendered = tmp_path / "inventory.yml"
    rendered.write_text(yaml.safe_dump(inventory, sort_keys=False))
    (command,) = [line.split() for line in (REPO / "README.md").read_text().splitlines()
                  if line.strip().startswith(f"ansible-playbook -i {ANSIBLE_INVENTORY} ")]
    command = [str(rendered) if word == ANSIBLE_INVENTORY else word for word in command]
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ANSIBLE_HOME=str(tmp_path / "ansible-home"), ANSIBLE_NOCOLOR="1")
    completed = subprocess.run([str(Path(sys.executable).with_name(command[0])), *command[1:]], cwd=REPO,
                               capture_output=True, text=True, env=env, timeout=600, check=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    recap = [line.split() for line in completed.stdout.splitlines() if line.startswith(f"{name} ")]
    assert recap and "ok=1" in recap[-1] and "failed=0" in recap[-1], completed.stdout[-3000:]
