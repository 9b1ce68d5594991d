"""The tecrax.ops.rexecop_trigger module, run in-process against the real ``rexecop`` of this
environment (its runtime root in a temporary directory, the example target catalog)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import BUDGET_ENV
from ansible_collections.tecrax.ops.plugins.modules import rexecop_trigger
from unit.conftest import REPO_ROOT
from unit.processes import assert_ended, hanging_program, started_pids

CATALOG = REPO_ROOT / "examples" / "catalogs" / "targets.readonly.example.yaml"


def event(event_id: str = "netwatch-0001", subject: str | None = "monitoring-host-01", **payload: Any) -> dict[str, Any]:
    document = {"id": event_id, "source": "netwatch", "type": "network.host_observed", "subject": subject,
                "occurred_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
                "payload": payload or {"known": True, "target_kind": "host"}}
    return {key: value for key, value in document.items() if value is not None}


def run(args: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            rexecop_trigger.main()
    return exited.value.code or 0, json.loads(capsys.readouterr().out)


def operations(root: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted((root / "operations").glob("op-*.json"))]


def test_known_and_unknown_hosts_and_a_repeated_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "rx"
    code, planned = run({"event": event(), "catalog": str(CATALOG), "root": str(root)}, capsys)
    assert code == 0 and planned["changed"] is True
    trigger = planned["trigger"]
    assert (trigger["decision"], trigger["reason"], trigger["admitted"]) == \
        ("plan_operation", "matched:known-host-inventory-plan", True)
    (operation,) = operations(root)
    assert operation["id"] == trigger["operation_id"]
    assert (operation["intent"], operation["mode"], operation["target"]) == \
        ("collect_basic_host_inventory", "dry_run", "monitoring-host-01")
    assert operation["requested_by"] == f"trigger:ansible-rulebook:{trigger['decision_id']}"
    assert trigger["evidence_digest"].startswith("sha256:")

    code, unknown = run({"event": event("netwatch-0002", "198.51.100.77", known=False, target_kind="host"),
                         "catalog": str(CATALOG), "root": str(root)}, capsys)
    assert code == 0 and (unknown["trigger"]["decision"], unknown["trigger"]["operation_id"]) == ("escalate", None)

    # The same id from the same source, whatever else it says, is a duplicate.
    code, again = run({"event": event(address="192.0.2.10", known=True, target_kind="host"),
                       "catalog": str(CATALOG), "root": str(root)}, capsys)
    assert code == 0 and (again["trigger"]["decision"], again["trigger"]["reason"]) == \
        ("drop_duplicate", "dedupe_key_already_seen")
    assert len(operations(root)) == 1


def test_operator_values_come_from_the_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TECRAX_TRIGGER_CATALOG", str(CATALOG))
    monkeypatch.setenv("REXECOP_ROOT", str(tmp_path / "rx"))
    code, result = run({"event": event()}, capsys)
    assert code == 0 and result["trigger"]["decision"] == "plan_operation"
    assert len(operations(tmp_path / "rx")) == 1


def test_rexecop_refusal_fails_the_module_with_its_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run({"event": event(subject="stranger-01"), "catalog": str(CATALOG), "root": str(tmp_path / "rx")},
                       capsys)
    assert code == 1 and result["failed"] is True and result["rc"] == 1
    assert result["msg"] == "rexecop trigger refused the event: unknown catalog target: stranger-01"
    assert operations(tmp_path / "rx") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"event": event(subject=None)}, "event refused: subject: missing"),
        ({"event": event(known="true", target_kind="host")}, "event refused: payload.known: must be true or false"),
        ({"event": event(subject="$(reboot)")}, "event refused: subject: must be a catalog target id"),
        ({"event": event(), "catalog": "targets.yaml"}, "catalog must be an absolute path of printable characters"),
        ({"event": event(), "catalog": "/nonexistent/targets.yaml"}, "catalog is not a readable file"),
        ({"event": event(), "root": "rx"}, "root must be an absolute path of printable characters"),
    ],
)
def test_bad_input_fails_before_rexecop_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             args: dict[str, Any], message: str) -> None:
    complete = {"catalog": str(CATALOG), "root": str(tmp_path / "rx"), **args}
    code, result = run(complete, capsys)
    assert code == 1 and result["msg"].startswith(message)
    assert not (tmp_path / "rx").exists()


def test_check_mode_checks_and_sends_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run({"event": event(), "catalog": str(CATALOG), "root": str(tmp_path / "rx"),
                        "_ansible_check_mode": True}, capsys)
    assert code == 0 and result["changed"] is True and result["trigger"] is None
    assert not (tmp_path / "rx").exists()


def test_a_hung_rexecop_is_ended_at_the_module_budget(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                        lambda self, program, *args, **kwargs: str(hanging_program(bin_dir, program)))
    monkeypatch.setenv(BUDGET_ENV, "1")
    code, result = run({"event": event(), "catalog": str(CATALOG), "root": str(tmp_path / "rx")}, capsys)
    assert code == 1 and result["timed_out"] is True
    assert result["msg"].startswith("timed out: rexecop did not finish within the module's budget of 1 s")
    (pid,) = started_pids(bin_dir)
    assert_ended(pid)
