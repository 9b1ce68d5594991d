"""Zabbix intents end to end against a real Zabbix 6.0.14 (server, PHP frontend, PostgreSQL
from Debian packages) in a lab host: RExecOp / GovEngine / SCLite -> tecrax_ansible (local
connection on the controller) -> the module -> the Zabbix JSON-RPC API.

The lab host is seeded through the API (zabbix_lab.seed_objects) with hosts in known agent
states and six firing triggers, and its Apache also serves the frontend over TLS with a
certificate from a CA the test creates. The API token is created after boot, handed to RExecOp
only through a 0600 secrets file, and searched for afterwards in everything RExecOp and SCLite
wrote. Assertions never print it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import zabbix_lab as zl
from harness import Governed, Outcome, allow_read_policy, write_environment

REACHABILITY = "check_zabbix_container_health"
PROBLEMS = "collect_zabbix_problem_summary_readonly"
HOSTS = "collect_zabbix_host_availability_summary_readonly"
STEP = {REACHABILITY: "observe_zabbix_api", PROBLEMS: "count_zabbix_problems", HOSTS: "count_zabbix_hosts"}
KEY = {REACHABILITY: "zabbix_api_reachability", PROBLEMS: "zabbix_problem_summary",
       HOSTS: "zabbix_host_availability_summary"}
TARGET = "zabbix-lab"
WRONG_TOKEN_TARGET = "zabbix-lab-wrong-token"
HTTPS_TARGET = "zabbix-lab-https"
OTHER_CA_TARGET = "zabbix-lab-https-other-ca"
HTTP = {"scheme": "http", "tls_verified": False}
SEVERITIES = ("not_classified", "information", "warning", "average", "high", "disaster")
pytestmark = pytest.mark.lab


class Zabbix:
    def __init__(self, host: Any, token: str, wrong_token: str, secrets_file: Path, environment: Path) -> None:
        self.host = host
        self.token = token
        self.wrong_token = wrong_token
        self.secrets_file = secrets_file
        self.environment = environment


@pytest.fixture(scope="module")
def zabbix(lab: Any, zabbix_host: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zabbix]:
    """The session's Zabbix host (tests/integration/conftest.py), seeded for these tests."""
    work = tmp_path_factory.mktemp("zabbix")
    host = zabbix_host
    api = zl.ZabbixLabApi(host.address)
    zl.seed_objects(api, host.address)
    token, wrong_token = api.create_api_token("tecrax-tests"), secrets.token_hex(32)
    lab_ca, ca_certificate, ca_key = zl.write_test_ca(work, "Tecrax lab CA")
    other_ca = zl.write_test_ca(work, "Some other CA")[0]
    zl.enable_https(lab, host, ca_certificate, ca_key)

    secrets_file = work / "secrets.yaml"
    secrets_file.touch(mode=0o600)
    secrets_file.write_text(yaml.safe_dump({"secrets": {"zabbix_api_token": token,
                                                        "zabbix_wrong_token": wrong_token}}))
    settings = {"api_url": f"http://{host.address}{zl.API_PATH}", "timeout_seconds": 5}
    https = {**settings, "api_url": f"https://{host.address}{zl.API_PATH}"}
    inventory = {
        TARGET: {"connection": "local", "zabbix": {**settings, "api_token_secret_ref": "zabbix_api_token"}},
        WRONG_TOKEN_TARGET: {"connection": "local",
                             "zabbix": {**settings, "api_token_secret_ref": "zabbix_wrong_token"}},
        HTTPS_TARGET: {"connection": "local", "zabbix": {**https, "ca_file": str(lab_ca),
                                                          "api_token_secret_ref": "zabbix_api_token"}},
        OTHER_CA_TARGET: {"connection": "local", "zabbix": {**https, "ca_file": str(other_ca)}},
    }
    environment = write_environment(work / "environment.yaml", [], known_hosts=lab.known_hosts,
                                    policy=allow_read_policy(), connector={"inventory": inventory})
    document = yaml.safe_load(environment.read_text())
    document["environment"]["targets"] = {name: {"type": "host", "criticality": "low"} for name in inventory}
    environment.write_text(yaml.safe_dump(document, sort_keys=False))
    yield Zabbix(host, token, wrong_token, secrets_file, environment)


