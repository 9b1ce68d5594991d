"""The backend's guards: bad config, unknown actions and unadmitted mutations are refused
before any Ansible process starts, with a named error class and no local paths."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rexecop.connectors import ConnectorRequest

import tecrax
from tecrax.backend import build_backend
from tecrax.backend import runtime as backend_runtime
from tecrax.backend.actions import CONNECTOR_FILE, DECLARATIONS_FILE, ActionCatalogError, load_action_catalog
from tecrax.backend.config import ConfigError, parse_connector_config
from unit.connector_files import write_connector

VALID_SSH_CONFIG: dict[str, Any] = {
    "enabled": True,
    "backend": "tecrax_ansible",
    "connection": "ssh",
    "user": "root",
    "known_hosts_file": "/nonexistent/known_hosts",
    "timeout_seconds": 30,
    "inventory": {"web-1": {"host": "198.51.100.7", "port": 2222}},
}


@pytest.fixture
def playbook_runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Records every attempt to start an Ansible run (none may happen in these tests)."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(backend_runtime, "run_playbook", lambda **kwargs: calls.append(kwargs))
    yield calls


@pytest.fixture
def profile_with_mutation(tmp_path: Path) -> Path:
    """A copy of the real profile whose catalog also declares a mutating action."""
    root = tmp_path / "profile"
    shutil.copytree(tecrax.profile_root(), root)
    connector_file, declarations_file = root / CONNECTOR_FILE, root / DECLARATIONS_FILE
    contract = yaml.safe_load(connector_file.read_text())
    contract["connector"]["capabilities"].append("probe_change")
    connector_file.write_text(yaml.safe_dump(contract))
    document = yaml.safe_load(declarations_file.read_text())
    document["actions"]["probe_change"] = {
        "module": "tecrax.ops.probe_change",
        "facts_contract": "tecrax.probe_change",
        "schema": "schemas/probe_change.v1.schema.json",
        "facts_key": "probe_change",
        "mutating": True,
    }
    declarations_file.write_text(yaml.safe_dump(document))
    return root


def invoke(action: str, mode: str = "observe", *, config: Any = None, **backend: Any) -> Any:
    runtime = build_backend(
        connector_name="tecrax_ansible",
        config=VALID_SSH_CONFIG if config is None else config,
        profile_root=backend.pop("profile_root", None),
        mutating_allowed=backend.pop("mutating_allowed", False),
    )
    return runtime.invoke(ConnectorRequest("tecrax_ansible", action, "web-1", mode, {}))


def test_unknown_action_is_unsupported(playbook_runs: list[Any]) -> None:
    response = invoke("rm_rf_everything")
    assert not response.success
    assert response.data["error_class"] == "unsupported"
    assert "unknown action" in response.error
    assert playbook_runs == []


def test_wrong_connector_name_is_unsupported(playbook_runs: list[Any]) -> None:
    runtime = build_backend(connector_name="tecrax_ansible", config=VALID_SSH_CONFIG)
    response = runtime.invoke(ConnectorRequest("other", "host_inventory", "web-1", "observe", {}))
    assert response.data["error_class"] == "unsupported"
    assert playbook_runs == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("not a mapping", "must be a mapping"),
        ({**VALID_SSH_CONFIG, "shell": "id"}, "unknown connector config key(s): shell"),
        ({**VALID_SSH_CONFIG, "connection": "telnet"}, "connection must be one of"),
        ({**VALID_SSH_CONFIG, "known_hosts_file": None}, "known_hosts_file is required"),
        ({**VALID_SSH_CONFIG, "known_hosts_file": "relative/known_hosts"}, "absolute path"),
        ({**VALID_SSH_CONFIG, "timeout_seconds": 0}, "timeout_seconds must be between"),
        ({**VALID_SSH_CONFIG, "timeout_seconds": "30"}, "timeout_seconds must be an integer"),
        ({**VALID_SSH_CONFIG, "max_output_bytes": 10**9}, "max_output_bytes must be between"),
        ({**VALID_SSH_CONFIG, "user": "root; id"}, "user must be a POSIX user name"),
        ({**VALID_SSH_CONFIG, "inventory": {}}, "inventory must name at least one target"),
        ({**VALID_SSH_CONFIG, "inventory": {"web-1": {"host": "a b"}}}, "not a valid hostname"),
        ({**VALID_SSH_CONFIG, "inventory": {"web-1": {"host": "h", "port": 70000}}}, "port must be between"),
        ({**VALID_SSH_CONFIG, "inventory": {"web-1": {"host": "h", "cmd": "x"}}}, "unknown key(s) in inventory.web-1"),
        ({**VALID_SSH_CONFIG, "identity_file_secret_ref": "../key"}, "identity_file_secret_ref must be"),
    ],
)
def test_bad_config_is_refused_with_the_key_named(
    playbook_runs: list[Any], config: Any, message: str
) -> None:
    response = invoke("host_inventory", config=config)
    assert not response.success
    assert response.data["error_class"] == "validation_failed"
    assert message in response.error
    assert playbook_runs == []


def test_config_parser_names_the_key() -> None:
    with pytest.raises(ConfigError, match="inventory.web-1.port"):
        parse_connector_config({**VALID_SSH_CONFIG, "inventory": {"web-1": {"host": "h", "port": True}}})


def test_target_missing_from_inventory(playbook_runs: list[Any]) -> None:
    runtime = build_backend(connector_name="tecrax_ansible", config=VALID_SSH_CONFIG)
    response = runtime.invoke(ConnectorRequest("tecrax_ansible", "host_inventory", "db-9", "observe", {}))
    assert response.data["error_class"] == "validation_failed"
    assert "not in the connector inventory" in response.error
    assert playbook_runs == []


@pytest.mark.parametrize("mode", ["dry_run", "read_only", "observe", "emergency_readonly"])
def test_mutating_action_refused_in_read_only_modes(
    playbook_runs: list[Any], profile_with_mutation: Path, mode: str
) -> None:
    response = invoke(
        "probe_change", mode, profile_root=str(profile_with_mutation), mutating_allowed=True
    )
    assert response.data["error_class"] == "policy_denied"
    assert f"refused in {mode} mode" in response.error
    assert playbook_runs == []


def test_mutating_action_refused_without_mutating_allowed(
    playbook_runs: list[Any], profile_with_mutation: Path
) -> None:
    response = invoke("probe_change", "apply", profile_root=str(profile_with_mutation))
    assert response.data["error_class"] == "policy_denied"
    assert "not approved for mutation" in response.error
    assert playbook_runs == []


def test_unresolvable_identity_secret_is_auth_failed(
    playbook_runs: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REXECOP_SECRET_LAB_KEY", raising=False)
    monkeypatch.delenv("REXECOP_SECRETS_FILE", raising=False)
    config = {**VALID_SSH_CONFIG, "identity_file_secret_ref": "lab_key"}
    response = invoke("host_inventory", config=config)
    assert response.data["error_class"] == "auth_failed"
    assert "REXECOP_SECRET" not in response.error
    assert playbook_runs == []


def test_backend_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(**_: Any) -> None:
        raise RuntimeError("boom at /var/lib/tecrax/secret/path")

    monkeypatch.setattr(backend_runtime, "run_playbook", explode)
    response = invoke("host_inventory", config={"connection": "local"})
    assert not response.success
    assert response.data["error_class"] == "transient_connector_error"
    assert "/var/lib" not in response.error and "RuntimeError" in response.error


def test_failure_messages_carry_no_local_paths() -> None:
    assert backend_runtime._scrub("cannot open /etc/ssh/key and /tmp/x y") == "cannot open <path> and <path> y"


def test_action_catalog_capabilities_match_actions() -> None:
    catalog = load_action_catalog(Path(tecrax.profile_root()))
    document = yaml.safe_load((Path(tecrax.profile_root()) / CONNECTOR_FILE).read_text())
    assert set(document["connector"]["capabilities"]) == set(catalog)
    for action in catalog.values():
        assert (Path(tecrax.profile_root()) / action.schema).is_file(), action.schema
        assert (tecrax.collection_root() / action.playbook).is_file(), action.playbook


LINE_BREAKS = ["\n", "\r\n"]


def _with_target(**target: Any) -> dict[str, Any]:
    return {**VALID_SSH_CONFIG, "inventory": {"web-1": {"host": "198.51.100.7", **target}}}


# (config with a line break appended to one valid value, the message other bad values of it get)
TRAILING_BREAK_CASES = [
    (lambda brk: {**VALID_SSH_CONFIG, "inventory": {"web-1" + brk: {"host": "198.51.100.7"}}},
     "inventory target id is invalid"),
    (lambda brk: _with_target(host="web-1.example.org" + brk), "inventory.web-1.host is not a valid hostname or IP address"),
    (lambda brk: _with_target(host="198.51.100.7" + brk), "inventory.web-1.host is not a valid hostname or IP address"),
    (lambda brk: {**VALID_SSH_CONFIG, "user": "root" + brk}, "user must be a POSIX user name"),
    (lambda brk: _with_target(user="deploy" + brk), "inventory.web-1.user must be a POSIX user name"),
    (lambda brk: {**VALID_SSH_CONFIG, "identity_file_secret_ref": "deploy_key" + brk},
     "identity_file_secret_ref must be a secret reference name ([A-Za-z0-9_-])"),
    (lambda brk: {**VALID_SSH_CONFIG, "known_hosts_file": "/etc/ssh/known_hosts" + brk},
     "known_hosts_file must be an absolute path"),
    (lambda brk: _with_target(python_interpreter="/usr/bin/python3" + brk),
     "inventory.web-1.python_interpreter must be an absolute path"),
    (lambda brk: _with_target(allowed_subnets=["10.20.0.0/16" + brk]),
     "contains whitespace, a control character or a comment"),
    (lambda brk: {"connection": "local", "inventory": {"zbx-1": {"connection": "local", "zabbix": {
        "api_url": "http://zabbix.example.org/api_jsonrpc.php", "api_token_secret_ref": "zabbix_token" + brk}}}},
     "inventory.zbx-1.zabbix.api_token_secret_ref must be a secret reference name ([A-Za-z0-9_-])"),
]


@pytest.mark.parametrize("line_break", LINE_BREAKS, ids=["lf", "crlf"])
@pytest.mark.parametrize(
    ("make_config", "message"), TRAILING_BREAK_CASES,
    ids=["target_id", "hostname", "ip_address", "user", "target_user", "identity_secret_ref", "known_hosts_file",
         "python_interpreter", "allowed_subnets", "zabbix_token_secret_ref"],
)
def test_a_trailing_line_break_is_refused_like_any_bad_value(make_config: Any, message: str, line_break: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_connector_config(make_config(line_break))
    assert message in str(refused.value)


@pytest.mark.parametrize("line_break", LINE_BREAKS, ids=["lf", "crlf"])
def test_a_hostname_of_253_characters_is_the_longest_accepted(line_break: str) -> None:
    longest = ".".join(["a" * 63] * 3 + ["b" * 61])
    assert parse_connector_config(_with_target(host=longest)).inventory["web-1"].host == longest
    for refused in (longest + "c", longest + line_break):
        with pytest.raises(ConfigError, match="not a valid hostname"):
            parse_connector_config(_with_target(host=refused))


def _catalog_with(tmp_path: Path, name: str, **changes: Any) -> Path:
    spec = {"module": "tecrax.ops.x", "facts_contract": "tecrax.x", "schema": "schemas/x.v1.schema.json",
            "facts_key": "x", "mutating": False, **changes}
    return write_connector(tmp_path, [name], actions={name: spec})


def test_a_well_formed_catalog_entry_loads(tmp_path: Path) -> None:
    assert load_action_catalog(_catalog_with(tmp_path, "x"))["x"].module == "tecrax.ops.x"


def test_the_contract_rexecop_parses_holds_no_declarations() -> None:
    """RExecOp parses the contract with PyYAML's pure-Python loader three times per run: the
    actions, inputs and intents stay in the declarations file, which only the backend reads."""
    contract = yaml.safe_load((Path(tecrax.profile_root()) / CONNECTOR_FILE).read_text())["connector"]
    assert set(contract) == {"name", "backend", "description", "modes", "capabilities"}
    declared = yaml.safe_load((Path(tecrax.profile_root()) / DECLARATIONS_FILE).read_text())
    assert set(declared) == {"contract", "inputs", "secret_inputs", "actions"}


def test_a_capability_without_a_declared_action_makes_the_catalog_unusable(tmp_path: Path) -> None:
    root = _catalog_with(tmp_path, "x")
    write_connector(root, ["x", "y"], actions=yaml.safe_load((root / DECLARATIONS_FILE).read_text())["actions"])
    with pytest.raises(ActionCatalogError, match=re.escape(
            "connectors/tecrax_ansible.yaml: capabilities and the actions of connectors/tecrax_ansible/actions.yaml differ")):
        load_action_catalog(root)


def test_a_missing_declarations_file_makes_the_catalog_unusable(tmp_path: Path) -> None:
    root = _catalog_with(tmp_path, "x")
    (root / DECLARATIONS_FILE).unlink()
    with pytest.raises(ActionCatalogError, match=re.escape(
            "cannot read connectors/tecrax_ansible/actions.yaml: FileNotFoundError")):
        load_action_catalog(root)


@pytest.mark.parametrize("line_break", LINE_BREAKS, ids=["lf", "crlf"])
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "x", "invalid action name"),
        ("module", "tecrax.ops.x", "action x: module must be tecrax.ops.<name>"),
        ("schema", "schemas/x.v1.schema.json", "action x: schema must be schemas/<name>.vN.schema.json"),
        ("facts_contract", "tecrax.x", "action x: facts_contract must be tecrax.<name>"),
        ("facts_key", "x", "action x: facts_key must be a snake_case name"),
    ],
)
def test_a_catalog_value_with_a_trailing_line_break_is_refused(
    tmp_path: Path, field: str, value: str, message: str, line_break: str
) -> None:
    if field == "name":
        root = _catalog_with(tmp_path, value + line_break)
    else:
        root = _catalog_with(tmp_path, "x", **{field: value + line_break})
    with pytest.raises(ActionCatalogError, match=re.escape(message)):
        load_action_catalog(root)


@pytest.mark.parametrize("contract", ["tecrax.", "tecrax.X", "tecrax.x y", "other.x"])
def test_a_facts_contract_must_name_a_tecrax_contract(tmp_path: Path, contract: str) -> None:
    with pytest.raises(ActionCatalogError, match="facts_contract must be tecrax.<name>"):
        load_action_catalog(_catalog_with(tmp_path, "x", facts_contract=contract))
