"""The tecrax.monitoring_host_diagnosis normalizer, on component facts made by the components'
own normalizers from recordings (unit/diagnosis_inputs.py), on every branch of the verdict,
and on malformed component input."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import canonical_json
from ansible_collections.tecrax.ops.plugins.module_utils.diagnosis import monitoring_host_diagnosis as mhd
from unit.diagnosis_inputs import component_facts, outcomes

SCHEMA = "monitoring_host_diagnosis.v1.schema.json"
COMPONENTS = ["inventory", "ntp", "ntp_server", "docker", "host_security", "zabbix_api", "adguard", "portainer"]


@pytest.fixture
def diagnose(facts_schema_errors: Any) -> Any:
    """The normalizer, checked against the schema on every call."""

    def run(observations: Any) -> dict[str, Any]:
        facts = mhd.normalize_monitoring_host_diagnosis(observations)
        assert facts_schema_errors(facts, SCHEMA) == []
        return facts

    return run


def component(facts: dict[str, Any], name: str) -> dict[str, Any]:
    entry = dict(facts["components"][name])
    assert (entry.pop("check_intent"), entry.pop("facts_contract")) == (
        mhd.COMPONENTS[COMPONENTS.index(name)].check_intent, mhd.COMPONENTS[COMPONENTS.index(name)].facts_contract)
    return entry


def test_every_component_healthy(diagnose: Any) -> None:
    facts = diagnose(outcomes())
    assert facts["contract"] == {"id": "tecrax.monitoring_host_diagnosis", "version": "1.0"}
    assert facts["scope"] == {"requested": COMPONENTS, "observed": COMPONENTS, "not_observed": []}
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    assert facts["assessment"] == {"state": "healthy"}
    assert facts["summary"] == {"healthy": 8, "unhealthy": 0, "unavailable": 0}
    assert facts["findings"] == [{"kind": "monitoring.observed_healthy", "severity": "info", "component": "all",
                                  "reason_code": "all_components_healthy"}]
    for name in COMPONENTS:
        assert component(facts, name) == {"status": "healthy", "assessment_state": "healthy",
                                          "coverage_state": "complete", "reasons": []}
    assert facts["non_claims"] and len(canonical_json(facts)) < 16 * 1024


def test_components_have_the_single_checks_intents_and_contracts() -> None:
    assert [c.name for c in mhd.COMPONENTS] == COMPONENTS
    assert {c.name: c.check_intent for c in mhd.COMPONENTS} == {
        "inventory": "collect_basic_host_inventory", "ntp": "check_ntp_health",
        "ntp_server": "check_ntp_server_health", "docker": "check_docker_services_health",
        "host_security": "collect_host_security_posture_readonly", "zabbix_api": "check_zabbix_container_health",
        "adguard": "check_adguard_health", "portainer": "check_portainer_health"}
    for name in COMPONENTS:
        assert component_facts(name)["contract"]["id"] == mhd.COMPONENTS[COMPONENTS.index(name)].facts_contract


@pytest.mark.parametrize(
    ("name", "state", "assessment_state", "coverage_state", "reason", "kind", "severity"),
    [
        ("ntp", "stopped", "unhealthy", "complete", "no_time_daemon_active", "monitoring.ntp_unhealthy", "high"),
        ("ntp_server", "not_serving", "unhealthy", "complete", "not_serving", "monitoring.ntp_server_unhealthy",
         "high"),
        ("docker", "stopped", "unhealthy", "complete", "docker_inactive", "monitoring.docker_unhealthy", "high"),
        ("host_security", "pending", "degraded", "complete", "security_updates_pending",
         "monitoring.host_security_degraded", "medium"),
        ("zabbix_api", "database_down", "unhealthy", "partial", "api_error", "monitoring.zabbix_api_unhealthy", "high"),
        ("adguard", "nxdomain", "unhealthy", "complete", "dns_nxdomain", "monitoring.adguard_unhealthy", "high"),
        ("portainer", "not_json", "unhealthy", "partial", "response_not_json", "monitoring.portainer_unhealthy",
         "medium"),
    ],
)
def test_an_unhealthy_component(diagnose: Any, name: str, state: str, assessment_state: str, coverage_state: str,
                                reason: str, kind: str, severity: str) -> None:
    """The component is unhealthy for its one reason, which is also the finding's reason code."""
    facts = diagnose(outcomes(**{name: state}))
    assert component(facts, name) == {"status": "unhealthy", "assessment_state": assessment_state,
                                      "coverage_state": coverage_state, "reasons": [reason]}
    assert facts["findings"] == [{"kind": kind, "severity": severity, "reason_code": reason, "component": name}]
    assert facts["assessment"] == {"state": "unhealthy", "reasons": [name + "_unhealthy"]}
    # Observed and bad is still observed: coverage stays complete.
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    assert facts["summary"] == {"healthy": 7, "unhealthy": 1, "unavailable": 0}
    assert all(component(facts, other)["status"] == "healthy" for other in COMPONENTS if other != name)


