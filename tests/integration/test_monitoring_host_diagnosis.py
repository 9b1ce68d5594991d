"""diagnose_monitoring_host and its reactions end to end: RExecOp / GovEngine / SCLite ->
tecrax_ansible -> one ansible-runner run of playbooks/monitoring_host_diagnosis.yml:
monitoring_host_local over real SSH on a lab monitoring host (real chronyd, dockerd, systemd,
apt), and monitoring_host_diagnosis on the controller against a real Zabbix 6.0.14 and the
AdGuard Home / Portainer stand-ins (unbound, nginx; see service_lab.py).

Hosts: the session's Zabbix and stand-in hosts (conftest.py; the stand-in host is also the
monitoring host's NTP source) and one monitoring host (monitoring_lab.py). Each test breaks one
component and restores it: the diagnosis must name that component with the right status and
finding, still observe the others, and be recorded and validated. Then, from the same diagnosis
operation, ``rexecop reaction-plan`` applies the profile's reaction pack: an unhealthy component
gets its read-only check, which ``rexecop reaction-start`` runs for real (on the host, or from the
controller for the Zabbix API) while the fault is still there, or after it cleared; an
unavailable component escalates and a healthy host is a no_op, with nothing started. The policy
is the read-only host example's, as shipped (it allows the re-checks plainly, as reactions need).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import host_readonly_lab as hl
import monitoring_lab as ml
import service_lab as sl
import zabbix_lab as zl
from harness import IDENTITY_REF, Governed, Outcome, example_policy, write_environment

INTENT = "diagnose_monitoring_host"
KEY = "monitoring_host_diagnosis"
STEP = "diagnose_monitoring_host"
COMPONENTS = ["inventory", "ntp", "ntp_server", "docker", "host_security", "zabbix_api", "adguard", "portainer"]
HOST_LOCAL = COMPONENTS[:5]
TARGET = "mon-01"
WRONG_CA_TARGET = "mon-01-wrong-portainer-ca"
BARE_TARGET = "mon-01-no-services"
pytestmark = pytest.mark.lab


class Monitoring:
    def __init__(self, host: Any, source: Any, zabbix: Any, environment: Path) -> None:
        self.host = host
        self.source = source
        self.zabbix = zabbix
        self.environment = environment


def service_settings(standins: Any, pki: sl.Pki, zabbix: Any) -> dict[str, Any]:
    return {
        "zabbix": {"api_url": f"http://{zabbix.address}{zl.API_PATH}", "timeout_seconds": 5},
        "adguard": {"dns_server": standins.address, "query_name": sl.PROBE_NAME,
                    "web_url": f"http://{standins.address}", "timeout_seconds": 3},
        "portainer": {"base_url": f"https://{standins.address}:{sl.PORTAINER_PORT}", "ca_file": str(pki.ca_file),
                      "timeout_seconds": 5},
    }


def diagnosis_environment(path: Path, lab: Any, host: Any, settings: dict[str, Any], pki: sl.Pki) -> Path:
    address = {"host": host.address, "port": host.port}
    wrong_ca = {**settings, "portainer": {**settings["portainer"], "ca_file": str(pki.other_ca_file)}}
    # Distinct objects (a JSON round trip): shared ones would be written as YAML aliases,
    # which tecrax run refuses.
    inventory = json.loads(json.dumps({
        TARGET: {**address, **settings},
        WRONG_CA_TARGET: {**address, **wrong_ca},
        BARE_TARGET: address,
    }))
    # No SSH master kept between runs: test_sshd_down stops sshd, which leaves a live master's
    # session alone, so a master from an earlier test would still reach the host.
    environment = write_environment(path, [], known_hosts=lab.known_hosts, policy=example_policy(),
                                    connector={"inventory": inventory, "ssh_control_persist_seconds": 0})
    document = yaml.safe_load(environment.read_text())
    document["environment"]["targets"] = {name: {"type": "host", "criticality": "low"} for name in inventory}
    environment.write_text(yaml.safe_dump(document, sort_keys=False))
    return environment


@pytest.fixture(scope="module")
def monitoring(lab: Any, zabbix_host: Any, service_standins: tuple[Any, sl.Pki],
               tmp_path_factory: pytest.TempPathFactory) -> Any:
    standins, pki = service_standins
    ml.serve_ntp(lab, standins)
    host = ml.boot_monitoring_host(lab, "mon-host", standins)
    environment = diagnosis_environment(tmp_path_factory.mktemp("monitoring") / "environment.yaml", lab, host,
                                        service_settings(standins, pki, zabbix_host), pki)
    yield Monitoring(host, standins, zabbix_host, environment)
    ml.restore(lab, host)


@pytest.fixture
def governed(tmp_path: Path, lab: Any) -> Governed:
    return Governed(tmp_path / "rexecop", lab.private_key)


def diagnosed(outcome: Outcome) -> dict[str, Any]:
    """The diagnosis was recorded and validated, the evidence verifies; return its facts."""
    assert outcome.last_failure is None, outcome.last_failure
    assert outcome.state == "completed", (outcome.state, outcome.validation)
    assert outcome.validation_passed and outcome.validation["rule"] == f"{INTENT}.recorded"
    assert outcome.runtime_receipt["success"] is True, outcome.runtime_receipt
    assert outcome.evidence_verified, outcome.evidence_checks
    step = outcome.step_data(STEP)
    assert (step["changed"], step["facts_key"], step["facts_contract"]) == (False, KEY, "tecrax.monitoring_host_diagnosis")
    facts = dict(outcome.facts[KEY])
    assert facts == step["facts"]
    assert outcome.validation["details"] == facts
    return facts


def reaction(governed: Governed, environment: Path, diagnosis: Outcome, target: str = TARGET) -> dict[str, Any]:
    """``rexecop reaction-plan`` straight from the diagnosis operation. The reaction observed
    exactly that diagnosis; ``finding`` is the kind and severity of the finding it recorded."""
    result = json.loads(governed.rexecop("reaction-plan", "--profile", "tecrax", "--env", str(environment),
                                         "--operation", diagnosis.operation_id, "--target", target).stdout)
    chain = governed.root / "reactions" / result["reaction_id"]
    observation = json.loads((chain / "01_observation.json").read_text())
    assert observation["source"] == {"operation_id": diagnosis.operation_id, "intent_id": INTENT, "target_id": target}
    assert observation["facts"] == diagnosis.facts[KEY]
    result["finding"] = json.loads((chain / "02_finding.json").read_text())["taxonomy"]
    return result


def operation_count(governed: Governed) -> int:
    return len(list((governed.root / "operations").glob("op-*.json")))


def nothing_started(governed: Governed, result: dict[str, Any], outcome: str, rule: str) -> None:
    """The reaction is ``outcome`` by ``rule`` with no child: reaction-start refuses it and the
    diagnosis stays the only operation."""
    plan = result["reaction_plan"]
    assert (plan["outcome"], plan["reason"], plan["intent_ref"], plan["child_operation_id"]) == \
        (outcome, f"matched:{rule}", None, None)
    refused = governed.rexecop("reaction-start", "--reaction", result["reaction_id"], check=False)
    assert refused.returncode == 1 and "reaction has no executable child intent" in refused.stderr
    assert operation_count(governed) == 1


def rechecked(governed: Governed, result: dict[str, Any], intent: str) -> Outcome:
    """The reaction admitted ``intent`` as its child and ``rexecop reaction-start`` ran it: the
    child reached its target, its evidence verifies and the reaction chain, now with the child's
    receipt, replays. Returns the child's outcome."""
    plan = result["reaction_plan"]
    assert (plan["outcome"], plan["intent_ref"], plan["admission"]["status"]) == ("run_intent", intent, "admitted")
    started = json.loads(governed.rexecop("reaction-start", "--reaction", result["reaction_id"]).stdout)
    child = governed.outcome(plan["child_operation_id"])
    assert started["child_operation_id"] == child.operation_id and started["child_state"] == child.state
    record = json.loads((governed.root / "operations" / f"{child.operation_id}.json").read_text())
    assert (record["intent"], record["requested_by"]) == (intent, f"reaction:{result['reaction_id']}")
    assert child.runtime_receipt["success"] is True, child.last_failure
    assert child.evidence_verified, child.evidence_checks
    replay = json.loads(governed.rexecop("reaction-replay", "--reaction", result["reaction_id"]).stdout)
    assert replay["reaction_semantics"] == "passed", replay
    assert list(replay["checked_entries"]) == ["observation", "finding", "reaction_plan", "execution_receipt"]
    assert operation_count(governed) == 2
    return child


