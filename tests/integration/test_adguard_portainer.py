"""AdGuard Home and Portainer checks end to end: RExecOp / GovEngine / SCLite -> tecrax_ansible
(local connection on the controller) -> tecrax.ops.adguard_health / portainer_health -> real
servers in one lab host.

AdGuard Home and Portainer themselves cannot be installed here. The lab host's **unbound**
stands in for AdGuard's DNS resolver and its **nginx** for AdGuard's login page and for
Portainer's HTTPS ``/api/status`` (certificates from a test CA made with openssl for this
session); see service_lab.py. These are the two products' public surfaces the checks use, so
the checks run here exactly as they would against the real products.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

import service_lab as sl
from harness import Governed, Outcome, allow_read_policy, write_environment

ADGUARD = "check_adguard_health"
PORTAINER = "check_portainer_health"
STEP = {ADGUARD: "observe_adguard", PORTAINER: "observe_portainer"}
KEY = {ADGUARD: "adguard_reachability", PORTAINER: "portainer_reachability"}
BOTH = ["dns_answer", "login_page"]
pytestmark = pytest.mark.lab


class Services:
    def __init__(self, host: Any, pki: sl.Pki, environment: Path) -> None:
        self.host = host
        self.pki = pki
        self.environment = environment


def adguard_targets(address: str, pki: sl.Pki) -> dict[str, dict[str, Any]]:
    def target(query_name: str, web_url: str, **extra: Any) -> dict[str, Any]:
        settings = {"dns_server": address, "query_name": query_name, "web_url": web_url, "timeout_seconds": 3}
        return {"connection": "local", "adguard": {**settings, **extra}}

    web = f"http://{address}"
    return {
        "adguard-healthy": target(sl.PROBE_NAME, web),
        "adguard-redirect-tls": target(sl.PROBE_NAME, f"https://{address}:{sl.WEB_TLS_PORT}/noauth",
                                       ca_file=str(pki.ca_file)),
        "adguard-nxdomain": target(sl.MISSING_NAME, web),
        "adguard-login-500": target(sl.PROBE_NAME, f"{web}/broken"),
        "adguard-servfail-web-down": target(sl.SERVFAIL_NAME, f"http://{address}:{sl.CLOSED_PORT}"),
    }


def portainer_targets(address: str, pki: sl.Pki) -> dict[str, dict[str, Any]]:
    def target(port: int, ca_file: Path = pki.ca_file, prefix: str = "", scheme: str = "https") -> dict[str, Any]:
        url = f"{scheme}://{address}:{port}{prefix}"
        return {"connection": "local", "portainer": {"base_url": url, "ca_file": str(ca_file), "timeout_seconds": 5}}

    return {
        "portainer-healthy": target(sl.PORTAINER_PORT),
        "portainer-unknown-ca": target(sl.PORTAINER_PORT, ca_file=pki.other_ca_file),
        "portainer-misnamed": target(sl.PORTAINER_MISNAMED_PORT),
        "portainer-expired": target(sl.PORTAINER_EXPIRED_PORT),
        "portainer-plain-port": target(sl.PORTAINER_PLAIN_PORT),
        "portainer-not-portainer": target(sl.PORTAINER_PORT, prefix="/not-portainer"),
    }


@pytest.fixture(scope="module")
def services(lab: Any, service_standins: tuple[Any, sl.Pki], tmp_path_factory: pytest.TempPathFactory) -> Services:
    """The session's stand-in host (tests/integration/conftest.py) and an environment for it."""
    work = tmp_path_factory.mktemp("services")
    host, pki = service_standins
    inventory = {**adguard_targets(host.address, pki), **portainer_targets(host.address, pki)}
    environment = write_environment(work / "environment.yaml", [], known_hosts=lab.known_hosts,
                                    policy=allow_read_policy(), connector={"inventory": inventory})
    document = yaml.safe_load(environment.read_text())
    targets = [*inventory, "portainer-plain-url"]
    document["environment"]["targets"] = {name: {"type": "host", "criticality": "low"} for name in targets}
    environment.write_text(yaml.safe_dump(document, sort_keys=False))
    return Services(host, pki, environment)



def recorded_facts(outcome: Outcome, intent: str, check_mode: bool = False) -> dict[str, Any]:
    """Every step ran and the SCLite evidence verifies; return the lifted facts."""
    assert outcome.last_failure is None, outcome.last_failure
    assert outcome.runtime_receipt["success"] is True, outcome.runtime_receipt
    assert outcome.evidence_verified, outcome.evidence_checks
    step = outcome.step_data(STEP[intent])
    assert (step["changed"], step["check_mode"], step["facts_key"], step["runner"]["status"]) == (
        False, check_mode, KEY[intent], "successful")
    facts = dict(outcome.facts[KEY[intent]])
    assert facts == step["facts"]
    assert facts.pop("non_claims")
    return facts


