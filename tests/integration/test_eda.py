"""Event-Driven Ansible: the collection's rulebook ``tecrax.ops.host_observed_triggers`` run by the
real ``ansible-rulebook`` (its Drools engine on a Java runtime), with the collection's event
source ``tecrax.ops.host_observed`` reading a file of events and the module
``tecrax.ops.rexecop_trigger`` handing each accepted event to the real ``rexecop trigger``.

One ansible-rulebook run (it starts a JVM) reads one file with every case: a known host plans
a dry-run inventory on the catalog target and does not start it; an unknown host escalates; a
repeated event id is dropped; an event RExecOp refuses (a subject the catalog does not list)
fails its action and plans nothing; malformed lines (missing subject, oversized, wrong types,
not JSON, a template in the subject) are refused by the source with one line naming the field
and reach neither Ansible nor RExecOp. At the end of the file the source ends and
ansible-rulebook shuts down once its actions have finished. No lab host is contacted: a
trigger only plans.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import tecrax
from harness import LabTarget, write_catalog, write_environment

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
TARGET = "monitoring-host-01"
INJECTION_MARK = "eda-injection-ran"

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None and not os.environ.get("JAVA_HOME"),
    reason="ansible-rulebook needs a Java 17 runtime (Debian: openjdk-17-jre-headless, which scripts/test-all.sh installs)",
)


def event(event_id: str, subject: str | None = TARGET, **payload: Any) -> dict[str, Any]:
    document = {"id": event_id, "source": "netwatch", "type": "network.host_observed", "subject": subject,
                "occurred_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
                "payload": payload or {"known": True, "target_kind": "host", "address": "198.18.250.10"}}
    return {key: value for key, value in document.items() if value is not None}


class Run:
    def __init__(self, tmp: Path, completed: subprocess.CompletedProcess[str]) -> None:
        self.tmp = tmp
        self.root = tmp / "rx"
        self.completed = completed
        self.output = completed.stdout + completed.stderr

    def module_results(self) -> list[dict[str, Any]]:
        """The result of every rexecop_trigger call, in order (the rulebook prints them)."""
        results = []
        for line in self.completed.stdout.splitlines():
            for prefix in ("changed: [localhost] => ", "fatal: [localhost]: FAILED! => "):
                if line.startswith(prefix):
                    results.append(json.loads(line[len(prefix):]))
        return results

    def operations(self) -> list[dict[str, Any]]:
        folder = self.root / "operations"
        return [json.loads(path.read_text()) for path in sorted(folder.glob("op-*.json"))] if folder.is_dir() else []

    def decision(self, name: str) -> dict[str, Any]:
        """What ``rexecop trigger`` answered for the first event whose decision is ``name``."""
        return next(result["trigger"] for result in self.module_results()
                    if (result.get("trigger") or {}).get("decision") == name)

    def first_decisions(self) -> dict[str, dict[str, Any]]:
        """RExecOp's first decision per event id (its dedupe record: decision and decision id)."""
        seen = self.root / "triggers" / "seen"
        records = [json.loads(path.read_text()) for path in seen.glob("*.json")] if seen.is_dir() else []
        return {record["event"]["id"]: record for record in records}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("eda")
    (tmp / "known_hosts").write_text("")
    targets = [LabTarget(TARGET, "198.18.250.10")]
    environment = write_environment(tmp / "environment.yaml", targets, known_hosts=tmp / "known_hosts")
    catalog = write_catalog(tmp / "targets.yaml", environment, targets, ["tecrax.host.basic_inventory.v1"])
    mark = tmp / INJECTION_MARK
    lines = [
        json.dumps(event("ev-known")),
        json.dumps({key: value for key, value in event("ev-no-subject").items() if key != "subject"}),
        json.dumps(event("ev-unknown", "198.51.100.77", known=False, target_kind="host")),
        json.dumps(event("ev-oversized", known=True, target_kind="host")).replace('"host"', '"' + "h" * 5000 + '"'),
        json.dumps(event("ev-known", known=True, target_kind="host")),  # the same id again, another payload
        json.dumps(event("ev-wrong-types", known="yes", target_kind="host")),
        json.dumps({**event("ev-number-id"), "id": 42}),
        "this is not JSON",
        json.dumps(event("ev-template", "{{ lookup('pipe', 'touch " + str(mark) + "') }}")),
        json.dumps(event("ev-stranger", "stranger-01")),
    ]
    events = tmp / "events.jsonl"
    events.write_text("\n".join(lines) + "\n")
    events.chmod(0o600)
    environ = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # ansible-galaxy, ansible-playbook, rexecop
        # The collection installed with this package, not another copy a user path may hold.
        "ANSIBLE_COLLECTIONS_PATH": str(tecrax.collection_root().parents[2]),
        "ANSIBLE_NOCOLOR": "1",
        "TECRAX_HOST_EVENTS": str(events),
        "TECRAX_TRIGGER_CATALOG": str(catalog),
        "REXECOP_ROOT": str(tmp / "rx"),
    }
    # At the end of the file ansible-rulebook waits at most --shutdown-delay seconds for the
    # actions still queued (default 60): a generous bound, so a loaded machine finishes them all.
    completed = subprocess.run(
        [str(BIN / "ansible-rulebook"), "--rulebook", "tecrax.ops.host_observed_triggers",
         "--inventory", str(REPO / "examples" / "eda" / "inventory.yml"), "--env-vars", "TECRAX_HOST_EVENTS",
         "--shutdown-delay", "600"],
        capture_output=True, text=True, env=environ, cwd=tmp, timeout=900, check=False,
    )
    return Run(tmp, completed)