def finding_of(facts: dict[str, Any], component: str) -> dict[str, str]:
    """Kind and severity of the diagnosis' first finding for ``component``."""
    first = next(finding for finding in facts["findings"] if finding["component"] == component)
    return {"kind": first["kind"], "severity": first["severity"]}


def statuses(facts: dict[str, Any]) -> dict[str, str]:
    return {name: entry["status"] for name, entry in facts["components"].items()}


def only(facts: dict[str, Any], broken: dict[str, str]) -> None:
    """Exactly the ``broken`` components have those statuses; every other one is healthy."""
    assert statuses(facts) == {name: broken.get(name, "healthy") for name in COMPONENTS}


def test_healthy_monitoring_host(monitoring: Monitoring, governed: Governed) -> None:
    outcome = governed.run(monitoring.environment, INTENT, TARGET)
    facts = diagnosed(outcome)
    only(facts, {})
    assert facts["assessment"] == {"state": "healthy"}
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    assert facts["findings"] == [{"kind": "monitoring.observed_healthy", "severity": "info", "component": "all",
                                  "reason_code": "all_components_healthy"}]
    for name in COMPONENTS:
        assert facts["components"][name]["assessment_state"] == "healthy", name
        assert facts["components"][name]["coverage_state"] == "complete", name
    result = reaction(governed, monitoring.environment, outcome)
    assert result["finding"] == {"kind": "monitoring.observed_healthy", "severity": "info"}
    nothing_started(governed, result, "no_op", "all-components-healthy")


