"""The read-only host example environment, as shipped, against lab hosts through `tecrax run`:
only what names the operator's host changes (address, port, user, known_hosts file, the key
behind the secret reference); its policy and its step timeout bound stay as they are."""

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

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "environments" / "ubuntu-host.readonly.example.yaml"
TARGET = "monitoring-host-01"
INTENT = "collect_basic_host_inventory"
PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def hosts(lab: Any) -> dict[str, Any]:
    return {host.name: host for host in lab.boot(["ex-hung", "ex-retry"])}


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