@pytest.fixture
def governed(tmp_path: Path, lab: Any, zabbix: Zabbix) -> Governed:
    governed = Governed(tmp_path / "rexecop", lab.private_key)
    governed.env["REXECOP_SECRETS_FILE"] = str(zabbix.secrets_file)
    return governed


def files_containing(root: Path, value: str) -> list[str]:
    """Files under ``root`` that contain ``value`` (names only: never the value)."""
    needle = value.encode()
    found = []
    for directory, _dirs, names in os.walk(root):
        for name in names:
            path = Path(directory, name)
            if path.is_file() and needle in path.read_bytes():
                found.append(str(path.relative_to(root)))
    return found


def assert_no_token_recorded(governed: Governed, zabbix: Zabbix, outcome: Outcome) -> None:
    """Neither token is anywhere in the RExecOp runtime root (operation record, step data,
    logs, the SCLite evidence bundle under sclite/<operation>) or the environment."""
    assert (governed.root / "sclite" / outcome.operation_id).is_dir()
    for value in (zabbix.token, zabbix.wrong_token):
        assert files_containing(governed.root, value) == []
        assert value.encode() not in zabbix.environment.read_bytes()


def recorded_facts(outcome: Outcome, intent: str) -> dict[str, Any]:
    """Every step ran and the SCLite evidence verifies; return the lifted facts."""
    assert outcome.last_failure is None, outcome.last_failure
    assert outcome.runtime_receipt["success"] is True, outcome.runtime_receipt
    assert outcome.evidence_verified, outcome.evidence_checks
    step = outcome.step_data(STEP[intent])
    assert (step["changed"], step["facts_key"], step["runner"]["status"]) == (False, KEY[intent], "successful")
    facts = dict(outcome.facts[KEY[intent]])
    assert facts == step["facts"]
    assert facts.pop("non_claims")
    return facts


def passed(outcome: Outcome, rule: str) -> None:
    assert outcome.state == "completed", (outcome.state, outcome.validation)
    assert outcome.validation_passed and outcome.validation["rule"] == rule


def failed_validation(outcome: Outcome, rule: str) -> None:
    assert outcome.state == "failed", (outcome.state, outcome.validation)
    assert not outcome.validation_passed and outcome.validation["rule"] == rule


def test_reachable_api_is_healthy_with_the_real_version(zabbix: Zabbix, governed: Governed) -> None:
    outcome = governed.run(zabbix.environment, REACHABILITY, TARGET)
    passed(outcome, "check_zabbix_container_health.api_reachable")
    assert recorded_facts(outcome, REACHABILITY) == {
        "contract": {"id": "tecrax.zabbix_api_reachability", "version": "1.0"},
        "scope": {"requested": ["http_endpoint", "api_version"], "observed": ["http_endpoint", "api_version"],
                  "not_observed": []},
        "coverage": {"state": "complete", "blockers": []},
        "assessment": {"state": "healthy"},
        "api_version": "6.0.14",
        "auth_method": "body_auth",
        "http_status": 200,
        "transport": HTTP,
    }
    assert outcome.validation["details"]["assessment"] == {"state": "healthy"}


def test_dry_run_sends_the_same_read(zabbix: Zabbix, governed: Governed) -> None:
    outcome = governed.run(zabbix.environment, REACHABILITY, TARGET, mode="dry_run")
    passed(outcome, "check_zabbix_container_health.api_reachable")
    assert outcome.step_data(STEP[REACHABILITY])["check_mode"] is True
    assert recorded_facts(outcome, REACHABILITY)["api_version"] == "6.0.14"