def verdict(outcome: Outcome, intent: str) -> str:
    passed = outcome.validation_passed
    assert outcome.state == ("completed" if passed else "failed"), (outcome.state, outcome.validation)
    assert outcome.validation["details"]["contract"]["id"] == f"tecrax.{KEY[intent]}"
    return str(outcome.validation["rule"])


def adguard(observed: list[str], blockers: list[str], state: str, reasons: list[str],
            dns: dict[str, Any], login: dict[str, Any]) -> dict[str, Any]:
    assessment: dict[str, Any] = {"state": state, **({"reasons": reasons} if reasons else {})}
    coverage = "complete" if observed == BOTH else ("partial" if observed else "blocked")
    return {
        "contract": {"id": "tecrax.adguard_reachability", "version": "1.0"},
        "scope": {"requested": BOTH, "observed": observed, "not_observed": [n for n in BOTH if n not in observed]},
        "coverage": {"state": coverage, "blockers": blockers},
        "assessment": assessment,
        "dns": dns,
        "login_page": login,
    }


DNS_ADDRESSES = {"outcome": "addresses_returned", "rcode": "NOERROR", "address_records": 2, "recursion_available": True}
LOGIN_200 = {"outcome": "expected_status", "http_status": 200, "scheme": "http", "tls_verified": False}


def dns_error(outcome: str, rcode: str) -> dict[str, Any]:
    return {"outcome": outcome, "rcode": rcode, "address_records": 0, "recursion_available": True}


# --- AdGuard Home ------------------------------------------------------------------------


def test_adguard_answer_and_login_page_are_healthy(services: Services, governed: Governed) -> None:
    outcome = governed.run(services.environment, ADGUARD, "adguard-healthy")
    assert verdict(outcome, ADGUARD) == "check_adguard_health.reachable"
    assert recorded_facts(outcome, ADGUARD) == adguard(BOTH, [], "healthy", [], DNS_ADDRESSES, LOGIN_200)


def test_adguard_login_redirect_over_verified_tls_is_healthy_in_dry_run(services: Services, governed: Governed) -> None:
    outcome = governed.run(services.environment, ADGUARD, "adguard-redirect-tls", mode="dry_run")
    assert verdict(outcome, ADGUARD) == "check_adguard_health.reachable"
    login = {"outcome": "expected_status", "http_status": 302, "scheme": "https", "tls_verified": True}
    assert recorded_facts(outcome, ADGUARD, check_mode=True) == adguard(
        BOTH, [], "healthy", [], DNS_ADDRESSES, login)


def test_adguard_nxdomain_is_unhealthy(services: Services, governed: Governed) -> None:
    outcome = governed.run(services.environment, ADGUARD, "adguard-nxdomain")
    assert verdict(outcome, ADGUARD) == "check_adguard_health.not_healthy"
    assert recorded_facts(outcome, ADGUARD) == adguard(
        BOTH, [], "unhealthy", ["dns_nxdomain"], dns_error("nxdomain", "NXDOMAIN"), LOGIN_200)


def test_adguard_login_500_is_unhealthy(services: Services, governed: Governed) -> None:
    outcome = governed.run(services.environment, ADGUARD, "adguard-login-500")
    assert verdict(outcome, ADGUARD) == "check_adguard_health.not_healthy"
    login = {"outcome": "unexpected_status", "http_status": 500, "scheme": "http", "tls_verified": False}
    assert recorded_facts(outcome, ADGUARD) == adguard(
        BOTH, [], "unhealthy", ["login_unexpected_status"], DNS_ADDRESSES, login)


def test_adguard_servfail_outranks_a_refused_web_connection(services: Services, governed: Governed) -> None:
    """SERVFAIL was observed and is bad; the web interface did not answer (not observed):
    the verdict is unhealthy, and both reasons are kept."""
    outcome = governed.run(services.environment, ADGUARD, "adguard-servfail-web-down")
    assert verdict(outcome, ADGUARD) == "check_adguard_health.not_healthy"
    login = {"outcome": "connection_refused", "http_status": None, "scheme": "http", "tls_verified": False}
    assert recorded_facts(outcome, ADGUARD) == adguard(
        ["dns_answer"], ["login_connection_refused"], "unhealthy", ["dns_servfail", "login_connection_refused"],
        dns_error("servfail", "SERVFAIL"), login)


