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

from harness import HOST_EXAMPLE
from unit.nested import values_under

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
ENVIRONMENTS = sorted((EXAMPLES / "environments").glob("*.example.yaml"))
CATALOGS = sorted((EXAMPLES / "catalogs").glob("*.example.yaml"))
PROFILE = REPO / "profile"


def rexecop(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("rexecop")), "--root", str(tmp_path / "rx"), *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


def readme_commands(program: str) -> list[list[str]]:
    """The README's command lines that start with ``program``, split into words."""
    return [line.split() for line in (REPO / "README.md").read_text().splitlines()
            if line.strip().startswith(program + " ")]


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


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda path: path.name)
def test_every_example_bounds_its_steps_in_the_connector(environment: Path) -> None:
    """The step timeout bound sits in the connector, where the backend enforces it, and the
    example passes `tecrax run`'s preflight (which refuses a policy timeout)."""
    from tecrax.backend.config import parse_connector_config
    from tecrax.operator_files import check_environment

    connector = yaml.safe_load(environment.read_text())["environment"]["connectors"]["tecrax_ansible"]
    assert "timeout_seconds" in connector, "the example leaves the step bound to the default"
    assert parse_connector_config(connector).timeout_seconds == connector["timeout_seconds"]
    check_environment(environment)


def test_rexecop_refuses_to_start_under_a_policy_timeout(tmp_path: Path) -> None:
    """Why the examples carry no policy timeout: on the pinned line RExecOp plans such an
    operation and then refuses to start it for a plugin backend. When a later line lifts
    this, this test fails, and the bound can move into the example policies."""
    document = yaml.safe_load(HOST_EXAMPLE.read_text())
    (rule,) = [rule for rule in document["environment"]["policy_pack"]["rules"]
               if rule["conditions"].get("action.intent") == "diagnose_monitoring_host"]
    rule["constraints"].append({"constraint_id": "diagnosis-step-timeout", "kind": "timeout", "value": 30})
    environment = tmp_path / "environment.yaml"
    environment.write_text(yaml.safe_dump(document, sort_keys=False))

    planned = rexecop(tmp_path, "plan", "--profile", "tecrax", "--env", str(environment),
                      "--intent", "diagnose_monitoring_host", "--target", "monitoring-host-01", "--mode", "observe")
    assert planned.returncode == 0, planned.stderr
    operation_id = planned.stdout.strip().splitlines()[-1]
    started = rexecop(tmp_path, "start", "--operation", operation_id)
    assert started.returncode == 1
    assert started.stderr.strip() == "error: policy timeout unsupported by connector backend: tecrax_ansible"
    record = json.loads((tmp_path / "rx" / "operations" / f"{operation_id}.json").read_text())
    assert record["state"] == "planned" and not record["metadata"].get("step_results")


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda path: path.name)
def test_every_max_steps_constraint_admits_its_workflow(environment: Path) -> None:
    """RExecOp refuses to start an operation whose workflow has more steps than the policy's
    max_steps: the example would plan and then never run."""
    for rule in yaml.safe_load(environment.read_text())["environment"]["policy_pack"]["rules"]:
        intent = rule["conditions"].get("action.intent")
        for constraint in rule.get("constraints", []):
            if constraint["kind"] == "max_steps":
                steps = yaml.safe_load((PROFILE / "workflows" / f"{intent}.yaml").read_text())["workflow"]["steps"]
                assert constraint["value"] >= len(steps), \
                    f"{rule['rule_id']}: max_steps below {intent}'s {len(steps)} steps"


def test_the_host_example_allows_exactly_the_reaction_rechecks_plainly() -> None:
    """RExecOp plans a reaction's child only on a plain allow (no obligations or constraints):
    the example gives that to exactly the read-only checks the reaction pack may run, and to no
    other operation."""
    pack = yaml.safe_load((PROFILE / "reactions" / "reaction_pack.yaml").read_text())["reaction_pack"]
    rechecks = {rule["intent_ref"] for rule in pack["rules"] if rule["outcome"] == "run_intent"}
    rules = yaml.safe_load(HOST_EXAMPLE.read_text())["environment"]["policy_pack"]["rules"]
    plain = {rule["conditions"].get("action.intent") for rule in rules if rule["effect"] == "allow"
             and rule["conditions"]["action.category"] == "operation"
             and not rule.get("obligations") and not rule.get("constraints")}
    assert plain == rechecks and len(rechecks) == 8


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


def test_readme_ansible_doc_finds_the_wheels_collection_without_configuration(tmp_path: Path) -> None:
    """`ansible-doc tecrax.ops.host_inventory` as the README gives it, in the project's venv, with
    no collections path configured: it finds the collection the wheel installed."""
    import sysconfig

    (command,) = readme_commands("ansible-doc")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ANSIBLE_HOME=str(tmp_path), ANSIBLE_NOCOLOR="1")  # no collections of this machine's user
    shown = subprocess.run([str(Path(sys.executable).with_name(command[0])), *command[1:]],
                           capture_output=True, text=True, env=env, timeout=300, check=False)
    assert shown.returncode == 0, shown.stderr
    site = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections" / "tecrax" / "ops"
    # ansible-doc names the file it read the docs from: the module's sidecar, beside the module.
    assert shown.stdout.startswith(f"> MODULE tecrax.ops.host_inventory ({site}/plugins/modules/host_inventory.yml)")
