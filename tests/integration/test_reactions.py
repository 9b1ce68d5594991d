"""Reactions, proposals and triggers through the real ``rexecop`` and ``tecrax`` commands
(no lab host is contacted: reactions are only planned here, and triggers only plan; the
reactions of real diagnoses on lab hosts, started, are in test_monitoring_host_diagnosis.py).

- ``rexecop reaction-plan`` on observations ``tecrax reaction-observation`` built from saved
  diagnoses, with the read-only host example's policy: healthy -> no_op, unhealthy ->
  run_intent of that component's check (the child is planned, not started), unavailable ->
  escalate; RExecOp's own refusals (target, digest, budget) and its chain verification.
- The diagnosis operation's own reaction observation: none before it completed, and (with a
  fixture stand-in for the diagnosis step, since no real host can produce it) a diagnosis that
  breaks the facts contract fails the observation step.
- ``rexecop reaction-proposal-validate`` accepts the proposals ``tecrax escalation-proposal``
  builds (with the digest ``tecrax escalation-proposal-check`` reports) and refuses the bad
  ones; what RExecOp lets through, the tecrax check refuses.
- ``rexecop trigger`` with the profile's trigger rules: a known host plans (and does not
  start) a dry-run inventory on the catalog target; the same event again is dropped; another
  event for the same host within 300 s is blocked by the cooldown, after it plans again; an
  unknown host escalates; a missing subject is refused; nothing is planned in those cases.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

import diagnosis_fixture
from harness import LabTarget, allow_read_policy, example_policy, write_catalog, write_environment

BIN = Path(sys.executable).parent
OPERATION = "op-20261205-120000-0a1b2c"
TARGET = "monitoring-host-01"
INTENT = "diagnose_monitoring_host"


def command(name: str, *args: str, root: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    prefix = ["--root", str(root)] if root is not None else []
    return subprocess.run([str(BIN / name), *prefix, *args], capture_output=True, text=True, input=stdin,
                          timeout=300, check=False)


def ok(completed: subprocess.CompletedProcess[str]) -> Any:
    assert completed.returncode == 0, completed.stderr + completed.stdout
    return json.loads(completed.stdout)


def refused(completed: subprocess.CompletedProcess[str], message: str) -> None:
    assert completed.returncode == 1, completed.stdout
    assert message in completed.stderr and "Traceback" not in completed.stderr, completed.stderr


@pytest.fixture
def env(tmp_path: Path) -> Path:
    (tmp_path / "known_hosts").write_text("")
    targets = [LabTarget(TARGET, "198.18.250.10"), LabTarget("ntp-host-01", "198.18.250.11")]
    return write_environment(tmp_path / "environment.yaml", targets, known_hosts=tmp_path / "known_hosts",
                             policy=example_policy())


def observation(tmp_path: Path, name: str, **changes: Any) -> Path:
    diagnosis = diagnosis_fixture.write(tmp_path / f"{name}.diagnosis.json", diagnosis_fixture.diagnosis(**changes))
    built = command("tecrax", "reaction-observation", "--input", str(diagnosis), "--operation", OPERATION,
                    "--target", TARGET)
    path = tmp_path / f"{name}.observation.json"
    path.write_text(json.dumps(ok(built)))
    return path


def reaction_plan(root: Path, env: Path, observation_file: Path, *extra: str,
                  target: str = TARGET) -> subprocess.CompletedProcess[str]:
    return command("rexecop", "reaction-plan", "--profile", "tecrax", "--env", str(env),
                   "--observation", str(observation_file), "--target", target, *extra, root=root)


def operations(root: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted((root / "operations").glob("op-*.json"))] \
        if (root / "operations").is_dir() else []


def test_the_profile_lint_compiles_the_reaction_pack(tmp_path: Path) -> None:
    report = json.loads(command("rexecop", "profile", "lint", "--profile", "tecrax", "--track", "all",
                                root=tmp_path / "rx").stdout)
    assert report["status"] == "passed" and "reaction_pack" in report["checked_surfaces"]
    assert report["categories"]["reaction"] == {"status": "passed", "errors": [], "warnings": []}
    assert report["reaction_observation_intents"] == [INTENT]


def test_healthy_is_no_op(tmp_path: Path, env: Path) -> None:
    root = tmp_path / "rx"
    plan = ok(reaction_plan(root, env, observation(tmp_path, "healthy")))["reaction_plan"]
    assert (plan["outcome"], plan["intent_ref"], plan["child_operation_id"]) == ("no_op", None, None)
    assert plan["reason"] == "matched:all-components-healthy"
    assert operations(root) == []
    finding = json.loads((root / "reactions" / plan["reaction_id"] / "02_finding.json").read_text())
    assert finding["taxonomy"] == {"kind": "monitoring.observed_healthy", "severity": "info"}


@pytest.mark.parametrize(
    ("component", "reason", "intent"),
    [
        ("ntp", "clock_not_synchronized", "check_ntp_health"),
        ("docker", "docker_inactive", "check_docker_services_health"),
        ("portainer", "http_error_status", "check_portainer_health"),
    ],
)
def test_unhealthy_plans_the_components_check_without_starting_it(tmp_path: Path, env: Path, component: str,
                                                                  reason: str, intent: str) -> None:
    root = tmp_path / "rx"
    result = ok(reaction_plan(root, env, observation(tmp_path, component, **{component: ("unhealthy", [reason])})))
    plan = result["reaction_plan"]
    assert (plan["outcome"], plan["intent_ref"]) == ("run_intent", intent)
    assert plan["admission"]["status"] == "admitted" and plan["admission"]["decision"] == "allow"
    (child,) = operations(root)
    assert child["id"] == plan["child_operation_id"] and child["intent"] == intent and child["target"] == TARGET
    assert child["mode"] == "dry_run" and child["requested_by"] == f"reaction:{result['reaction_id']}"
    assert not child["metadata"].get("step_results"), "a planned reaction child must not have run"
    replay = ok(command("rexecop", "reaction-replay", "--reaction", result["reaction_id"], root=root))
    assert replay["reaction_semantics"] == "passed"


def test_unavailable_escalates(tmp_path: Path, env: Path) -> None:
    root = tmp_path / "rx"
    plan = ok(reaction_plan(root, env, observation(tmp_path, "tls", portainer=("unavailable", ["tls_failed"]))))
    plan = plan["reaction_plan"]
    assert (plan["outcome"], plan["intent_ref"], plan["reason"]) == ("escalate", None, "matched:portainer-unavailable-escalate")
    assert operations(root) == []
    refused(command("rexecop", "reaction-start", "--reaction", plan["reaction_id"], root=root),
            "reaction has no executable child intent")


def test_the_same_observation_is_planned_once(tmp_path: Path, env: Path) -> None:
    root = tmp_path / "rx"
    path = observation(tmp_path, "ntp", ntp=("unhealthy", []))
    first = ok(reaction_plan(root, env, path))
    again = ok(reaction_plan(root, env, path))
    assert again["idempotent_replay"] is True and again["reaction_id"] == first["reaction_id"]
    assert len(operations(root)) == 1


def test_obligations_block_a_reaction_child(tmp_path: Path) -> None:
    """RExecOp plans a child only on a plain allow; an allow with obligations escalates."""
    (tmp_path / "known_hosts").write_text("")
    strict = write_environment(tmp_path / "strict.yaml", [LabTarget(TARGET, "198.18.250.10")],
                               known_hosts=tmp_path / "known_hosts", policy=allow_read_policy())
    root = tmp_path / "rx"
    plan = ok(reaction_plan(root, strict, observation(tmp_path, "ntp", ntp=("unhealthy", []))))["reaction_plan"]
    assert plan["outcome"] == "escalate" and plan["admission"]["status"] == "blocked"
    assert plan["reason"].startswith("govengine_reaction_blocked:")
    assert operations(root) == []


def test_rexecop_refusals(tmp_path: Path, env: Path) -> None:
    root = tmp_path / "rx"
    path = observation(tmp_path, "ntp", ntp=("unhealthy", []))
    refused(reaction_plan(root, env, path, target="ntp-host-01"), "observation target does not match requested target")
    tampered = json.loads(path.read_text())
    tampered["profile_ref"]["digest"] = "0" * 64
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    refused(reaction_plan(root, env, tmp_path / "tampered.json"), "observation profile digest does not match")
    ghost = json.loads(path.read_text())
    ghost["source"]["target_id"] = "ghost-host"
    (tmp_path / "ghost.json").write_text(json.dumps(ghost))
    refused(reaction_plan(root, env, tmp_path / "ghost.json", target="ghost-host"), "unknown environment target: ghost-host")
    assert operations(root) == []


@pytest.mark.parametrize(
    ("context", "reason"),
    [(("--depth", "3"), "max_reaction_depth_exceeded"), (("--reaction-count", "5"), "reaction_budget_exhausted")],
)
def test_budgets_escalate_without_planning(tmp_path: Path, env: Path, context: tuple[str, str], reason: str) -> None:
    root = tmp_path / "rx"
    plan = ok(reaction_plan(root, env, observation(tmp_path, "ntp", ntp=("unhealthy", [])), *context))["reaction_plan"]
    assert (plan["outcome"], plan["reason"]) == ("escalate", reason)
    assert operations(root) == []


def test_an_unknown_state_escalates(tmp_path: Path, env: Path) -> None:
    """A component state the taxonomy does not know (fed as a hand-built envelope, since a
    diagnosis with it breaks the facts contract) reaches the fallback."""
    built = json.loads(observation(tmp_path, "healthy").read_text())
    built["facts"]["components"]["adguard"]["status"] = "flapping"
    (tmp_path / "flapping.json").write_text(json.dumps(built))
    plan = ok(reaction_plan(tmp_path / "rx", env, tmp_path / "flapping.json"))["reaction_plan"]
    assert (plan["outcome"], plan["reason"]) == ("escalate", "no_matching_reaction_rule")


# --- proposals -----------------------------------------------------------------------------

def proposal(tmp_path: Path, name: str, *extra: str, **changes: Any) -> Path:
    diagnosis = diagnosis_fixture.write(tmp_path / f"{name}.diagnosis.json", diagnosis_fixture.diagnosis(**changes))
    built = command("tecrax", "escalation-proposal", "--input", str(diagnosis), "--operation", OPERATION,
                    "--target", TARGET, *extra)
    path = tmp_path / f"{name}.proposal.json"
    path.write_text(json.dumps(ok(built)))
    return path


def rexecop_validates(tmp_path: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return command("rexecop", "reaction-proposal-validate", "--profile", "tecrax", "--proposal", str(path),
                   root=tmp_path / "rx")


@pytest.mark.parametrize(
    ("changes", "extra", "outcome"),
    [
        ({}, (), "no_op"),
        ({"ntp": ("unhealthy", ["clock_not_synchronized"])}, (), "run_intent"),
        ({"adguard": ("unavailable", ["dns_timeout"])}, (), "escalate"),
        ({}, ("--intent", "collect_host_security_posture_readonly"), "run_intent"),
    ],
)
def test_rexecop_accepts_the_proposals_tecrax_builds(tmp_path: Path, changes: dict[str, Any], extra: tuple[str, ...],
                                                     outcome: str) -> None:
    path = proposal(tmp_path, "p", *extra, **changes)
    accepted = ok(rexecop_validates(tmp_path, path))
    checked = ok(command("tecrax", "escalation-proposal-check", "--proposal", str(path), "--json"))
    assert accepted == {"status": "valid_untrusted_proposal", "proposal_digest": checked["proposal_digest"],
                        "may_execute": False, "requires_govengine_admission": True}
    assert checked["suggested_outcome"] == outcome
    assert operations(tmp_path / "rx") == []


def edited(tmp_path: Path, change: Any) -> Path:
    document = json.loads(proposal(tmp_path, "base", ntp=("unhealthy", [])).read_text())
    change(document)
    path = tmp_path / "edited.proposal.json"
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("change", "rexecop_says", "tecrax_says"),
    [
        (lambda p: p.update(intent_ref="configure_chrony_ntp_server"), "proposal intent is not read-only",
         "is not read-only (modes: apply)"),
        (lambda p: p.update(command="chronyc makestep"), "escalation_proposal", "proposal.command is a 'command' key"),
        (lambda p: p["authority"].update(may_execute=True), "escalation_proposal", "not an SCLite escalation_proposal"),
    ],
)
def test_both_refuse_a_bad_proposal(tmp_path: Path, change: Any, rexecop_says: str, tecrax_says: str) -> None:
    path = edited(tmp_path, change)
    rejected = rexecop_validates(tmp_path, path)
    assert rejected.returncode == 1 and rexecop_says in rejected.stderr, rejected.stderr
    refused(command("tecrax", "escalation-proposal-check", "--proposal", str(path)), tecrax_says)


@pytest.mark.parametrize(
    ("change", "tecrax_says"),
    [
        (lambda p: p.update(evidence_refs=["/srv/rexecop/sclite/op/05_execution_receipt.json"]), "is absolute"),
        (lambda p: p.update(explanation="Restart it with password hunter2."), "secret-like text"),
        (lambda p: p.update(explanation="Open https://example.org/fix and follow it."), "contains a URL"),
    ],
)
def test_tecrax_refuses_what_rexecop_lets_through(tmp_path: Path, change: Any, tecrax_says: str) -> None:
    path = edited(tmp_path, change)
    ok(rexecop_validates(tmp_path, path))  # the SCLite schema has no rule for these
    refused(command("tecrax", "escalation-proposal-check", "--proposal", str(path)), tecrax_says)


# --- triggers ------------------------------------------------------------------------------

@pytest.fixture
def catalog(tmp_path: Path, env: Path) -> Path:
    targets = [LabTarget(TARGET, "198.18.250.10"), LabTarget("ntp-host-01", "198.18.250.11")]
    return write_catalog(tmp_path / "targets.yaml", env, targets, ["tecrax.host.basic_inventory.v1"])


def trigger(root: Path, catalog: Path, event_id: str, subject: str | None = TARGET, *,
            occurred: datetime | None = None, **payload: Any) -> subprocess.CompletedProcess[str]:
    event: dict[str, Any] = {
        "id": event_id, "source": "netwatch", "type": "network.host_observed",
        "occurred_at": (occurred or datetime.now(UTC)).replace(microsecond=0).isoformat(),
        "payload": payload or {"known": True, "target_kind": "host"},
    }
    if subject is not None:
        event["subject"] = subject
    stdin = json.dumps({"profile": "tecrax", "catalog": str(catalog), "trigger_event": event})
    return command("rexecop", "trigger", root=root, stdin=stdin)


def test_a_known_host_plans_a_dry_run_inventory_and_does_not_start_it(tmp_path: Path, catalog: Path) -> None:
    root = tmp_path / "rx"
    decision = ok(trigger(root, catalog, "ev-1"))
    assert (decision["decision"], decision["reason"]) == ("plan_operation", "matched:known-host-inventory-plan")
    assert decision["admission"]["admission"]["allowed"] is True
    (planned,) = operations(root)
    assert planned["id"] == decision["operation_id"]
    assert (planned["intent"], planned["mode"], planned["target"]) == ("collect_basic_host_inventory", "dry_run", TARGET)
    assert planned["metadata"]["catalog_runtime"]["target_id"] == TARGET
    assert planned["state"] not in ("running", "completed", "failed") and not planned["metadata"].get("step_results")


def test_duplicates_and_cooldown(tmp_path: Path, catalog: Path) -> None:
    root = tmp_path / "rx"
    first = ok(trigger(root, catalog, "ev-1"))
    duplicate = ok(trigger(root, catalog, "ev-1"))
    assert (duplicate["decision"], duplicate["reason"], duplicate["operation_id"]) == \
        ("drop_duplicate", "dedupe_key_already_seen", None)
    cooling = ok(trigger(root, catalog, "ev-2"))
    assert (cooling["decision"], cooling["reason"], cooling["operation_id"]) == ("cooldown_blocked", "cooldown_active", None)
    other_host = ok(trigger(root, catalog, "ev-3", "ntp-host-01"))
    assert other_host["decision"] == "plan_operation"  # the cooldown is per subject
    assert [op["id"] for op in operations(root)] == sorted([first["operation_id"], other_host["operation_id"]])


def test_the_cooldown_is_300_seconds(tmp_path: Path, catalog: Path) -> None:
    """RExecOp keeps the time of the last accepted plan per subject; moving it back shows
    where the window ends without waiting for it."""
    root = tmp_path / "rx"
    ok(trigger(root, catalog, "ev-1"))
    (state,) = (root / "triggers" / "cooldowns").glob("*.json")
    for seconds_ago, expected in ((290, "cooldown_blocked"), (310, "plan_operation")):
        record = json.loads(state.read_text())
        record["last_accepted_at"] = (datetime.now(UTC) - timedelta(seconds=seconds_ago)).replace(microsecond=0).isoformat()
        state.write_text(json.dumps(record))
        assert ok(trigger(root, catalog, f"ev-{seconds_ago}"))["decision"] == expected
    assert len(operations(root)) == 2


@pytest.mark.parametrize(
    ("subject", "payload", "rule"),
    [
        ("198.51.100.77", {"known": False, "target_kind": "host"}, "matched:unknown-host-escalate"),
        (TARGET, {"target_kind": "host"}, "matched:unclassified-host-event-escalate"),
        ("core-sw-01", {"known": True, "target_kind": "network_device"}, "matched:unclassified-host-event-escalate"),
    ],
)
def test_anything_else_escalates_and_plans_nothing(tmp_path: Path, catalog: Path, subject: str,
                                                   payload: dict[str, Any], rule: str) -> None:
    root = tmp_path / "rx"
    decision = ok(trigger(root, catalog, "ev-x", subject, **payload))
    assert (decision["decision"], decision["reason"], decision["operation_id"]) == ("escalate", rule, None)
    assert operations(root) == []


def test_other_event_types_are_ignored(tmp_path: Path, catalog: Path) -> None:
    root = tmp_path / "rx"
    event = {"id": "ev-1", "source": "netwatch", "type": "network.link_down", "subject": TARGET,
             "occurred_at": datetime.now(UTC).replace(microsecond=0).isoformat(), "payload": {"known": True}}
    stdin = json.dumps({"profile": "tecrax", "catalog": str(catalog), "trigger_event": event})
    decision = ok(command("rexecop", "trigger", root=root, stdin=stdin))
    assert (decision["decision"], decision["reason"]) == ("ignore", "no_matching_trigger_rule")
    assert operations(root) == []


def test_bad_events_are_refused_and_plan_nothing(tmp_path: Path, catalog: Path) -> None:
    root = tmp_path / "rx"
    refused(trigger(root, catalog, "ev-1", None), "trigger event missing required field: subject")
    refused(trigger(root, catalog, "ev-2", "stranger-01"), "unknown catalog target: stranger-01")
    refused(trigger(root, catalog, "ev-3", occurred=datetime.now(UTC) + timedelta(hours=1)),
            "trigger event timestamp is too far in the future")
    assert operations(root) == []


# --- the diagnosis operation's own observation ---------------------------------------------

def test_a_diagnosis_that_did_not_complete_has_no_reaction(tmp_path: Path, env: Path) -> None:
    root = tmp_path / "rx"
    planned = command("rexecop", "plan", "--profile", "tecrax", "--env", str(env), "--intent", INTENT,
                      "--target", TARGET, "--mode", "observe", root=root)
    assert planned.returncode == 0, planned.stderr
    operation = planned.stdout.strip().splitlines()[-1]
    refused(command("rexecop", "reaction-plan", "--profile", "tecrax", "--env", str(env), "--operation", operation,
                    "--target", TARGET, root=root), "reaction observation requires completed operation")
    assert [op["id"] for op in operations(root)] == [operation]


FIXTURE_CONNECTOR = "diagnosis_fixture"


def fixture_diagnosis(tmp_path: Path, env: Path, facts: dict[str, Any]) -> tuple[Path, Path]:
    """A named stand-in for what no lab host produces: the installed profile with only its
    diagnosis step swapped for RExecOp's static_fixture connector returning ``facts`` (the real
    step checks its facts against the contract's schema first, so a diagnosis that breaks the
    contract never reaches the observation step). Returns the profile and an environment whose
    fixture connector is enabled."""
    from tecrax import profile_root

    profile = Path(shutil.copytree(profile_root(), tmp_path / "profile"))
    workflow_path = profile / "workflows" / f"{INTENT}.yaml"
    workflow = yaml.safe_load(workflow_path.read_text())
    workflow["workflow"]["steps"][0].update(connector=FIXTURE_CONNECTOR, action="diagnosis")
    workflow_path.write_text(yaml.safe_dump(workflow, sort_keys=False))
    (profile / "connectors" / f"{FIXTURE_CONNECTOR}.yaml").write_text(yaml.safe_dump({"connector": {
        "name": FIXTURE_CONNECTOR, "backend": "static_fixture", "description": "Test stand-in for the diagnosis step.",
        "modes": ["read_only", "observe", "dry_run"], "capabilities": ["diagnosis"]}}))
    document = yaml.safe_load(env.read_text())
    document["environment"]["connectors"][FIXTURE_CONNECTOR] = {
        "enabled": True, "backend": "static_fixture", "fixture_only": True,
        "actions": {"diagnosis": {"data": {"facts_key": "monitoring_host_diagnosis", "facts": facts}}}}
    document["environment"]["policy_pack"]["rules"].append({
        "rule_id": "allow-diagnosis-fixture-read", "effect": "allow", "reason_code": "fixture_read_allowed",
        "conditions": {"action.category": "connector", "action.mode": "read", "action.connector": FIXTURE_CONNECTOR}})
    fixture_env = tmp_path / "fixture-environment.yaml"
    fixture_env.write_text(yaml.safe_dump(document, sort_keys=False))
    return profile, fixture_env


def test_a_diagnosis_breaking_the_contract_fails_the_observation_step(tmp_path: Path, env: Path) -> None:
    facts = diagnosis_fixture.healthy()
    facts["components"].pop("adguard")
    profile, fixture_env = fixture_diagnosis(tmp_path, env, facts)
    root = tmp_path / "rx"
    planned = command("rexecop", "plan", "--profile", str(profile), "--env", str(fixture_env), "--intent", INTENT,
                      "--target", TARGET, "--mode", "observe", root=root)
    assert planned.returncode == 0, planned.stderr
    operation = planned.stdout.strip().splitlines()[-1]
    command("rexecop", "start", "--operation", operation, root=root)
    (record,) = operations(root)
    assert record["state"] == "failed"
    assert record["metadata"]["step_results"]["lift_monitoring_host_diagnosis_facts"]["success"] is True
    failure = record["metadata"]["step_results"]["record_reaction_observation"]
    assert failure["success"] is False and "missing: adguard" in failure["error"]
    assert "reaction_observation" not in record["metadata"]["shared_state"]
