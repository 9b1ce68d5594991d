"""The backend path of the AdGuard Home and Portainer actions: per-target `adguard` / `portainer`
settings validated with the modules' own rules, and a real ansible-runner run of the bundled
playbook on the controller (local connection) against local servers replaying what the lab's
stand-ins answered. The lab tests (tests/integration/test_adguard_portainer.py) run the same
path through RExecOp against real unbound and nginx."""

from __future__ import annotations

from typing import Any

import pytest
from rexecop.connectors import ConnectorRequest

from tecrax.backend import build_backend
from tecrax.backend import runtime as backend_runtime
from tecrax.backend.config import ConfigError, parse_connector_config
from unit.backend_config import ssh_config
from unit.openssl_pki import Pki
from unit.service_replay import DNS_REPLIES, DnsReplayServer, HttpReplayServer, http_response, recorded_dns, server_context


def config(**targets: dict[str, Any]) -> dict[str, Any]:
    return ssh_config({"web-1": {"host": "198.51.100.7"},
                       **{name: {"connection": "local", **block} for name, block in targets.items()}},
                      timeout_seconds=60)


def invoke(action: str, target: str, mode: str = "observe", **targets: dict[str, Any]) -> Any:
    backend = build_backend(connector_name="tecrax_ansible", config=config(**targets))
    return backend.invoke(ConnectorRequest("tecrax_ansible", action, target, mode, {}))


