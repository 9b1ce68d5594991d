"""Hostile environment and catalog files: `tecrax run` refuses each with one line naming the
field, exit 1, before RExecOp plans anything (no operation recorded, nothing executed)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tecrax.cli import EXIT_REFUSED, main

INTENT = "collect_basic_host_inventory"
JINJA = "{{ lookup('pipe','touch CANARY') }}"


def base_environment(tmp_path: Path) -> dict[str, Any]:
    return {
        "environment": {
            "id": "hostile",
            "profile": "tecrax",
            "targets": {"web-01": {"type": "host", "criticality": "low"}},
            "connectors": {
                "tecrax_ansible": {
                    "enabled": True,
                    "backend": "tecrax_ansible",
                    "connection": "ssh",
                    "known_hosts_file": str(tmp_path / "known_hosts"),
                    "python_interpreter": "/usr/bin/python3",
                    "inventory": {"web-01": {"host": "198.18.250.10", "port": 22}},
                }
            },
            "policy_pack": {"policy_id": "p", "version": "1", "rules": []},
        }
    }


def with_change(tmp_path: Path, path: tuple[str, ...], value: Any) -> dict[str, Any]:
    document = copy.deepcopy(base_environment(tmp_path))
    node = document["environment"]["connectors"]["tecrax_ansible"]
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return document


def refused(capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str) -> str:
    root = tmp_path / "rx"
    code = main(["run", INTENT, *argv, "--target", "web-01", "--root", str(root)])
    err = capsys.readouterr().err
    assert code == EXIT_REFUSED
    assert err.startswith("tecrax: ") and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert not root.exists() or not list(root.rglob("op-*.json"))
    assert not (tmp_path / "CANARY").exists()
    return err


LOCAL_BLOCK = {"host": "198.18.250.10", "connection": "local"}

HOSTILE_CONNECTOR_VALUES = [
    (("python_interpreter",), "/usr/bin/" + JINJA, "python_interpreter must be an absolute path without spaces"),
    (("python_interpreter",), "/usr/bin/python3;touch${IFS}CANARY", "python_interpreter must be an absolute path"),
    (("inventory", "web-01", "python_interpreter"), "/usr/bin/{{x}}", "inventory.web-01.python_interpreter must"),
    (("known_hosts_file",), "/etc/../root/.ssh/known_hosts", "known_hosts_file must be an absolute path without spaces"),
    (("known_hosts_file",), "relative/known_hosts", "known_hosts_file must be an absolute path without spaces"),
    (("inventory", "web-01", "host"), "-oProxyCommand=touch CANARY", "inventory.web-01.host is not a valid"),
    (("inventory", "web-01", "host"), "web;touch CANARY", "inventory.web-01.host is not a valid"),
    (("inventory", "web-01", "port"), "22a", "inventory.web-01.port must be an integer"),
    (("inventory", "web-01", "user"), "root$(id)", "inventory.web-01.user must be a POSIX user name"),
    (("inventory", "sw-01"), {**LOCAL_BLOCK, "network_device": {"wrapper_path": "/opt/" + JINJA + "/tecrax-network-cli-readonly"}},
     "inventory.sw-01.network_device.wrapper_path must be"),
    (("inventory", "sw-01"), {**LOCAL_BLOCK, "network_device": {"wrapper_path": "/opt/../bin/tecrax-network-cli-readonly"}},
     "inventory.sw-01.network_device.wrapper_path must be"),
    (("inventory", "zbx-01"), {**LOCAL_BLOCK, "zabbix": {"api_url": "https://zbx.example.test/api_jsonrpc.php",
                                                         "ca_file": "/etc/ssl/" + JINJA}},
     "inventory.zbx-01.zabbix.ca_file must be an absolute path without spaces"),
    (("inventory", "ptr-01"), {**LOCAL_BLOCK, "portainer": {"base_url": "https://ptr.example.test",
                                                            "ca_file": "/etc/ssl/{{x}}.pem"}},
     "inventory.ptr-01.portainer.ca_file must be an absolute path without spaces"),
    (("timeout_seconds",), "{{ 5 }}", "timeout_seconds must be an integer"),
    (("surprise",), True, "unknown connector config key(s): surprise"),
]


@pytest.mark.parametrize(("path", "value", "message"), HOSTILE_CONNECTOR_VALUES,
                         ids=[".".join(case[0]) + f"-{index}" for index, case in enumerate(HOSTILE_CONNECTOR_VALUES)])
def test_hostile_connector_values_are_refused_naming_the_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, path: tuple[str, ...], value: Any, message: str
) -> None:
    env = tmp_path / "env.yaml"
    env.write_text(yaml.safe_dump(with_change(tmp_path, path, value)), encoding="utf-8")
    err = refused(capsys, tmp_path, "--env", str(env))
    assert "environment.connectors.tecrax_ansible: " in err
    assert message in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("environment: [unclosed\n", "env.yaml: line 2: invalid YAML"),
        ("environment:\n  targets: 5\n", "env.yaml: environment.targets must be a mapping"),
        ("environment: 5\n", "env.yaml: environment must be a mapping"),
        ("- a\n- b\n", "env.yaml: the document must be a mapping"),
        ("environment:\n  connectors:\n    tecrax_ansible: 7\n", "environment.connectors.tecrax_ansible must be a mapping"),
        ("\xff\xfe", "not UTF-8 text"),
    ],
)
def test_broken_and_wrongly_shaped_files_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, message: str
) -> None:
    env = tmp_path / "env.yaml"
    env.write_bytes(text.encode("latin-1") if text.startswith("\xff") else text.encode("utf-8"))
    assert message in refused(capsys, tmp_path, "--env", str(env))


def test_an_alias_expanding_document_is_refused_before_expansion(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    env = tmp_path / "env.yaml"
    env.write_text("\n".join(lines) + "\nenvironment: {id: bomb}\n", encoding="utf-8")
    assert "line 2: YAML aliases are not accepted in a environment file" in refused(capsys, tmp_path, "--env", str(env))


def test_an_oversized_file_is_refused_unread(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    env = tmp_path / "env.yaml"
    with env.open("wb") as handle:
        handle.write(b"# " + b"x" * (50 * 1024 * 1024) + b"\n")
    assert "exceeds 1048576 bytes" in refused(capsys, tmp_path, "--env", str(env))


def test_a_catalog_entry_with_a_bad_environment_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    env = tmp_path / "env.yaml"
    env.write_text(yaml.safe_dump(with_change(tmp_path, ("python_interpreter",), "/x/" + JINJA)), encoding="utf-8")
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump({"target_catalog": {"version": "0.1", "targets": [
        {"id": "web-01", "target_kind": "host", "profile_ref": "tecrax", "environment_ref": "env.yaml"}]}}),
        encoding="utf-8")
    assert "env.yaml: environment.connectors.tecrax_ansible: python_interpreter" in refused(
        capsys, tmp_path, "--catalog", str(catalog))


def test_env_without_target_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    env = tmp_path / "env.yaml"
    env.write_text(yaml.safe_dump(base_environment(tmp_path)), encoding="utf-8")
    code = main(["run", INTENT, "--env", str(env), "--root", str(tmp_path / "rx")])
    assert code == EXIT_REFUSED
    assert "--target is required with --env or --catalog" in capsys.readouterr().err


def test_a_valid_environment_passes_the_preflight(tmp_path: Path) -> None:
    from tecrax.operator_files import check_environment

    env = tmp_path / "env.yaml"
    env.write_text(yaml.safe_dump(base_environment(tmp_path)), encoding="utf-8")
    check_environment(env)  # raises on any refusal


def test_a_policy_timeout_is_refused_naming_the_rule_and_the_connector_setting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """RExecOp 0.2.16a0 would plan this operation and then refuse to start it; the preflight
    refuses it before planning and names where the step's time bound goes instead."""
    document = base_environment(tmp_path)
    document["environment"]["policy_pack"]["rules"] = [
        {"rule_id": "reads", "effect": "allow_with_obligations",
         "conditions": {"action.category": "operation", "action.mode": "read"}, "reason_code": "ok",
         "constraints": [{"constraint_id": "steps", "kind": "max_steps", "value": 3},
                         {"constraint_id": "step-timeout", "kind": "timeout", "value": 30}]},
    ]
    env = tmp_path / "env.yaml"
    env.write_text(yaml.safe_dump(document), encoding="utf-8")
    err = refused(capsys, tmp_path, "--env", str(env))
    assert "env.yaml: environment.policy_pack.rules[0].constraints[1]: a policy timeout cannot bound" in err
    assert "policy timeout unsupported by connector backend" in err
    assert "set environment.connectors.tecrax_ansible.timeout_seconds instead" in err


def test_a_policy_timeout_for_another_backend_is_left_to_rexecop(tmp_path: Path) -> None:
    from tecrax.operator_files import check_environment

    document = base_environment(tmp_path)
    document["environment"]["connectors"] = {"shell": {"enabled": True, "backend": "local_shell_readonly"}}
    document["environment"]["policy_pack"]["rules"] = [
        {"rule_id": "r", "effect": "allow_with_obligations", "conditions": {"action.category": "operation"},
         "reason_code": "ok", "constraints": [{"constraint_id": "t", "kind": "timeout", "value": 30}]}]
    env = tmp_path / "env.yaml"
    env.write_text(yaml.safe_dump(document), encoding="utf-8")
    check_environment(env)  # the built-in backends enforce a policy timeout themselves
