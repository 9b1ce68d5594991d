"""Operator values reach real Ansible as literal text, never as templates.

The backend validates every operator value before a run; these tests go one layer below and
hand hostile values straight to the playbook runner (as a validator bug would), then run the
real ansible-playbook on this machine: the Jinja expression must not execute. A control run
with plain ansible-playbook and a trusted inventory shows the canary does fire when a value is
templated, so the assertions can fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tecrax import collection_root
from tecrax.backend.playbook_run import RunHost, run_playbook

LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}


def jinja_touch(canary: Path) -> str:
    return "{{ lookup('pipe', 'touch " + str(canary) + "') }}"


def run(action: str, module: str, variables: dict[str, Any], extravars: dict[str, Any]) -> Any:
    return run_playbook(
        collection_root=collection_root(),
        playbook=f"playbooks/{action}.yml",
        module=module,
        hosts=[RunHost("hostile-01", variables)],
        ssh_args="",
        pipelining=True,
        timeout_seconds=120,
        check_mode=False,
        extravars=extravars,
    )


def test_the_canary_fires_when_a_value_is_templated(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    inventory = tmp_path / "hosts.json"
    inventory.write_text(json.dumps({"all": {"hosts": {"h": {**LOCAL, "probe": jinja_touch(canary)}}}}))
    playbook = tmp_path / "play.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n"
                        "    - ansible.builtin.debug: {msg: '{{ probe }}'}\n")
    ansible_playbook = Path(sys.executable).with_name("ansible-playbook")
    subprocess.run([str(ansible_playbook), "-i", str(inventory), str(playbook)],
                   capture_output=True, check=True, timeout=120)
    assert canary.exists()


@pytest.mark.parametrize(
    ("action", "module", "extravars"),
    [
        ("network_device_inventory", "tecrax.ops.network_device_inventory",
         lambda jinja: {"tecrax_network_device": {
             "wrapper_path": f"/opt/{jinja}/tecrax-network-cli-readonly", "timeout_seconds": 5}}),
        ("zabbix_problem_summary", "tecrax.ops.zabbix_problem_summary",
         lambda jinja: {"tecrax_zabbix": {"api_url": "https://127.0.0.1:9/api_jsonrpc.php",
                                          "ca_file": f"/etc/ssl/{jinja}.pem", "timeout_seconds": 2},
                        "tecrax_zabbix_api_token": jinja}),
        ("chrony_ntp_server_plan", "tecrax.ops.chrony_ntp_server",
         lambda jinja: {"tecrax_allowed_subnets": [jinja]}),
    ],
    ids=["wrapper_path", "zabbix_ca_file_and_token", "allowed_subnets"],
)
def test_jinja_in_action_inputs_is_not_templated(tmp_path: Path, action: str, module: str, extravars: Any) -> None:
    canary = tmp_path / "canary"
    result = run(action, module, LOCAL, extravars(jinja_touch(canary)))
    outcome = result.outcome_for("hostile-01")
    assert outcome.status in ("ok", "failed"), outcome  # the module ran and judged the literal value
    assert not canary.exists()


@pytest.mark.parametrize("variable", ["ansible_python_interpreter", "ansible_user", "ansible_host"])
def test_jinja_in_connection_variables_is_not_templated(tmp_path: Path, variable: str) -> None:
    canary = tmp_path / "canary"
    variables = {**LOCAL, variable: jinja_touch(canary)}
    result = run("host_inventory", "tecrax.ops.host_inventory", variables, {})
    assert not canary.exists()
    if variable == "ansible_python_interpreter":
        outcome = result.outcome_for("hostile-01")
        assert outcome.status == "failed"
        assert "lookup('pipe'" in str(outcome.result.get("msg")), "the interpreter was used literally"


def test_rexecop_plan_with_a_hostile_value_is_refused_at_the_step(tmp_path: Path) -> None:
    """``rexecop plan`` offers plugin backends no plan-time check, so the operation is recorded;
    the backend refuses the first step (validation_failed) and no Ansible process starts."""
    import yaml

    from harness import Governed
    from tecrax.operations import default_environment

    canary = tmp_path / "canary"
    document = yaml.safe_load(default_environment().read_text())
    document["environment"]["connectors"]["tecrax_ansible"]["python_interpreter"] = "/x/" + jinja_touch(canary)
    env = tmp_path / "env.yaml"
    env.write_text(yaml.safe_dump(document))
    governed = Governed(tmp_path / "rx", tmp_path / "no-identity")
    outcome = governed.run(env, "collect_basic_host_inventory", "local")
    assert outcome.state == "failed"
    assert outcome.last_failure is not None
    assert "python_interpreter must be an absolute path without spaces" in str(outcome.last_failure)
    assert outcome.evidence_verified
    assert not canary.exists()