def test_dry_run_makes_the_same_observations(monitoring: Monitoring, governed: Governed) -> None:
    outcome = governed.run(monitoring.environment, INTENT, TARGET, mode="dry_run")
    facts = diagnosed(outcome)
    assert outcome.step_data(STEP)["check_mode"] is True
    only(facts, {})


def test_stopped_chronyd(lab: Any, monitoring: Monitoring, governed: Governed) -> None:
    """The reaction re-checks NTP (the higher-priority of the two findings) while chronyd is
    still stopped: the check confirms it and fails its validation."""
    lab.stop_service(monitoring.host, "chrony")
    try:
        outcome = governed.run(monitoring.environment, INTENT, TARGET)
        facts = diagnosed(outcome)
        result = reaction(governed, monitoring.environment, outcome)
        child = rechecked(governed, result, "check_ntp_health")
        on_host = lab.exec(monitoring.host, ["systemctl", "show", "--property=ActiveState", "--value",
                                             "chrony.service"], check=True).stdout.strip()
    finally:
        ml.make_healthy(lab, monitoring.host, monitoring.source)
    only(facts, {"ntp": "unhealthy", "ntp_server": "unhealthy"})
    assert result["finding"] == finding_of(facts, "ntp") == {"kind": "monitoring.ntp_unhealthy", "severity": "high"}
    observed = child.facts["ntp_local_health"]
    assert observed["daemons"]["chrony"]["active_state"] == on_host == "inactive"
    assert observed["active_daemons"] == [] and observed["assessment"]["state"] == "unhealthy"
    assert (child.state, child.validation["rule"]) == ("failed", "check_ntp_health.not_healthy")
    assert facts["components"]["ntp"]["reasons"] == ["no_time_daemon_active"]
    assert facts["components"]["ntp_server"]["reasons"] == ["no_ntp_daemon_active"]
    assert facts["findings"] == [
        {"kind": "monitoring.ntp_unhealthy", "severity": "high", "component": "ntp",
         "reason_code": "no_time_daemon_active"},
        {"kind": "monitoring.ntp_server_unhealthy", "severity": "high", "component": "ntp_server",
         "reason_code": "no_ntp_daemon_active"},
    ]
    assert facts["assessment"] == {"state": "unhealthy", "reasons": ["ntp_server_unhealthy", "ntp_unhealthy"]}
    assert facts["coverage"]["state"] == "complete"