def test_problem_counts_per_severity(zabbix: Zabbix, governed: Governed) -> None:
    outcome = governed.run(zabbix.environment, PROBLEMS, TARGET)
    passed(outcome, "collect_zabbix_problem_summary_readonly.complete")
    counts = {name: zl.SEEDED_PROBLEM_COUNTS[str(severity)] for severity, name in enumerate(SEVERITIES)}
    assert counts == {"not_classified": 0, "information": 1, "warning": 0, "average": 2, "high": 0, "disaster": 3}
    assert recorded_facts(outcome, PROBLEMS) == {
        "contract": {"id": "tecrax.zabbix_problem_summary", "version": "1.0"},
        "scope": {"requested": list(SEVERITIES), "observed": list(SEVERITIES), "not_observed": []},
        "coverage": {"state": "complete", "blockers": []},
        "assessment": {"state": "healthy"},
        "api_version": "6.0.14",
        "auth_method": "body_auth",
        "transport": HTTP,
        "problems": counts,
        "problems_total": 6,
    }
    assert_no_token_recorded(governed, zabbix, outcome)


def test_host_counts_and_agent_availability_of_real_hosts(zabbix: Zabbix, governed: Governed) -> None:
    outcome = governed.run(zabbix.environment, HOSTS, TARGET)
    passed(outcome, "collect_zabbix_host_availability_summary_readonly.complete")
    # Seeded: 4 enabled + 1 disabled host; a template and a host prototype with an agent
    # interface, which must not count.
    assert recorded_facts(outcome, HOSTS) == {
        "contract": {"id": "tecrax.zabbix_host_availability_summary", "version": "1.0"},
        "scope": {"requested": ["host_status", "agent_availability"],
                  "observed": ["host_status", "agent_availability"], "not_observed": []},
        "coverage": {"state": "complete", "blockers": []},
        "assessment": {"state": "healthy"},
        "api_version": "6.0.14",
        "auth_method": "body_auth",
        "transport": HTTP,
        "hosts": zl.SEEDED_HOST_STATUS,
        "agent_availability": zl.SEEDED_AGENT_AVAILABILITY,
    }
    assert zl.SEEDED_HOST_STATUS == {"enabled": 4, "disabled": 1}
    assert_no_token_recorded(governed, zabbix, outcome)


def test_https_verified_against_the_pinned_ca(zabbix: Zabbix, governed: Governed) -> None:
    """Apache serves the frontend with a certificate for the host's address from the test CA."""
    reach = governed.run(zabbix.environment, REACHABILITY, HTTPS_TARGET)
    passed(reach, "check_zabbix_container_health.api_reachable")
    facts = recorded_facts(reach, REACHABILITY)
    assert (facts["assessment"], facts["api_version"]) == ({"state": "healthy"}, "6.0.14")
    assert facts["transport"] == {"scheme": "https", "tls_verified": True}

    problems = governed.run(zabbix.environment, PROBLEMS, HTTPS_TARGET)
    passed(problems, "collect_zabbix_problem_summary_readonly.complete")
    facts = recorded_facts(problems, PROBLEMS)
    assert facts["problems_total"] == 6 and facts["transport"] == {"scheme": "https", "tls_verified": True}
    assert_no_token_recorded(governed, zabbix, problems)


def test_https_with_another_ca_is_unavailable(zabbix: Zabbix, governed: Governed) -> None:
    outcome = governed.run(zabbix.environment, REACHABILITY, OTHER_CA_TARGET)
    failed_validation(outcome, "check_zabbix_container_health.api_not_reachable")
    facts = recorded_facts(outcome, REACHABILITY)
    assert facts["coverage"] == {"state": "blocked", "blockers": ["tls_verification_failed"]}
    assert facts["assessment"] == {"state": "unavailable", "reasons": ["tls_verification_failed"]}
    assert facts["transport"] == {"scheme": "https", "tls_verified": False}
    assert facts["http_status"] is None