def test_adguard_resolver_down_is_unavailable(lab: Any, services: Services, governed: Governed) -> None:
    lab.stop_service(services.host, "unbound")
    try:
        outcome = governed.run(services.environment, ADGUARD, "adguard-healthy")
    finally:
        lab.start_service(services.host, "unbound")
    assert verdict(outcome, ADGUARD) == "check_adguard_health.not_healthy"
    dns = {"outcome": "connection_refused", "rcode": None, "address_records": None, "recursion_available": None}
    assert recorded_facts(outcome, ADGUARD) == adguard(
        ["login_page"], ["dns_connection_refused"], "unavailable", ["dns_connection_refused"], dns, LOGIN_200)


# --- Portainer ---------------------------------------------------------------------------


def portainer(state: str, reason: str | None, status: int | None, version: str = "unknown") -> dict[str, Any]:
    observed = [name for name, seen in (("https_endpoint", status is not None), ("api_status", version != "unknown"))
                if seen]
    requested = ["https_endpoint", "api_status"]
    return {
        "contract": {"id": "tecrax.portainer_reachability", "version": "1.0"},
        "scope": {"requested": requested, "observed": observed,
                  "not_observed": [name for name in requested if name not in observed]},
        "coverage": {"state": "complete" if len(observed) == 2 else ("partial" if observed else "blocked"),
                     "blockers": [reason] if reason else []},
        "assessment": {"state": state, **({"reasons": [reason]} if reason else {})},
        "portainer_version": version,
        "http_status": status,
        "transport": {"scheme": "https", "tls_verified": status is not None},
    }


def files_containing(root: Path, value: str) -> list[str]:
    needle = value.encode()
    return [str(Path(directory, name).relative_to(root))
            for directory, _dirs, names in os.walk(root) for name in names
            if needle in Path(directory, name).read_bytes()]


def test_portainer_status_over_verified_tls_is_healthy(services: Services, governed: Governed) -> None:
    outcome = governed.run(services.environment, PORTAINER, "portainer-healthy")
    assert verdict(outcome, PORTAINER) == "check_portainer_health.reachable"
    assert recorded_facts(outcome, PORTAINER) == portainer("healthy", None, 200, sl.PORTAINER_VERSION)
    # InstanceID came back from the server and is nowhere in what RExecOp and SCLite recorded.
    assert (governed.root / "sclite" / outcome.operation_id).is_dir()
    assert files_containing(governed.root, sl.PORTAINER_INSTANCE_ID) == []


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("portainer-unknown-ca", "tls_unknown_ca"),
        ("portainer-misnamed", "tls_hostname_mismatch"),
        ("portainer-expired", "tls_certificate_expired"),
        ("portainer-plain-port", "tls_required"),
    ],
)
def test_portainer_tls_failures_are_unavailable_with_a_named_reason(
    services: Services, governed: Governed, target: str, reason: str
) -> None:
    outcome = governed.run(services.environment, PORTAINER, target)
    assert verdict(outcome, PORTAINER) == "check_portainer_health.not_healthy"
    assert recorded_facts(outcome, PORTAINER) == portainer("unavailable", reason, None)


def test_portainer_answer_that_is_not_portainer_is_unhealthy(services: Services, governed: Governed) -> None:
    outcome = governed.run(services.environment, PORTAINER, "portainer-not-portainer")
    assert verdict(outcome, PORTAINER) == "check_portainer_health.not_healthy"
    assert recorded_facts(outcome, PORTAINER) == portainer("unhealthy", "response_not_json", 200)


def test_plain_http_portainer_url_is_refused_before_anything_runs(
    services: Services, governed: Governed, tmp_path: Path
) -> None:
    document = yaml.safe_load(services.environment.read_text())
    connector = document["environment"]["connectors"]["tecrax_ansible"]
    connector["inventory"]["portainer-plain-url"] = {
        "connection": "local",
        "portainer": {"base_url": f"http://{services.host.address}:{sl.PORTAINER_PLAIN_PORT}",
                      "ca_file": str(services.pki.ca_file)},
    }
    environment = tmp_path / "environment.yaml"
    environment.write_text(yaml.safe_dump(document, sort_keys=False))
    outcome = governed.run(environment, PORTAINER, "portainer-plain-url")
    assert outcome.state == "failed"
    failure = outcome.step_results[STEP[PORTAINER]]["output"]["data"]
    assert failure["error_class"] == "validation_failed"
    assert failure["error"] == (
        "connector config: inventory.portainer-plain-url.portainer.base_url must start with https:// "
        "(only verified TLS is used)"
    )
    assert "runner" not in failure  # no Ansible run
    assert KEY[PORTAINER] not in outcome.facts
    assert (outcome.runtime_receipt["success"], outcome.runtime_receipt["error_class"]) == (False, "validation_failed")
    assert outcome.evidence_verified, outcome.evidence_checks
