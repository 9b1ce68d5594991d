"""The chrony example environment admits the mutation (waiting for approval) and its plan,
with the real rexecop command; no host is contacted (plan never connects)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "environments" / "chrony-ntp-server.apply.example.yaml"


def rexecop(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).with_name("rexecop")), "--root", str(root), *args],
                          capture_output=True, text=True, timeout=120, check=False)


def plan(root: Path, intent: str, mode: str) -> str:
    completed = rexecop(root, "plan", "--profile", "tecrax", "--env", str(EXAMPLE), "--intent", intent,
                        "--target", "ntp-host-01", "--mode", mode)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip().splitlines()[-1]


def state(root: Path, operation_id: str) -> str:
    return json.loads(rexecop(root, "status", "--operation", operation_id).stdout)["state"]


def test_the_apply_is_admitted_and_waits_for_approval(tmp_path: Path) -> None:
    operation_id = plan(tmp_path, "configure_chrony_ntp_server", "apply")
    assert state(tmp_path, operation_id) == "waiting_for_approval"
    refused = rexecop(tmp_path, "start", "--operation", operation_id)
    assert refused.returncode == 1
    assert "operation cannot be started from state: waiting_for_approval" in refused.stderr


def test_the_plan_intent_is_admitted_read_only(tmp_path: Path) -> None:
    operation_id = plan(tmp_path, "plan_chrony_ntp_server", "dry_run")
    assert state(tmp_path, operation_id) == "planned"


def test_the_example_subnets_pass_the_backends_validation() -> None:
    from tecrax.backend.config import parse_connector_config

    connector = yaml.safe_load(EXAMPLE.read_text())["environment"]["connectors"]["tecrax_ansible"]
    config = parse_connector_config(connector)
    assert config.inventory["ntp-host-01"].inputs["allowed_subnets"] == tuple(
        connector["inventory"]["ntp-host-01"]["allowed_subnets"])