@pytest.mark.parametrize(
    ("name", "state", "reasons", "cause"),
    [
        ("adguard", "resolver_down", ["dns_connection_refused"], "connection_failed"),
        ("portainer", "unknown_ca", ["tls_unknown_ca"], "tls_failed"),
        ("zabbix_api", "tls", ["tls_verification_failed"], "tls_failed"),
        ("zabbix_api", "refused", ["connection_failed"], "connection_failed"),
        ("ntp", "chronyc_missing", ["synchronization_unobserved", "chrony_tracking_not_installed"], "program_missing"),
        ("docker", "no_systemctl", ["systemctl_not_found"], "program_missing"),
        ("inventory", "no_df", ["root_filesystem_unavailable"], "not_observed"),
        ("host_security", "no_apt_get", ["apt_get_not_found"], "program_missing"),
    ],
)
def test_a_component_that_could_not_be_observed_is_unavailable_never_unhealthy(
        diagnose: Any, name: str, state: str, reasons: list[str], cause: str) -> None:
    single = component_facts(name, state)
    facts = diagnose(outcomes(**{name: state}))
    assert component(facts, name) == {"status": "unavailable", "assessment_state": single["assessment"]["state"],
                                      "coverage_state": single["coverage"]["state"], "reasons": reasons}
    assert facts["findings"] == [{"kind": "monitoring.component_unavailable", "severity": "medium",
                                  "component": name, "reason_code": cause}]
    assert facts["assessment"] == {"state": "unavailable", "reasons": [name + "_unavailable"]}
    assert facts["coverage"] == {"state": "partial", "blockers": [name + "_unavailable"]}
    assert facts["scope"]["not_observed"] == [name]


def test_a_state_the_security_posture_observed_makes_it_unhealthy(diagnose: Any) -> None:
    """No package lists: pending updates cannot be counted because of what the host is like."""
    facts = diagnose(outcomes(host_security="no_lists"))
    assert component(facts, "host_security") == {"status": "unhealthy", "assessment_state": "unknown",
                                                 "coverage_state": "partial", "reasons": ["package_lists_missing"]}
    assert facts["findings"] == [{"kind": "monitoring.host_security_degraded", "severity": "medium",
                                  "component": "host_security", "reason_code": "package_lists_missing"}]


@pytest.mark.parametrize("cause", ["not_configured", "connection_failed", "timeout", "observation_failed",
                                   "not_collected"])
def test_a_component_without_facts_keeps_its_cause(diagnose: Any, cause: str) -> None:
    facts = diagnose(outcomes(portainer={"unavailable": cause}))
    assert component(facts, "portainer") == {"status": "unavailable", "assessment_state": None,
                                             "coverage_state": None, "reasons": [cause]}
    assert facts["findings"][0] == {"kind": "monitoring.component_unavailable", "severity": "medium",
                                    "component": "portainer", "reason_code": cause}


@pytest.mark.parametrize("outcome", [None, "facts", ["facts"], 3])
def test_a_missing_or_odd_outcome_is_not_collected(diagnose: Any, outcome: Any) -> None:
    facts = diagnose({**outcomes(), "docker": outcome})
    assert component(facts, "docker")["reasons"] == ["not_collected"]


@pytest.mark.parametrize("outcome", [{}, {"unavailable": "rm -rf /"}, {"unavailable": 7}, {"unavailable": "timeouts"}])
def test_an_unknown_cause_is_an_observation_failure(diagnose: Any, outcome: Any) -> None:
    facts = diagnose(outcomes(docker=outcome))
    assert component(facts, "docker")["reasons"] == ["observation_failed"]


