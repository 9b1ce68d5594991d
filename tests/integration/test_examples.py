"""The sanitized examples are complete and load with the real RExecOp commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from unit.nested import values_under

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ENVIRONMENTS = sorted((EXAMPLES / "environments").glob("*.example.yaml"))
CATALOGS = sorted((EXAMPLES / "catalogs").glob("*.example.yaml"))


def rexecop(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("rexecop")), "--root", str(tmp_path / "rx"), *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


def secret_refs(node: Any) -> Iterator[str]:
    return values_under(node, lambda key: key.endswith("secret_ref"))


def test_there_are_examples() -> None:
    assert ENVIRONMENTS and CATALOGS


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda path: path.name)
def test_environment_example_lints(tmp_path: Path, environment: Path) -> None:
    completed = rexecop(tmp_path, "env", "lint", "--env", str(environment), "--profile", "tecrax")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert json.loads(completed.stdout)["status"] == "passed"


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda path: path.name)
def test_every_secret_ref_has_an_example_secret(environment: Path) -> None:
    provided: set[str] = set()
    for secrets_file in (EXAMPLES / "secrets").glob("*.example.yaml"):
        provided.update((yaml.safe_load(secrets_file.read_text()) or {}).get("secrets", {}))
    used = set(secret_refs(yaml.safe_load(environment.read_text())))
    assert used <= provided, f"missing in examples/secrets: {sorted(used - provided)}"


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda path: path.name)
def test_catalog_example_lists_its_targets(tmp_path: Path, catalog: Path) -> None:
    completed = rexecop(tmp_path, "targets", "list", "--catalog", str(catalog))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    listed = json.loads(completed.stdout)["targets"]
    declared = yaml.safe_load(catalog.read_text())["target_catalog"]["targets"]
    assert sorted(t["id"] for t in listed) == sorted(t["id"] for t in declared)
    for target in declared:
        operations = rexecop(tmp_path, "operations", "list", "--catalog", str(catalog), "--target", target["id"])
        assert operations.returncode == 0, operations.stderr
        applicable = [
            item["operation"]["id"]
            for item in json.loads(operations.stdout)["operations"]
            if item["applicability"]["applicable"]
        ]
        assert applicable, f"no operation applies to {target['id']}"


@pytest.mark.parametrize("playbook", ["tecrax.ops.host_inventory", "tecrax.ops.zabbix_problem_summary"])
def test_ansible_user_example_inventory_drives_the_collections_playbooks(tmp_path: Path, playbook: str) -> None:
    """The README's Ansible-user commands work as written with the wheel-installed collection:
    the inventory parses and each playbook resolves by its FQCN and passes a syntax check."""
    bin_dir = Path(sys.executable).parent
    inventory = EXAMPLES / "ansible" / "inventory.yml"
    env = {**os.environ, "ANSIBLE_HOME": str(tmp_path), "ANSIBLE_NOCOLOR": "1"}
    listed = subprocess.run([str(bin_dir / "ansible-inventory"), "-i", str(inventory), "--list"],
                            capture_output=True, text=True, env=env, timeout=300, check=True)
    hosts = json.loads(listed.stdout)["_meta"]["hostvars"]
    assert set(hosts) == {"monitoring-host-01", "zabbix-frontend-01"}
    checked = subprocess.run([str(bin_dir / "ansible-playbook"), "-i", str(inventory), "--syntax-check", playbook],
                             capture_output=True, text=True, env=env, timeout=300, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
