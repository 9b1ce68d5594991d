"""check_docker_services_health end to end: real Ansible over real SSH to lab hosts running a
real dockerd under systemd, through the real RExecOp / GovEngine / SCLite stack.

One docker host is brought into each state by the test that needs it (running, stopped,
failed), so the tests do not depend on their order; a plain host has no Docker at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import host_readonly_lab as hl
from harness import Governed, Outcome

INTENT = "check_docker_services_health"
KEY = "docker_service_health"
pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def hosts(lab: Any) -> dict[str, Any]:
    docker = lab.add_host("dock-main", flavor=hl.DOCKER_FLAVOR)
    plain = lab.add_host("dock-plain")
    return {"docker": docker, "plain": plain}




def unit(name: str, load: Any, active: Any, sub: Any, file_state: Any, result: Any) -> dict[str, Any]:
    return {"unit": name, "load_state": load, "active_state": active, "sub_state": sub,
            "unit_file_state": file_state, "result": result}


def host_units(lab: Any, host: Any) -> dict[str, Any]:
    """The two units as the host's own systemctl reports them (read via nsenter)."""
    states = {}
    for key, name in (("docker_service", "docker.service"), ("docker_socket", "docker.socket")):
        raw = hl.unit_state(lab, host, name)
        states[key] = unit(name, raw["LoadState"], raw["ActiveState"], raw["SubState"],
                           raw["UnitFileState"] or None, raw["Result"])
    return states


def assert_ran_and_recorded(outcome: Outcome) -> dict[str, Any]:
    assert outcome.runtime_receipt["success"] is True, outcome.last_failure
    assert outcome.evidence_verified, outcome.evidence_checks
    facts = outcome.facts[KEY]
    assert facts["contract"] == {"id": "tecrax.docker_service_health", "version": "1.0"}
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    assert facts["scope"]["observed"] == ["docker_service", "docker_socket"]
    step = outcome.step_data("observe_docker_units")
    assert step["facts_contract"] == "tecrax.docker_service_health" and step["changed"] is False
    return facts


def assert_observed_not_healthy(outcome: Outcome) -> dict[str, Any]:
    """Every step ran and the evidence is complete; only the validation rule failed,
    which RExecOp records as a failed operation without a step failure."""
    assert outcome.state == "failed", (outcome.state, outcome.validation, outcome.last_failure)
    assert outcome.last_failure is None
    assert not outcome.validation_passed
    assert outcome.validation["rule"] == "check_docker_services_health.not_healthy"
    facts = assert_ran_and_recorded(outcome)
    assert outcome.validation["details"]["assessment"] == facts["assessment"]
    return facts


def test_running_docker_is_healthy(lab: Any, hosts: dict[str, Any], environment: Path, governed: Governed) -> None:
    host = hosts["docker"]
    hl.docker_running(lab, host)
    outcome = governed.run(environment, INTENT, host.name)

    assert outcome.state == "completed", (outcome.state, outcome.validation, outcome.last_failure)
    assert outcome.validation_passed
    assert outcome.validation["rule"] == "check_docker_services_health.healthy"
    facts = assert_ran_and_recorded(outcome)
    assert facts["assessment"] == {"state": "healthy"}
    assert facts["units"] == {
        "docker_service": unit("docker.service", "loaded", "active", "running", "enabled", "success"),
        "docker_socket": unit("docker.socket", "loaded", "active", "running", "enabled", "success"),
    }
    assert facts["units"] == host_units(lab, host)
    # dockerd really runs with the lab configuration (asked through systemd, not the API).
    assert hl.sh(lab, host, "systemctl show --property=MainPID --value docker.service").strip() != "0"


def test_stopped_docker_is_unhealthy(lab: Any, hosts: dict[str, Any], environment: Path, governed: Governed) -> None:
    host = hosts["docker"]
    hl.docker_stopped(lab, host)
    outcome = governed.run(environment, INTENT, host.name)

    facts = assert_observed_not_healthy(outcome)
    assert facts["assessment"] == {"state": "unhealthy", "reasons": ["docker_inactive"]}
    assert facts["units"] == {
        "docker_service": unit("docker.service", "loaded", "inactive", "dead", "enabled", "success"),
        "docker_socket": unit("docker.socket", "loaded", "inactive", "dead", "enabled", "success"),
    }
    assert facts["units"] == host_units(lab, host)


def test_failed_docker_is_unhealthy_with_its_states(lab: Any, hosts: dict[str, Any], environment: Path,
                                                    governed: Governed) -> None:
    host = hosts["docker"]
    try:
        hl.docker_failed(lab, host)
        outcome = governed.run(environment, INTENT, host.name)
    finally:
        hl.docker_stopped(lab, host)

    facts = assert_observed_not_healthy(outcome)
    assert facts["assessment"] == {"state": "unhealthy", "reasons": ["docker_failed"]}
    service = facts["units"]["docker_service"]
    assert (service["load_state"], service["active_state"], service["sub_state"]) == ("loaded", "failed", "failed")
    assert service["result"] in ("exit-code", "start-limit-hit")
    assert facts["units"]["docker_socket"]["load_state"] == "loaded"


def test_host_without_docker_is_unhealthy_not_found(lab: Any, hosts: dict[str, Any], environment: Path,
                                                    governed: Governed) -> None:
    host = hosts["plain"]
    outcome = governed.run(environment, INTENT, host.name)

    facts = assert_observed_not_healthy(outcome)
    assert facts["assessment"] == {"state": "unhealthy", "reasons": ["docker_not_installed"]}
    assert facts["units"] == {
        "docker_service": unit("docker.service", "not-found", "inactive", "dead", None, "success"),
        "docker_socket": unit("docker.socket", "not-found", "inactive", "dead", None, "success"),
    }


def test_dry_run_observes_the_same(lab: Any, hosts: dict[str, Any], environment: Path, governed: Governed) -> None:
    host = hosts["plain"]
    outcome = governed.run(environment, INTENT, host.name, mode="dry_run")
    facts = assert_observed_not_healthy(outcome)
    assert outcome.step_data("observe_docker_units")["check_mode"] is True
    assert facts["assessment"] == {"state": "unhealthy", "reasons": ["docker_not_installed"]}
