"""``rexecop reaction-start`` runs the read-only check a diagnosis' reaction names, for real:
real Ansible over real SSH to a lab host, through RExecOp / GovEngine / SCLite.

The diagnosis operation is the draft diagnosis workflow of ``reaction_lab`` (its diagnosis
step is RExecOp's static_fixture backend returning a saved diagnosis; everything after it is
real): RExecOp reads the observation from the completed operation, the reaction pack picks
the component's check, GovEngine admits the child, and reaction-start runs it on the host.
The child's facts are compared with what the host itself reports (read through nsenter, not
SSH). The NTP case stops chronyd on the host first (the fault a diagnosis would report), so
the re-check finds no time daemon running.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import diagnosis_fixture
from harness import Governed, LabTarget
from reaction_lab import INTENT, draft_profile, write_reaction_environment

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def host(lab: Any) -> Any:
    return lab.add_host("reactor")


def diagnose_and_react(tmp_path: Path, lab: Any, host: Any, facts: dict[str, Any]) -> tuple[Governed, dict[str, Any]]:
    governed = Governed(tmp_path / "rx", lab.private_key)
    profile = draft_profile(tmp_path / "profile")
    env = write_reaction_environment(tmp_path / "environment.yaml", [LabTarget(host.name, host.address, host.port)],
                                     known_hosts=lab.known_hosts, diagnosis=facts)
    planned = governed.rexecop("plan", "--profile", str(profile), "--env", str(env), "--intent", INTENT,
                               "--target", host.name, "--mode", "observe")
    operation = planned.stdout.strip().splitlines()[-1]
    governed.rexecop("start", "--operation", operation)
    assert governed.outcome(operation).state == "completed"
    reaction = json.loads(governed.rexecop("reaction-plan", "--profile", "tecrax", "--env", str(env),
                                           "--operation", operation, "--target", host.name).stdout)
    return governed, reaction


def start(governed: Governed, reaction: dict[str, Any]) -> dict[str, Any]:
    started = json.loads(governed.rexecop("reaction-start", "--reaction", reaction["reaction_id"]).stdout)
    replay = json.loads(governed.rexecop("reaction-replay", "--reaction", reaction["reaction_id"]).stdout)
    assert replay["reaction_semantics"] == "passed"
    assert list(replay["checked_entries"]) == ["observation", "finding", "reaction_plan", "execution_receipt"]
    return started


def test_unhealthy_ntp_rechecks_ntp_on_the_host(tmp_path: Path, lab: Any, host: Any) -> None:
    lab.exec(host, ["systemctl", "stop", "chrony.service"], check=True)
    facts = diagnosis_fixture.diagnosis(ntp=("unhealthy", ["no_time_daemon_active"]))
    governed, reaction = diagnose_and_react(tmp_path, lab, host, facts)
    plan = reaction["reaction_plan"]
    assert (plan["outcome"], plan["intent_ref"]) == ("run_intent", "check_ntp_health")

    started = start(governed, reaction)
    child = governed.outcome(plan["child_operation_id"])
    assert started["child_operation_id"] == child.operation_id
    assert child.runtime_receipt["success"] is True, child.last_failure  # the check ran on the host
    assert child.evidence_verified, child.evidence_checks
    observed = child.facts["ntp_local_health"]
    on_host = dict(line.split("=", 1) for line in lab.exec(
        host, ["systemctl", "show", "--property=ActiveState,SubState", "chrony.service"], check=True).stdout.split())
    assert observed["daemons"]["chrony"]["active_state"] == on_host["ActiveState"] == "inactive"
    assert observed["active_daemons"] == [] and observed["assessment"]["state"] == "unhealthy"
    # The re-check confirms the finding: the child ran and its validation fails.
    assert child.state == "failed" and child.validation["rule"] == "check_ntp_health.not_healthy"


def test_incomplete_inventory_recollects_it(tmp_path: Path, lab: Any, host: Any) -> None:
    facts = diagnosis_fixture.diagnosis(inventory=("unhealthy", ["root_filesystem_unobserved"]))
    governed, reaction = diagnose_and_react(tmp_path, lab, host, facts)
    assert reaction["reaction_plan"]["intent_ref"] == "collect_basic_host_inventory"
    started = start(governed, reaction)
    child = governed.outcome(reaction["reaction_plan"]["child_operation_id"])
    assert started["child_state"] == child.state == "completed" and child.validation_passed
    hostname = lab.exec(host, ["hostname"], check=True).stdout.strip()
    assert child.facts["basic_host_inventory"]["hostname"] == hostname


def test_a_healthy_host_starts_nothing(tmp_path: Path, lab: Any, host: Any) -> None:
    governed, reaction = diagnose_and_react(tmp_path, lab, host, diagnosis_fixture.healthy())
    assert reaction["reaction_plan"]["outcome"] == "no_op"
    refused = governed.rexecop("reaction-start", "--reaction", reaction["reaction_id"], check=False)
    assert refused.returncode == 1 and "reaction has no executable child intent" in refused.stderr
    operations = sorted((governed.root / "operations").glob("op-*.json"))
    assert len(operations) == 1  # the diagnosis only