def _edited(name: str, edit: Any) -> dict[str, Any]:
    facts = copy.deepcopy(component_facts(name))
    edit(facts)
    return {"facts": facts}


@pytest.mark.parametrize(
    "edit",
    [
        lambda f: f.update(contract={"id": "tecrax.docker_service_health", "version": "1.0"}),
        lambda f: f.update(contract={"id": "tecrax.ntp_local_health", "version": "2.0"}),
        lambda f: f.pop("assessment"),
        lambda f: f.update(assessment="healthy"),
        lambda f: f.update(coverage={"state": "finished", "blockers": []}),
        lambda f: f["assessment"].update(state=None),
        lambda f: f["assessment"].update(state="Healthy!"),
        lambda f: f["assessment"].update(reasons="no_time_daemon_active"),
        lambda f: f["assessment"].update(reasons=["ok", "ok"]),
        lambda f: f["assessment"].update(reasons=["x"] * 17),
        lambda f: f["coverage"].update(blockers=[1]),
        lambda f: f["coverage"].pop("blockers"),
        # The envelope's own rules.
        lambda f: f["coverage"].update(state="blocked", blockers=["unit_states_failed"]),
        lambda f: f.update(assessment={"state": "unavailable"}),
        lambda f: f["coverage"].update(blockers=["timedatectl_failed"]),
        lambda f: f["coverage"].update(state="partial"),
    ],
)
def test_facts_that_are_not_the_components_contract_are_rejected(diagnose: Any, edit: Any) -> None:
    facts = diagnose(outcomes(ntp=_edited("ntp", edit)))
    assert component(facts, "ntp") == {"status": "unavailable", "assessment_state": None, "coverage_state": None,
                                       "reasons": ["schema_rejected"]}
    assert facts["findings"][0]["reason_code"] == "schema_rejected"


@pytest.mark.parametrize(("name", "state", "kept"), [
    ("inventory", "degraded", "degraded"),  # an envelope state the inventory contract has not
    ("zabbix_api", "unknown", "unknown"),
    ("portainer", "sleeping", None),  # not an envelope state at all
])
def test_an_assessment_state_the_component_does_not_have_is_unclassified(
        diagnose: Any, name: str, state: str, kept: Any) -> None:
    def edit(facts: dict[str, Any]) -> None:
        facts["assessment"] = {"state": state}

    facts = diagnose(outcomes(**{name: _edited(name, edit)}))
    assert component(facts, name) == {"status": "unavailable", "assessment_state": kept,
                                      "coverage_state": "complete", "reasons": ["unclassified_state"]}
    assert facts["findings"] == [{"kind": "monitoring.unclassified_state", "severity": "medium",
                                  "component": name, "reason_code": "unclassified_state"}]


def test_degraded_without_reasons_gets_a_reason(diagnose: Any) -> None:
    facts = diagnose(outcomes(ntp=_edited("ntp", lambda f: f.update(assessment={"state": "degraded"}))))
    assert component(facts, "ntp")["reasons"] == ["assessment_degraded"]


def test_reasons_are_bounded_to_eight(diagnose: Any) -> None:
    many = [f"reason_{index}" for index in range(12)]
    unhealthy = {"state": "unhealthy", "reasons": many}
    facts = diagnose(outcomes(ntp=_edited("ntp", lambda f: f.update(assessment=unhealthy))))
    assert component(facts, "ntp")["reasons"] == many[:8]


def test_unhealthy_outranks_unavailable_and_findings_are_sorted_by_component(diagnose: Any) -> None:
    facts = diagnose(outcomes(ntp="stopped", portainer="unknown_ca", adguard={"unavailable": "not_configured"},
                              docker="failed"))
    assert facts["assessment"] == {"state": "unhealthy", "reasons": [
        "adguard_unavailable", "docker_unhealthy", "ntp_unhealthy", "portainer_unavailable"]}
    assert [(f["component"], f["kind"], f["reason_code"]) for f in facts["findings"]] == [
        ("adguard", "monitoring.component_unavailable", "not_configured"),
        ("docker", "monitoring.docker_unhealthy", "docker_failed"),
        ("ntp", "monitoring.ntp_unhealthy", "no_time_daemon_active"),
        ("portainer", "monitoring.component_unavailable", "tls_failed"),
    ]
    assert facts["coverage"] == {"state": "partial", "blockers": ["adguard_unavailable", "portainer_unavailable"]}
    assert facts["summary"] == {"healthy": 4, "unhealthy": 2, "unavailable": 2}