def test_stopped_docker(lab: Any, monitoring: Monitoring, governed: Governed) -> None:
    """Planned with ``--auto-react plan_only``: RExecOp plans the reaction when the diagnosis
    completes, and ``reaction-plan`` finds that same reaction. Docker is started again before
    ``reaction-start``: the re-check sees the fault cleared and passes."""
    hl.docker_stopped(lab, monitoring.host)
    try:
        outcome = governed.run(monitoring.environment, INTENT, TARGET, options=("--auto-react", "plan_only"))
        facts = diagnosed(outcome)
        result = reaction(governed, monitoring.environment, outcome)
    finally:
        ml.make_healthy(lab, monitoring.host, monitoring.source)
    only(facts, {"docker": "unhealthy"})
    assert facts["components"]["docker"]["reasons"] == ["docker_inactive"]
    assert facts["findings"] == [{"kind": "monitoring.docker_unhealthy", "severity": "high", "component": "docker",
                                  "reason_code": "docker_inactive"}]
    auto = json.loads((governed.root / "operations" / f"{outcome.operation_id}.json").read_text())["metadata"][
        "auto_reaction"]
    assert (auto["status"], auto["outcome"], auto["rule_id"]) == ("planned", "run_intent", "docker-unhealthy-recheck")
    assert result["idempotent_replay"] is True and result["reaction_id"] == auto["reaction_id"]
    assert result["finding"] == finding_of(facts, "docker")
    child = rechecked(governed, result, "check_docker_services_health")
    assert child.state == "completed" and child.validation["rule"] == "check_docker_services_health.healthy"
    assert child.facts["docker_service_health"]["assessment"]["state"] == "healthy"


def test_zabbix_api_error(lab: Any, monitoring: Monitoring, governed: Governed) -> None:
    """PostgreSQL stopped: the frontend answers apiinfo.version with "Error connecting to
    database." - observed and bad."""
    database = zl.database_unit(lab, monitoring.zabbix)
    lab.stop_service(monitoring.zabbix, database)
    try:
        outcome = governed.run(monitoring.environment, INTENT, TARGET)
        facts = diagnosed(outcome)
        result = reaction(governed, monitoring.environment, outcome)
        child = rechecked(governed, result, "check_zabbix_container_health")
    finally:
        lab.start_service(monitoring.zabbix, database)
        zl.ZabbixLabApi(monitoring.zabbix.address).wait_ready()
    only(facts, {"zabbix_api": "unhealthy"})
    assert facts["components"]["zabbix_api"] == {
        "status": "unhealthy", "check_intent": "check_zabbix_container_health",
        "facts_contract": "tecrax.zabbix_api_reachability", "assessment_state": "unhealthy",
        "coverage_state": "partial", "reasons": ["api_error"]}
    assert facts["findings"] == [{"kind": "monitoring.zabbix_api_unhealthy", "severity": "high",
                                  "component": "zabbix_api", "reason_code": "api_error"}]
    assert result["finding"] == finding_of(facts, "zabbix_api")
    reachability = child.facts["zabbix_api_reachability"]
    assert (reachability["assessment"]["state"], reachability["assessment"]["reasons"]) == ("unhealthy", ["api_error"])
    assert (child.state, child.validation["rule"]) == ("failed", "check_zabbix_container_health.api_not_reachable")


def test_adguard_resolver_down(lab: Any, monitoring: Monitoring, governed: Governed) -> None:
    """unbound stopped: nothing answers on the DNS port. Could not observe, not broken."""
    lab.stop_service(monitoring.source, "unbound")
    try:
        outcome = governed.run(monitoring.environment, INTENT, TARGET)
        facts = diagnosed(outcome)
        result = reaction(governed, monitoring.environment, outcome)
    finally:
        lab.start_service(monitoring.source, "unbound")
    only(facts, {"adguard": "unavailable"})
    assert facts["components"]["adguard"]["reasons"] == ["dns_connection_refused"]
    assert facts["findings"] == [{"kind": "monitoring.component_unavailable", "severity": "medium",
                                  "component": "adguard", "reason_code": "connection_failed"}]
    assert facts["assessment"] == {"state": "unavailable", "reasons": ["adguard_unavailable"]}
    assert facts["coverage"] == {"state": "partial", "blockers": ["adguard_unavailable"]}
    assert result["finding"] == finding_of(facts, "adguard")
    nothing_started(governed, result, "escalate", "adguard-unavailable-escalate")


