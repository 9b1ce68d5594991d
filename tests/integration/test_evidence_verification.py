"""SCLite's four checks of a real bundle, run in-process, catch a bundle changed afterwards.

One real `tecrax run` on this machine (built-in local environment) writes an operation and
its SCLite bundle; each test changes a copy of the bundle and verifies it again, and
`tecrax evidence` reports the tampered operation as not verified (exit 3).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tecrax.evidence import verify_bundle

INTENT = "collect_basic_host_inventory"
CHAIN_CHECKS = ("artifact_chain", "lifecycle", "review")


def tecrax(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("tecrax")), *args], capture_output=True, text=True, timeout=300,
        cwd=cwd, env={**os.environ, "PATH": "/usr/bin:/bin"}, check=False,
    )


@pytest.fixture(scope="module")
def operation(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("evidence")
    completed = tecrax("run", INTENT, "--json", "--root", str(base / "rx"), cwd=base)
    assert completed.returncode == 0, completed.stderr + completed.stdout
    return {"base": base, "report": json.loads(completed.stdout)}


@pytest.fixture
def bundle(operation: dict[str, Any], tmp_path: Path) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(operation["report"]["evidence"]["dir"], copy)
    return copy


def results(bundle: Path) -> dict[str, bool]:
    return {check.name: check.passed for check in verify_bundle(bundle)}


def edit_json(path: Path, change: Any) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document, indent=2, sort_keys=True))


def test_the_untouched_bundle_passes_every_check(operation: dict[str, Any], bundle: Path) -> None:
    assert operation["report"]["evidence"]["checks"] == {
        "bundle_complete": True, "artifact_chain": True, "lifecycle": True, "ticket_use": True, "review": True}
    checks = verify_bundle(bundle)
    assert all(check.passed for check in checks), checks
    assert [check.name for check in checks] == ["bundle_complete", "artifact_chain", "lifecycle", "ticket_use", "review"]


def test_a_changed_receipt_breaks_the_chain_the_lifecycle_and_the_review(bundle: Path) -> None:
    edit_json(bundle / "05_execution_receipt.json", lambda receipt: receipt.update(success=not receipt.get("success")))
    outcome = results(bundle)
    assert outcome["bundle_complete"] is True
    assert [name for name in CHAIN_CHECKS if outcome[name]] == [], outcome


def test_a_receipt_naming_another_ticket_fails_ticket_use(bundle: Path) -> None:
    def other_ticket(receipt: dict[str, Any]) -> None:
        text = json.dumps(receipt).replace("scoped-ticket-op-", "scoped-ticket-xx-")
        receipt.clear()
        receipt.update(json.loads(text))

    edit_json(bundle / "05_execution_receipt.json", other_ticket)
    failed = [check for check in verify_bundle(bundle) if not check.passed]
    assert "ticket_use" in [check.name for check in failed], failed
    assert all(check.detail for check in failed)


def test_a_missing_artifact_is_reported_without_running_the_checks(bundle: Path) -> None:
    (bundle / "04_execution_ticket.json").unlink()
    (check,) = verify_bundle(bundle)
    assert (check.name, check.passed) == ("bundle_complete", False)
    assert "04_execution_ticket.json" in check.detail


def test_a_broken_manifest_fails_its_checks_instead_of_raising(bundle: Path) -> None:
    (bundle / "artifact_chain_manifest.json").write_text("{not json")
    outcome = results(bundle)
    assert outcome["artifact_chain"] is False and outcome["lifecycle"] is False


def test_tecrax_evidence_reports_a_tampered_operation(operation: dict[str, Any]) -> None:
    base, report = operation["base"], operation["report"]
    verified = tecrax("evidence", report["operation_id"], "--root", str(base / "rx"), cwd=base)
    assert verified.returncode == 0 and "(verified)" in verified.stdout, verified.stdout + verified.stderr
    edit_json(Path(report["evidence"]["dir"]) / "01_intent_contract.json", lambda intent: intent.update(tampered=True))
    tampered = tecrax("evidence", report["operation_id"], "--root", str(base / "rx"), "--json", cwd=base)
    assert tampered.returncode == 3, tampered.stdout + tampered.stderr
    checks = json.loads(tampered.stdout)["evidence"]["checks"]
    assert checks["artifact_chain"] is False and checks["review"] is False
