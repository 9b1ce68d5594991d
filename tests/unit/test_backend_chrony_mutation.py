"""The backend's part of the chrony NTP server mutation: allowed subnets from the connector
config (validated by the collection's own validator), action inputs as extra vars, the
mutation guards, check mode, and what a failed module still reports.

No Ansible runs here: run_playbook is replaced by a recorder that returns a module result
built by the real module_utils code. The private networks are subnet inputs."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from unit.backend_config import ssh_config
from unit.connector_files import write_connector
from unit.fake_chrony import FakeChrony
from unit.rexecop_step import invoke_approved
from rexecop.connectors import ConnectorRequest

import tecrax
from ansible_collections.tecrax.ops.plugins.module_utils.ntp import chrony_ntp_server_host as chrony
from tecrax.backend import build_backend
from tecrax.backend import runtime as backend_runtime
from tecrax.backend.actions import ActionCatalogError, load_action_catalog, load_input_catalog
from tecrax.backend.config import parse_connector_config, subnet_validator
from tecrax.backend.playbook_run import HostOutcome, PlaybookRun

SUBNETS = ["10.20.0.0/16", "192.168.40.0/24"]
CONFIG = ssh_config({"ntp-1": {"host": "198.51.100.7", "allowed_subnets": list(reversed(SUBNETS))},
                     "plain-1": {"host": "198.51.100.8"}}, user="root")


class Recorder:
    """Stands in for run_playbook: records its arguments, returns one module result."""

    def __init__(self, status: str = "ok", result: dict[str, Any] | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.status = status
        self.result = result or {}

    def __call__(self, **kwargs: Any) -> PlaybookRun:
        self.calls.append(kwargs)
        target = kwargs["hosts"][0].name
        return PlaybookRun("successful" if self.status == "ok" else "failed", 0, 0.5,
                           {target: HostOutcome(self.status, self.result)})  # type: ignore[arg-type]


def module_result(tmp_path: Path, *, failed: bool = False) -> dict[str, Any]:
    """What tecrax.ops.chrony_ntp_server returns, from the real transaction code."""
    fake = FakeChrony(tmp_path / "host")
    if failed:
        fake.restart_fails_when = lambda config: "allow 10.20.0.0/16" in config
    result = chrony.apply(fake.host(), "present", SUBNETS, check_mode=False)
    output = {"changed": result.changed, "facts": result.facts,
              "before_state": result.facts["before_state"], "after_state": result.facts["after_state"]}
    if failed:
        output.update(failed=True, msg=result.message)
    return output


def invoke(action: str, mode: str = "apply", *, target: str = "ntp-1", config: Any = None,
           mutating_allowed: bool = True) -> Any:
    """The request as a step of an operation that lab-operator approved."""
    runtime = build_backend(connector_name="tecrax_ansible", config=CONFIG if config is None else config,
                            mutating_allowed=mutating_allowed)
    return invoke_approved(runtime, ConnectorRequest("tecrax_ansible", action, target, mode, {}))


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Recorder:
    recording = Recorder(result=module_result(tmp_path))
    monkeypatch.setattr(backend_runtime, "run_playbook", recording)
    return recording


def test_allowed_subnets_are_validated_and_canonical() -> None:
    config = parse_connector_config(CONFIG)
    assert config.inventory["ntp-1"].inputs["allowed_subnets"] == tuple(SUBNETS)
    assert "allowed_subnets" not in config.inventory["plain-1"].inputs


def test_the_backend_uses_the_collections_validator_module() -> None:
    validator = subnet_validator()
    assert validator.__name__ == "ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_subnets"
    assert validator.validate_allowed_subnets(["fd00:1::/64"]) == ["fd00:1::/64"]


BAD_SUBNETS = [
    (["8.8.8.0/24"], "inventory.ntp-1.allowed_subnets[0] '8.8.8.0/24' is not inside a private range (RFC 1918"),
    (["10.0.0.0/8"], "inventory.ntp-1.allowed_subnets[0] '10.0.0.0/8' has prefix /8; IPv4 networks must be /16 to /30"),
    (["10.1.2.0/31"], "has prefix /31"),
    (["10.1.2.1/24"], "'10.1.2.1/24' has host bits set"),  # secret-topology: allow a malformed validator input
    (["10.1.2.0/24\nallow 0.0.0.0/0"], "'10.1.2.0/24\\nallow 0.0.0.0/0' contains whitespace"),
    (["0.0.0.0/24"], "'0.0.0.0/24' is not inside a private range"),
    ([], "inventory.ntp-1.allowed_subnets is empty; name at least one client subnet"),
    (["10.1.0.0/16"] * 1000, "inventory.ntp-1.allowed_subnets has 1000 entries; at most 32 are allowed"),
    ("10.1.0.0/16", "allowed_subnets must be a list of CIDR networks, got str"),
    (["fc00::/7"], "'fc00::/7' has prefix /7; IPv6 networks must be /48 to /64"),
]


@pytest.mark.parametrize(("subnets", "message"), BAD_SUBNETS)
@pytest.mark.parametrize("action", ["chrony_ntp_server_apply", "chrony_ntp_server_read", "host_inventory"])
def test_bad_subnets_fail_every_step_before_ansible(recorder: Recorder, subnets: Any, message: str,
                                                    action: str) -> None:
    config = {**CONFIG, "inventory": {"ntp-1": {"host": "198.51.100.7", "allowed_subnets": subnets}}}
    response = invoke(action, config=config)
    assert not response.success
    assert response.data["error_class"] == "validation_failed"
    assert response.error.startswith("connector config: inventory.ntp-1.allowed_subnets")
    assert message in response.error
    assert recorder.calls == []


def test_an_action_input_missing_from_the_inventory_is_refused(recorder: Recorder) -> None:
    response = invoke("chrony_ntp_server_apply", target="plain-1")
    assert response.data["error_class"] == "validation_failed"
    assert response.error == (
        "action chrony_ntp_server_apply needs inventory.plain-1.allowed_subnets in the connector config"
    )
    assert recorder.calls == []


def test_inputs_reach_the_playbook_as_extra_vars(recorder: Recorder) -> None:
    response = invoke("chrony_ntp_server_apply")
    assert response.success, response.error
    (call,) = recorder.calls
    assert call["extravars"] == {"tecrax_allowed_subnets": SUBNETS}
    assert call["playbook"] == "playbooks/chrony_ntp_server_apply.yml"
    assert call["module"] == "tecrax.ops.chrony_ntp_server"
    assert call["check_mode"] is False
    assert response.data["facts_key"] == "chrony_ntp_server_apply"
    assert response.data["before_state"]["present"] is False
    assert response.data["after_state"]["allowed_subnets"] == SUBNETS
    assert response.data["changed"] is True


def test_actions_without_inputs_get_no_extra_vars(recorder: Recorder) -> None:
    invoke("chrony_ntp_server_rollback")
    assert recorder.calls[0]["extravars"] == {}


@pytest.mark.parametrize("mode", ["dry_run", "observe", "read_only", "emergency_readonly"])
@pytest.mark.parametrize("action", ["chrony_ntp_server_apply", "chrony_ntp_server_rollback"])
def test_mutations_are_refused_in_read_only_modes(recorder: Recorder, mode: str, action: str) -> None:
    response = invoke(action, mode)
    assert response.data["error_class"] == "policy_denied"
    assert f"mutating action {action} refused in {mode} mode" == response.error
    assert recorder.calls == []


@pytest.mark.parametrize("action", ["chrony_ntp_server_apply", "chrony_ntp_server_rollback"])
def test_mutations_are_refused_without_approval(recorder: Recorder, action: str) -> None:
    response = invoke(action, "apply", mutating_allowed=False)
    assert response.data["error_class"] == "policy_denied"
    assert "not approved for mutation" in response.error
    assert recorder.calls == []


def test_the_plan_runs_in_read_only_modes_with_check_mode(recorder: Recorder) -> None:
    response = invoke("chrony_ntp_server_plan", "dry_run", mutating_allowed=False)
    assert response.success
    assert recorder.calls[0]["check_mode"] is True
    assert recorder.calls[0]["extravars"] == {"tecrax_allowed_subnets": SUBNETS}
    response = invoke("chrony_ntp_server_plan", "observe", mutating_allowed=False)
    assert response.success and recorder.calls[1]["check_mode"] is False  # the playbook forces it


def test_the_plan_playbook_forces_check_mode_and_diff() -> None:
    (play,) = yaml.safe_load((tecrax.collection_root() / "playbooks" / "chrony_ntp_server_plan.yml").read_text())
    (task,) = play["tasks"]
    assert task["tecrax.ops.chrony_ntp_server"]["state"] == "present"
    assert task["check_mode"] is True and task["diff"] is True


def test_a_failed_module_still_reports_its_schema_valid_facts(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    recording = Recorder("failed", module_result(tmp_path, failed=True))
    monkeypatch.setattr(backend_runtime, "run_playbook", recording)
    response = invoke("chrony_ntp_server_apply")
    assert not response.success
    assert response.data["error_class"] == "validation_failed"
    assert response.error.startswith(
        "module failed on ntp-1: chrony did not restart with the new configuration; "
        "the previous configuration was restored and chrony is active again ["
    )
    facts = response.data["facts"]
    assert (facts["automatic_restore"], facts["restore_succeeded"], facts["failure"]) == (True, True, "restart_failed")
    assert response.data["after_state"]["present"] is False
    assert "facts_key" not in response.data  # failed steps are never lifted


def test_a_failed_module_with_broken_facts_reports_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend_runtime, "run_playbook",
                        Recorder("failed", {"failed": True, "msg": "boom", "facts": {"stdout": "x"}}))
    response = invoke("chrony_ntp_server_apply")
    assert response.error == "module failed on ntp-1: boom"
    assert "facts" not in response.data


def test_catalog_declares_the_chrony_actions() -> None:
    catalog = load_action_catalog(Path(tecrax.profile_root()))
    assert {name: (spec.module, spec.mutating, spec.inputs, spec.facts_key) for name, spec in catalog.items()
            if name.startswith("chrony_")} == {
        "chrony_ntp_server_read": ("tecrax.ops.chrony_ntp_server_info", False, ("allowed_subnets",), "chrony_ntp_server"),
        "chrony_ntp_server_plan": ("tecrax.ops.chrony_ntp_server", False, ("allowed_subnets",), "chrony_ntp_server_plan"),
        "chrony_ntp_server_apply": ("tecrax.ops.chrony_ntp_server", True, ("allowed_subnets",), "chrony_ntp_server_apply"),
        "chrony_ntp_server_rollback": ("tecrax.ops.chrony_ntp_server", True, (), "chrony_ntp_server_rollback"),
    }


@pytest.mark.parametrize("inputs", [["shell"], "allowed_subnets", ["allowed_subnets", "allowed_subnets"]])
def test_catalog_refuses_unknown_inputs(tmp_path: Path, inputs: Any) -> None:
    root = write_connector(tmp_path / "profile", ["x"], inputs={
        "allowed_subnets": {"check": "ntp.ntp_subnets.validate_allowed_subnets"}}, actions={"x": {
        "module": "tecrax.ops.x", "facts_contract": "tecrax.x", "schema": "schemas/x.v1.schema.json",
        "facts_key": "x", "mutating": False, "inputs": inputs}})
    with pytest.raises(ActionCatalogError, match="action x: inputs must be a list of distinct names among: .*allowed_subnets"):
        load_action_catalog(root)


@pytest.mark.parametrize(("check", "message"), [
    ("ntp_subnets.validate_allowed_subnets", "check must be <module_utils family>.<module>.<function>"),
    ("ntp.ntp_subnets.no_such_function", "the installed collection has no ntp.ntp_subnets.no_such_function"),
    ("common.ntp_subnets.validate_allowed_subnets", "the installed collection has no common.ntp_subnets"),
])
def test_catalog_refuses_a_check_outside_a_module_utils_family(tmp_path: Path, check: str, message: str) -> None:
    root = write_connector(tmp_path / "profile", [], inputs={"allowed_subnets": {"check": check}}, actions={})
    with pytest.raises(ActionCatalogError, match=re.escape(f"input allowed_subnets: {message}")):
        load_input_catalog(root)


def test_prefix_lengths_after_a_colon_are_not_scrubbed_as_paths() -> None:
    assert backend_runtime._scrub("'fd00::/40' is outside fc00::/7 in /etc/x") == "'fd00::/40' is outside fc00::/7 in <path>"
    assert ipaddress.ip_network("fc00::/7")  # the range named in the message is what it says