def test_ansible_rulebook_ends_with_the_file(run: Run) -> None:
    assert run.completed.returncode == 0, run.output[-4000:]
    assert "Traceback" not in run.output


def test_accepted_events_reach_rexecop_trigger_in_order(run: Run) -> None:
    decisions = [(result.get("trigger") or {}).get("decision") or result["msg"] for result in run.module_results()]
    assert decisions == ["plan_operation", "escalate", "drop_duplicate",
                         "rexecop trigger refused the event: unknown catalog target: stranger-01"]


def test_a_known_host_plans_a_dry_run_inventory_and_does_not_start_it(run: Run) -> None:
    first = run.decision("plan_operation")
    assert (first["reason"], first["admitted"]) == ("matched:known-host-inventory-plan", True)
    assert run.first_decisions()["ev-known"]["decision_id"] == first["decision_id"]
    (planned,) = run.operations()
    assert planned["id"] == first["operation_id"]
    assert (planned["intent"], planned["mode"], planned["target"]) == ("collect_basic_host_inventory", "dry_run", TARGET)
    assert planned["metadata"]["catalog_runtime"]["target_id"] == TARGET
    assert planned["requested_by"] == f"trigger:ansible-rulebook:{first['decision_id']}"
    assert planned["state"] == "planned" and not planned["metadata"].get("step_results")


def test_an_unknown_host_escalates_with_nothing_planned(run: Run) -> None:
    escalated = run.decision("escalate")
    assert (escalated["reason"], escalated["operation_id"]) == ("matched:unknown-host-escalate", None)
    assert run.first_decisions()["ev-unknown"]["decision"] == "escalate"
    assert [operation["target"] for operation in run.operations()] == [TARGET]


def test_a_repeated_event_id_is_dropped(run: Run) -> None:
    duplicate = run.decision("drop_duplicate")
    assert duplicate["reason"] == "dedupe_key_already_seen" and duplicate["operation_id"] is None
    assert duplicate["decision_id"] == run.first_decisions()["ev-known"]["decision_id"]
    assert len(run.operations()) == 1


def test_malformed_events_are_refused_by_the_source_and_trigger_nothing(run: Run) -> None:
    for line, field in ((2, "subject: missing"), (4, "event: longer than 4096 bytes"),
                        (6, "payload.known: must be true or false, not a string"),
                        (7, "id: must be a string, not a number"), (8, "event: not a JSON object"),
                        (9, "subject: must be a catalog target id")):
        assert f"tecrax.ops.host_observed - ERROR - refused line {line}: {field}" in run.completed.stderr
    assert set(run.first_decisions()) == {"ev-known", "ev-unknown"}
    assert len(run.module_results()) == 4
    assert not (run.tmp / INJECTION_MARK).exists()
    assert "lookup" not in run.output


def test_an_event_rexecop_refuses_fails_its_action_and_plans_nothing(run: Run) -> None:
    (failed,) = [result for result in run.module_results() if "trigger" not in result]
    assert failed["msg"] == "rexecop trigger refused the event: unknown catalog target: stranger-01" and failed["rc"] == 1
    assert "ev-stranger" not in run.first_decisions()
    assert all(operation["target"] != "stranger-01" for operation in run.operations())