@pytest.mark.parametrize("observations", [None, {}, [], "x", {"ntp": {"facts": None}}])
def test_nothing_observed_is_blocked_and_unavailable(diagnose: Any, observations: Any) -> None:
    facts = diagnose(observations)
    assert facts["coverage"]["state"] == "blocked"
    assert facts["assessment"]["state"] == "unavailable"
    assert facts["summary"] == {"healthy": 0, "unhealthy": 0, "unavailable": 8}
    assert len(facts["findings"]) == 8


def test_host_unreachable_leaves_the_controller_side_observed(diagnose: Any) -> None:
    host_part = mhd.host_local_outcomes({"unreachable": True, "msg": "ssh: connect to host 198.51.100.9 port 22: refused",
                                         "changed": False})
    facts = diagnose({**outcomes(), **host_part})
    assert facts["scope"]["observed"] == ["zabbix_api", "adguard", "portainer"]
    assert {name: component(facts, name)["reasons"] for name in mhd.HOST_LOCAL} == dict.fromkeys(
        mhd.HOST_LOCAL, ["connection_failed"])
    assert "198.51.100.9" not in canonical_json(facts)


@pytest.mark.parametrize(
    ("result", "cause"),
    [
        ({"unreachable": True}, "connection_failed"),
        ({"failed": True, "timed_out": True, "msg": "timed out: df"}, "timeout"),
        ({"failed": True, "msg": "Traceback ..."}, "observation_failed"),
        ({"skipped": True}, "observation_failed"),
        ("not a result", "not_collected"),
        (None, "not_collected"),
    ],
)
def test_host_local_task_that_did_not_run(result: Any, cause: str) -> None:
    assert mhd.host_local_outcomes(result) == dict.fromkeys(mhd.HOST_LOCAL, {"unavailable": cause})


def test_host_local_observations_pass_through() -> None:
    observed = {"inventory": {"facts": {"any": "thing"}}, "docker": {"unavailable": "timeout"}, "other": {}}
    assert mhd.host_local_outcomes({"changed": False, "observations": observed}) == {
        "inventory": {"facts": {"any": "thing"}}, "ntp": {"unavailable": "not_collected"},
        "ntp_server": {"unavailable": "not_collected"}, "docker": {"unavailable": "timeout"},
        "host_security": {"unavailable": "not_collected"}}
    assert mhd.host_local_outcomes({"observations": "x"}) == dict.fromkeys(mhd.HOST_LOCAL,
                                                                           {"unavailable": "not_collected"})


@pytest.mark.parametrize(("codes", "cause"), [
    ([], "not_observed"),
    (["login_tls_certificate_expired"], "tls_failed"),
    (["tls_error"], "tls_failed"),
    (["dns_timeout"], "timeout"),
    (["login_connection_failed"], "connection_failed"),
    (["dns_network_error"], "connection_failed"),
    (["unit_states_not_installed"], "program_missing"),
    (["systemctl_not_found"], "program_missing"),
    (["http_protocol_error", "dns_timeout"], "timeout"),  # the first that names a cause
    (["titles_unparsed"], "not_observed"),  # "tls" only as a whole word
])
def test_unavailable_cause(codes: list[str], cause: str) -> None:
    assert mhd.unavailable_cause(codes) == cause


def test_the_severity_table_covers_every_kind() -> None:
    kinds = {c.unhealthy_kind for c in mhd.COMPONENTS} | {mhd.OBSERVED_HEALTHY, mhd.COMPONENT_UNAVAILABLE,
                                                          mhd.UNCLASSIFIED}
    assert set(mhd.SEVERITIES) == kinds
    assert set(mhd.SEVERITIES.values()) <= {"info", "low", "medium", "high"}


def test_unknown_without_any_reason_is_not_observed(diagnose: Any) -> None:
    facts = diagnose(outcomes(docker=_edited("docker", lambda f: f.update(assessment={"state": "unknown"}))))
    assert component(facts, "docker") == {"status": "unavailable", "assessment_state": "unknown",
                                          "coverage_state": "complete", "reasons": ["not_observed"]}
    assert facts["findings"][0]["reason_code"] == "not_observed"