@pytest.mark.parametrize("intent", [PROBLEMS, HOSTS])
def test_wrong_token_is_unavailable_and_never_recorded(zabbix: Zabbix, governed: Governed, intent: str) -> None:
    outcome = governed.run(zabbix.environment, intent, WRONG_TOKEN_TARGET)
    failed_validation(outcome, f"{intent}.incomplete")
    facts = recorded_facts(outcome, intent)
    assert facts["coverage"] == {"state": "blocked", "blockers": ["authentication_rejected"]}
    assert facts["assessment"] == {"state": "unavailable", "reasons": ["authentication_rejected"]}
    assert (facts["api_version"], facts["auth_method"]) == ("6.0.14", "body_auth")
    assert facts["scope"]["observed"] == []
    assert outcome.validation["details"]["coverage"] == facts["coverage"]
    assert_no_token_recorded(governed, zabbix, outcome)


def test_stopped_frontend_is_unavailable(lab: Any, zabbix: Zabbix, governed: Governed) -> None:
    lab.stop_service(zabbix.host, "apache2")
    try:
        reach = governed.run(zabbix.environment, REACHABILITY, TARGET)
        problems = governed.run(zabbix.environment, PROBLEMS, TARGET)
    finally:
        lab.start_service(zabbix.host, "apache2")
    failed_validation(reach, "check_zabbix_container_health.api_not_reachable")
    facts = recorded_facts(reach, REACHABILITY)
    assert facts["coverage"] == {"state": "blocked", "blockers": ["connection_failed"]}
    assert facts["assessment"] == {"state": "unavailable", "reasons": ["connection_failed"]}
    assert (facts["api_version"], facts["http_status"], facts["auth_method"]) == ("unknown", None, "unknown")
    failed_validation(problems, f"{PROBLEMS}.incomplete")
    facts = recorded_facts(problems, PROBLEMS)
    assert facts["assessment"] == {"state": "unavailable", "reasons": ["connection_failed"]}
    assert facts["problems"] == dict.fromkeys(SEVERITIES) and facts["problems_total"] is None
    assert_no_token_recorded(governed, zabbix, problems)


def test_stopped_database_is_unhealthy_not_unavailable(lab: Any, zabbix: Zabbix, governed: Governed) -> None:
    """The frontend answers, but with "Error connecting to database.": observed and bad."""
    database = zl.database_unit(lab, zabbix.host)
    lab.stop_service(zabbix.host, database)
    try:
        outcome = governed.run(zabbix.environment, REACHABILITY, TARGET)
    finally:
        lab.start_service(zabbix.host, database)
        zl.ZabbixLabApi(zabbix.host.address).wait_ready()
    failed_validation(outcome, "check_zabbix_container_health.api_not_reachable")
    facts = recorded_facts(outcome, REACHABILITY)
    assert facts["scope"]["observed"] == ["http_endpoint"]
    assert facts["coverage"] == {"state": "partial", "blockers": ["api_error"]}
    assert facts["assessment"] == {"state": "unhealthy", "reasons": ["api_error"]}
    assert facts["http_status"] == 200


def test_cut_link_is_unavailable(lab: Any, zabbix: Zabbix, governed: Governed) -> None:
    lab.cut_link(zabbix.host)
    try:
        outcome = governed.run(zabbix.environment, REACHABILITY, TARGET)
    finally:
        lab.restore_link(zabbix.host)
    failed_validation(outcome, "check_zabbix_container_health.api_not_reachable")
    facts = recorded_facts(outcome, REACHABILITY)
    # No answer either way: the SYN goes unanswered (timeout) or, once the controller's ARP
    # entry for the host has gone stale, the kernel reports no route to host (connection_failed).
    assert facts["assessment"]["state"] == "unavailable"
    assert facts["assessment"]["reasons"] in (["timeout"], ["connection_failed"])
    assert facts["coverage"] == {"state": "blocked", "blockers": facts["assessment"]["reasons"]}
    assert facts["http_status"] is None