@pytest.fixture
def no_playbook_runs(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []
    monkeypatch.setattr(backend_runtime, "run_playbook", lambda **kwargs: calls.append(kwargs))
    return calls


# --- real runs -------------------------------------------------------------------------------


def test_adguard_through_the_backend(servers: list[Any]) -> None:
    resolver = DnsReplayServer(recorded_dns("nxdomain"))
    page = HttpReplayServer(http_response("login_200"))
    servers += [resolver, page]
    adguard = {"dns_server": "127.0.0.1", "dns_port": resolver.port, "web_url": f"http://127.0.0.1:{page.port}",
               "query_name": DNS_REPLIES["nxdomain"]["query_name"], "timeout_seconds": 2}
    response = invoke("adguard_health", "adguard-01", "dry_run", **{"adguard-01": {"adguard": adguard}})
    assert response.success, response.error
    data = response.data
    assert (data["facts_key"], data["facts_contract"], data["check_mode"]) == (
        "adguard_reachability", "tecrax.adguard_reachability", True)
    assert data["facts"]["assessment"] == {"state": "unhealthy", "reasons": ["dns_nxdomain"]}
    assert data["facts"]["login_page"]["http_status"] == 200
    assert len(resolver.queries) == 1 and len(page.requests) == 1


def test_portainer_through_the_backend(servers: list[Any], pki: Pki) -> None:
    server = HttpReplayServer(http_response("portainer_status"), server_context(pki.server_cert, pki.server_key))
    servers.append(server)
    portainer = {"base_url": f"https://127.0.0.1:{server.port}", "ca_file": str(pki.ca_file)}
    response = invoke("portainer_health", "portainer-01", **{"portainer-01": {"portainer": portainer}})
    assert response.success, response.error
    facts = response.data["facts"]
    assert (facts["assessment"], facts["portainer_version"]) == ({"state": "healthy"}, "2.19.4")
    assert "6f1c5b7e-3d0a-4c1e-9b7f-2a8d4e6c0b19" not in str(response.data)  # the recorded InstanceID


# --- configuration ---------------------------------------------------------------------------

ADGUARD = {"dns_server": "192.0.2.10", "web_url": "https://adguard.example.org", "ca_file": "/etc/tecrax/adguard.pem"}
PORTAINER = {"base_url": "https://portainer.example.org:9443", "ca_file": "/etc/tecrax/portainer.pem"}


def test_valid_settings_are_normalized() -> None:
    parsed = parse_connector_config(config(**{"adguard-01": {"adguard": {**ADGUARD, "query_name": "WWW.Example.org."}},
                                              "portainer-01": {"portainer": PORTAINER}}))
    assert parsed.inventory["adguard-01"].inputs["adguard"] == {
        "dns_server": "192.0.2.10", "dns_port": 53, "query_name": "www.example.org",
        "web_url": "https://adguard.example.org", "ca_file": "/etc/tecrax/adguard.pem", "timeout_seconds": 5}
    assert parsed.inventory["portainer-01"].inputs["portainer"] == {**PORTAINER, "timeout_seconds": 10}
    assert "portainer" not in parsed.inventory["adguard-01"].inputs


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"adguard": "192.0.2.10"}, "inventory.svc-01.adguard must be a mapping"),
        ({"adguard": {**ADGUARD, "api_password_secret_ref": "x"}}, "inventory.svc-01.adguard.api_password_secret_ref is not a known key (known: dns_server, dns_port, query_name, web_url, ca_file, timeout_seconds)"),
        ({"adguard": {**ADGUARD, "dns_server": "adguard.example.org"}},
         "inventory.svc-01.adguard.dns_server must be an IPv4 or IPv6 address"),
        ({"adguard": {**ADGUARD, "ca_file": None}},
         "inventory.svc-01.adguard.ca_file (an absolute path) is required for an https web_url"),
        ({"adguard": {**ADGUARD, "web_url": "http://192.0.2.10:3000"}},
         "inventory.svc-01.adguard.ca_file is only used with an https web_url"),
        ({"adguard": {**ADGUARD, "query_name": "no spaces.example"}},
         "inventory.svc-01.adguard.query_name must be a DNS name of at least two labels (letters, digits, '-'), at most 253 characters"),
        ({"portainer": {**PORTAINER, "base_url": "http://portainer.example.org:9000"}},
         "inventory.svc-01.portainer.base_url must start with https:// (only verified TLS is used)"),
        ({"portainer": {"base_url": PORTAINER["base_url"]}},
         "inventory.svc-01.portainer.ca_file (an absolute path) is required for an https base_url"),
        ({"portainer": {**PORTAINER, "timeout_seconds": "10"}},
         "inventory.svc-01.portainer.timeout_seconds must be an integer from 1 to 60"),
        ({"portainer": {**PORTAINER, "api_key": "x"}}, "inventory.svc-01.portainer.api_key is not a known key (known: base_url, ca_file, timeout_seconds)"),
    ],
)
def test_bad_settings_are_refused_by_name(no_playbook_runs: list[Any], block: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_connector_config(config(**{"svc-01": block}))
    assert str(refused.value) == message
    action = "adguard_health" if "adguard" in block else "portainer_health"
    response = invoke(action, "svc-01", **{"svc-01": block})
    assert (response.success, response.data["error_class"], response.error) == (
        False, "validation_failed", "connector config: " + message)
    assert no_playbook_runs == []


@pytest.mark.parametrize("service", ["adguard", "portainer"])
def test_an_ssh_targets_settings_are_checked_from_the_controller(no_playbook_runs: list[Any], service: str) -> None:
    """A monitoring host reached over SSH may carry the settings of the services it runs; the
    check still runs on the controller (local connection), never over SSH on the host."""
    raw = config()
    raw["inventory"]["web-1"][service] = ADGUARD if service == "adguard" else PORTAINER
    assert parse_connector_config(raw).host_for("web-1").connection == "ssh"
    backend = build_backend(connector_name="tecrax_ansible", config=raw)
    backend.invoke(ConnectorRequest("tecrax_ansible", f"{service}_health", "web-1", "observe", {}))
    (call,) = no_playbook_runs
    (host,) = call["hosts"]
    assert host.variables["ansible_connection"] == "local" and "ansible_host" not in host.variables
    assert call["extravars"][f"tecrax_{service}"]["ca_file"].startswith("/etc/tecrax/")


@pytest.mark.parametrize(("action", "service"), [("adguard_health", "adguard"), ("portainer_health", "portainer")])
def test_target_without_settings_is_refused(no_playbook_runs: list[Any], action: str, service: str) -> None:
    response = invoke(action, "plain-01", **{"plain-01": {}})
    assert response.data["error_class"] == "validation_failed"
    assert response.error == f"action {action} needs inventory.plain-01.{service} in the connector config"
    assert no_playbook_runs == []