def test_wrong_portainer_ca(monitoring: Monitoring, governed: Governed) -> None:
    outcome = governed.run(monitoring.environment, INTENT, WRONG_CA_TARGET)
    facts = diagnosed(outcome)
    only(facts, {"portainer": "unavailable"})
    assert facts["components"]["portainer"]["reasons"] == ["tls_unknown_ca"]
    assert facts["findings"] == [{"kind": "monitoring.component_unavailable", "severity": "medium",
                                  "component": "portainer", "reason_code": "tls_failed"}]
    result = reaction(governed, monitoring.environment, outcome, WRONG_CA_TARGET)
    assert result["finding"] == finding_of(facts, "portainer")
    nothing_started(governed, result, "escalate", "portainer-unavailable-escalate")


def test_sshd_down(lab: Any, monitoring: Monitoring, governed: Governed) -> None:
    """The host refuses SSH: its five components are unavailable, the services are still probed.
    The reaction escalates (NTP's rule comes first among the unavailable components)."""
    lab.stop_service(monitoring.host, "ssh")
    try:
        outcome = governed.run(monitoring.environment, INTENT, TARGET)
        facts = diagnosed(outcome)
        result = reaction(governed, monitoring.environment, outcome)
        nothing_started(governed, result, "escalate", "ntp-unavailable-escalate")
    finally:
        lab.start_service(monitoring.host, "ssh")
    only(facts, dict.fromkeys(HOST_LOCAL, "unavailable"))
    for name in HOST_LOCAL:
        assert facts["components"][name]["reasons"] == ["connection_failed"], name
        assert facts["components"][name]["assessment_state"] is None
    assert facts["scope"]["observed"] == ["zabbix_api", "adguard", "portainer"]
    assert [finding["component"] for finding in facts["findings"]] == sorted(HOST_LOCAL)
    assert {finding["reason_code"] for finding in facts["findings"]} == {"connection_failed"}
    assert result["finding"] == finding_of(facts, "ntp") == {"kind": "monitoring.component_unavailable",
                                                             "severity": "medium"}


def test_target_without_service_settings(monitoring: Monitoring, governed: Governed) -> None:
    facts = diagnosed(governed.run(monitoring.environment, INTENT, BARE_TARGET))
    only(facts, dict.fromkeys(["zabbix_api", "adguard", "portainer"], "unavailable"))
    for name in ("zabbix_api", "adguard", "portainer"):
        assert facts["components"][name]["reasons"] == ["not_configured"]


def test_invalid_settings_are_refused_before_planning(lab: Any, monitoring: Monitoring, tmp_path: Path) -> None:
    document = yaml.safe_load(monitoring.environment.read_text())
    inventory = document["environment"]["connectors"]["tecrax_ansible"]["inventory"]
    inventory[TARGET]["portainer"]["base_url"] = "http://" + monitoring.source.address + ":9000"
    bad = tmp_path / "bad-environment.yaml"
    bad.write_text(yaml.safe_dump(document, sort_keys=False))
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("tecrax")), "run", INTENT, "--env", str(bad), "--target", TARGET,
         "--root", str(tmp_path / "rexecop")],
        capture_output=True, text=True, timeout=300, check=False,
        env={"PATH": str(Path(sys.executable).parent), f"REXECOP_SECRET_{IDENTITY_REF.upper()}": str(lab.private_key)})
    assert completed.returncode == 1, completed.stdout + completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in completed.stderr
    assert f"inventory.{TARGET}.portainer.base_url must start with https://" in lines[0]
    assert not (tmp_path / "rexecop" / "operations").exists() or not list((tmp_path / "rexecop" / "operations").iterdir())
