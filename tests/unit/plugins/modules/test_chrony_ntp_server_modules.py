"""tecrax.ops.chrony_ntp_server and chrony_ntp_server_info run in-process: argument handling,
and the module result around the transactions (against the simulated chrony of
unit/fake_chrony.py, never this machine's /etc). The private networks are subnet inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ansible_collections.tecrax.ops.plugins.modules import chrony_ntp_server, chrony_ntp_server_info
from unit.fake_chrony import FakeChrony
from unit.module_runner import run_module

SCHEMA = "chrony_ntp_server_mutation.v1.schema.json"


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeChrony:
    fake = FakeChrony(tmp_path)
    for module in (chrony_ntp_server, chrony_ntp_server_info):
        monkeypatch.setattr(module, "ChronyHost", lambda run, binaries: fake.host())
    return fake


def run(module: Any, capsys: pytest.CaptureFixture[str], args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return run_module(module.main, capsys, args)[:2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "state is present but all of the following are missing: allowed_subnets"),
        ({"state": "absent", "allowed_subnets": ["10.20.0.0/16"]}, "allowed_subnets applies to state=present only"),
        ({"state": "previous", "allowed_subnets": []}, "allowed_subnets applies to state=present only"),
        ({"allowed_subnets": ["fd00::1/64"]},
         "invalid allowed_subnets, nothing was changed: allowed_subnets[0] 'fd00::1/64' has host bits set"),
        ({"allowed_subnets": ["10.20.0.0/16\nallow all"]}, "contains whitespace, a control character or a comment"),
        ({"allowed_subnets": ["10.20.0.0/16"], "command": "id"}, "Unsupported parameters"),
        ({"state": "restored"}, "value of state must be one of: present, absent, previous"),
    ],
)
def test_bad_arguments_fail_before_the_host_is_touched(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: dict[str, Any], message: str
) -> None:
    def no_host(*_: Any) -> None:
        raise AssertionError("the host must not be touched")

    monkeypatch.setattr(chrony_ntp_server, "ChronyHost", no_host)
    code, result = run(chrony_ntp_server, capsys, args)
    assert code == 1 and result["failed"] is True
    assert message in result["msg"]


def test_check_mode_with_diff(capsys: pytest.CaptureFixture[str], fake: FakeChrony, facts_schema_errors: Any) -> None:
    code, result = run(chrony_ntp_server, capsys, {
        "allowed_subnets": ["10.20.0.0/16"], "_ansible_check_mode": True, "_ansible_diff": True})
    assert code == 0 and result["changed"] is True
    assert not fake.managed.exists() and not fake.state_dir.exists()
    assert result["diff"]["before"] == "" and result["diff"]["after"].endswith("allow 10.20.0.0/16\n")
    assert facts_schema_errors(result["facts"], SCHEMA) == []
    assert result["facts"]["check_mode"] is True
    assert result["after_state"] == result["facts"]["after_state"]


def test_check_mode_without_chrony_fails_like_the_apply(capsys: pytest.CaptureFixture[str], fake: FakeChrony,
                                                        facts_schema_errors: Any) -> None:
    fake.installed = False
    results = []
    for check_mode in (True, False):
        code, result = run(chrony_ntp_server, capsys, {
            "allowed_subnets": ["10.20.0.0/16"], "_ansible_check_mode": check_mode, "_ansible_diff": True})
        assert code == 1 and result["failed"] is True and result["changed"] is False
        assert facts_schema_errors(result["facts"], SCHEMA) == []
        results.append(result)
    checked, applied = results
    assert checked["msg"] == applied["msg"] == (
        "chrony is not installed (no chronyd or no chrony.service); nothing was changed")
    assert checked["facts"]["failure"] == applied["facts"]["failure"] == "chrony_not_installed"
    assert not fake.managed.exists() and not fake.state_dir.exists()


def test_apply_then_rollback(capsys: pytest.CaptureFixture[str], fake: FakeChrony) -> None:
    code, applied = run(chrony_ntp_server, capsys, {"allowed_subnets": ["10.20.0.0/16"]})
    assert code == 0 and applied["changed"] and "diff" not in applied
    assert applied["before_state"]["present"] is False and applied["after_state"]["present"] is True
    code, rolled = run(chrony_ntp_server, capsys, {"state": "previous"})
    assert code == 0 and rolled["changed"] and not fake.managed.exists()


def test_a_failed_apply_reports_facts(capsys: pytest.CaptureFixture[str], fake: FakeChrony,
                                      facts_schema_errors: Any) -> None:
    fake.restart_fails_when = lambda config: "allow" in config
    code, result = run(chrony_ntp_server, capsys, {"allowed_subnets": ["10.20.0.0/16"]})
    assert code == 1 and result["failed"] is True
    assert "the previous configuration was restored and chrony is active again" in result["msg"]
    assert result["facts"]["automatic_restore"] is True
    assert facts_schema_errors(result["facts"], SCHEMA) == []


def test_info_module(capsys: pytest.CaptureFixture[str], fake: FakeChrony, facts_schema_errors: Any) -> None:
    code, result = run(chrony_ntp_server_info, capsys, {"allowed_subnets": ["10.20.0.0/16"]})
    assert code == 0 and result["changed"] is False
    facts = result["facts"]
    assert facts_schema_errors(facts, SCHEMA) == []
    assert (facts["action"], facts["desired_state"], facts["desired_state_applied"]) == ("read", "present", False)
    code, result = run(chrony_ntp_server_info, capsys, {})
    assert result["facts"]["desired_state"] == "unspecified"
    code, result = run(chrony_ntp_server_info, capsys, {"allowed_subnets": ["8.8.8.0/24"]})
    assert code == 1 and "invalid allowed_subnets: allowed_subnets[0] '8.8.8.0/24'" in result["msg"]
