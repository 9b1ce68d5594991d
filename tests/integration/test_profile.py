"""The installed profile passes RExecOp's conformance gate and every intent is complete."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import tecrax

PROFILE = Path(tecrax.profile_root())
INTENTS = sorted(path.stem for path in (PROFILE / "intents").glob("*.yaml"))


def rexecop(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("rexecop")), "--root", str(tmp_path / "rx"), *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_profile_lint_all_tracks_passes(tmp_path: Path) -> None:
    completed = rexecop(tmp_path, "profile", "lint", "--profile", "tecrax", "--track", "all")
    report = json.loads(completed.stdout)
    assert completed.returncode == 0 and report["status"] == "passed", report["errors"]
    assert report["errors"] == []
    assert sorted(report["checked_intents"]) == INTENTS


def test_only_the_chrony_mutation_may_apply() -> None:
    applying = [
        intent for intent in INTENTS
        if "apply" in yaml.safe_load((PROFILE / "intents" / f"{intent}.yaml").read_text())["intent"]["modes"]
    ]
    assert applying == ["configure_chrony_ntp_server"]


@pytest.mark.parametrize("intent", INTENTS)
def test_runbook_is_shown_by_rexecop(tmp_path: Path, intent: str) -> None:
    completed = rexecop(tmp_path, "runbook", "show", intent, "--profile", "tecrax")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "## " in completed.stdout or "runbook" in completed.stdout.lower()


@pytest.mark.parametrize("intent", INTENTS)
def test_every_connector_step_has_playbook_module_and_schema(intent: str) -> None:
    from tecrax.backend.actions import load_action_catalog

    catalog = load_action_catalog(PROFILE)
    workflow_ref = yaml.safe_load((PROFILE / "intents" / f"{intent}.yaml").read_text())["intent"]["workflow"]
    workflow = yaml.safe_load((PROFILE / workflow_ref).read_text())["workflow"]
    steps = list(workflow["steps"]) + list((workflow.get("rollback") or {}).get("steps", []))
    actions = [step["action"] for step in steps if step["type"] == "connector"]
    assert actions, f"{intent} has no connector step"
    for name in actions:
        action = catalog[name]
        assert (tecrax.collection_root() / action.playbook).is_file()
        module_file = action.module.rsplit(".", 1)[1] + ".py"
        assert (tecrax.collection_root() / "plugins" / "modules" / module_file).is_file()
        schema = json.loads((PROFILE / action.schema).read_text())
        assert schema["$schema"].endswith("2020-12/schema")
