"""The backend path of the monitoring host diagnosis: optional service settings, the target's
own connection kept for the host-local part, bad settings refused before Ansible, and one real
ansible-runner run of the hand-written playbook (both modules, the second delegated to the
controller) against local servers replaying the recorded service answers. The lab tests
(tests/integration/test_monitoring_host_diagnosis.py) run it through RExecOp against lab hosts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rexecop.connectors import ConnectorRequest

from tecrax.backend import build_backend
from tecrax.backend.actions import ActionCatalogError, load_action_catalog
from unit.backend_config import ssh_config
from unit.connector_files import write_connector
from unit.openssl_pki import Pki
from unit.service_replay import DNS_REPLIES, DnsReplayServer, HttpReplayServer, http_response, recorded_dns, server_context
from unit.zabbix_replay import FakeZabbix, serve_zabbix

ACTION = "monitoring_host_diagnosis"
ZABBIX = {"api_url": "https://zabbix.example.org/zabbix/api_jsonrpc.php", "ca_file": "/etc/tecrax/zabbix-ca.pem"}
ADGUARD = {"dns_server": "192.0.2.53", "web_url": "http://192.0.2.53:3000"}
PORTAINER = {"base_url": "https://portainer.example.org:9443", "ca_file": "/etc/tecrax/portainer-ca.pem"}


def invoke(target: dict[str, Any], mode: str = "observe", **settings: Any) -> Any:
    config = ssh_config({"mon-01": target}, **settings)
    backend = build_backend(connector_name="tecrax_ansible", config=config)
    return backend.invoke(ConnectorRequest("tecrax_ansible", ACTION, "mon-01", mode, {}))


def test_the_diagnosis_runs_on_the_target_with_the_settings_it_has(playbook_runs: list[Any]) -> None:
    invoke({"host": "198.51.100.7", "zabbix": ZABBIX, "portainer": PORTAINER})
    (call,) = playbook_runs
    assert (call["playbook"], call["module"]) == ("playbooks/monitoring_host_diagnosis.yml",
                                                  "tecrax.ops.monitoring_host_diagnosis")
    (host,) = call["hosts"]
    assert (host.variables["ansible_connection"], host.variables["ansible_host"]) == ("ssh", "198.51.100.7")
    assert call["extravars"] == {"tecrax_zabbix": {**ZABBIX, "timeout_seconds": 10},
                                 "tecrax_portainer": {**PORTAINER, "timeout_seconds": 10}}
    assert call["secret_inputs"] == {}  # reachability only: the Zabbix token is never resolved


def test_a_target_without_service_settings_is_diagnosed_not_refused(playbook_runs: list[Any]) -> None:
    invoke({"host": "198.51.100.7"})
    (call,) = playbook_runs
    assert call["extravars"] == {}


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"zabbix": {**ZABBIX, "api_url": "zabbix.example.org"}},
         "connector config: inventory.mon-01.zabbix.api_url must start with http:// or https://"),
        ({"adguard": {**ADGUARD, "dns_port": 0}},
         "connector config: inventory.mon-01.adguard.dns_port must be an integer from 1 to 65535"),
        ({"portainer": {**PORTAINER, "ca_file": "relative/ca.pem"}},
         "connector config: inventory.mon-01.portainer.ca_file must be an absolute path without spaces or '..', "
         "of letters, digits and '._+@-/' only"),
    ],
)
def test_invalid_settings_are_refused_before_ansible(playbook_runs: list[Any], block: dict[str, Any],
                                                     message: str) -> None:
    response = invoke({"host": "198.51.100.7", **block})
    assert (response.success, response.data["error_class"], response.error) == (False, "validation_failed", message)
    assert playbook_runs == []


def test_the_action_is_read_only_with_optional_service_inputs() -> None:
    import tecrax

    action = load_action_catalog(Path(tecrax.profile_root()))[ACTION]
    assert (action.mutating, action.inputs, action.optional_inputs) == (False, (), ("zabbix", "adguard", "portainer"))


def _catalog(tmp_path: Path, **spec: Any) -> Path:
    return write_connector(
        tmp_path, ["x"],
        inputs={"zabbix": {"check": "zabbix.zabbix_api.api_settings", "block": True, "controller": True,
                           "secret_refs": ["api_token_secret_ref"]}},
        secret_inputs={"zabbix_api_token": {"ref": "zabbix.api_token_secret_ref"}},
        actions={"x": {"module": "tecrax.ops.x", "facts_contract": "tecrax.x", "schema": "schemas/x.v1.schema.json",
                       "facts_key": "x", "mutating": False, **spec}})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"optional_inputs": ["shell"]}, "action x: optional_inputs must be a list of distinct names among"),
        ({"optional_inputs": "zabbix"}, "action x: optional_inputs must be a list of distinct names among"),
        ({"inputs": ["zabbix"], "optional_inputs": ["zabbix"]}, "action x: an input cannot be both required and optional"),
        ({"optional_inputs": ["zabbix_api_token"]}, "action x: a secret input cannot be optional"),
    ],
)
def test_malformed_optional_inputs_are_refused(tmp_path: Path, spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ActionCatalogError, match=message):
        load_action_catalog(_catalog(tmp_path, **spec))


# --- a real run --------------------------------------------------------------------------------


def test_a_real_run_probes_the_services_and_records_a_diagnosis(servers: list[Any], pki: Pki) -> None:
    """The target is this machine over the local connection (no systemd here, so the host-local
    components are whatever it is); the services are local servers replaying the recordings."""
    zabbix = serve_zabbix(FakeZabbix())
    resolver = DnsReplayServer(recorded_dns("addresses"))
    portainer = HttpReplayServer(http_response("portainer_status"), server_context(pki.server_cert, pki.server_key))
    servers += [resolver, portainer]
    try:
        response = invoke(
            {"connection": "local",
             "zabbix": {"api_url": zabbix.url, "timeout_seconds": 5},
             "adguard": {"dns_server": "127.0.0.1", "dns_port": resolver.port, "web_url": "http://127.0.0.1:9",
                         "query_name": DNS_REPLIES["addresses"]["query_name"], "timeout_seconds": 2},
             "portainer": {"base_url": f"https://127.0.0.1:{portainer.port}", "ca_file": str(pki.ca_file)}},
            "dry_run", timeout_seconds=120)
    finally:
        zabbix.httpd.shutdown()
        zabbix.httpd.server_close()
    assert response.success, response.error
    data = response.data
    assert (data["facts_key"], data["facts_contract"], data["check_mode"], data["changed"]) == (
        "monitoring_host_diagnosis", "tecrax.monitoring_host_diagnosis", True, False)
    components = data["facts"]["components"]
    assert (components["zabbix_api"]["status"], components["portainer"]["status"]) == ("healthy", "healthy")
    # Port 9 (discard) does not answer HTTP here: the login page could not be observed.
    assert components["adguard"]["status"] == "unavailable"
    assert components["inventory"]["status"] == "healthy"
    assert set(components) == {"inventory", "ntp", "ntp_server", "docker", "host_security", "zabbix_api",
                               "adguard", "portainer"}
    assert data["collection"]["module_digest"].startswith("sha256:")


def test_a_host_that_refuses_ssh_is_diagnosed_with_its_services_probed(servers: list[Any], pki: Pki,
                                                                       tmp_path: Path) -> None:
    """A real SSH attempt to a port where nothing listens: the five host components are
    unavailable (connection_failed), the probe still runs, the step succeeds."""
    closed = HttpReplayServer(b"")
    port = closed.port
    closed.close()  # nothing listens there any more
    portainer = HttpReplayServer(http_response("portainer_status"), server_context(pki.server_cert, pki.server_key))
    servers.append(portainer)
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    response = invoke({"host": "127.0.0.1", "port": port,
                       "portainer": {"base_url": f"https://127.0.0.1:{portainer.port}", "ca_file": str(pki.ca_file)}},
                      known_hosts_file=str(known_hosts), timeout_seconds=60)
    assert response.success, response.error
    components = response.data["facts"]["components"]
    assert {name: components[name]["reasons"] for name in ("inventory", "ntp", "ntp_server", "docker",
                                                           "host_security")} == dict.fromkeys(
        ["inventory", "ntp", "ntp_server", "docker", "host_security"], ["connection_failed"])
    assert components["portainer"]["status"] == "healthy"
    assert f"127.0.0.1:{port}" not in str(response.data) and str(port) not in str(response.data["facts"])


def test_a_ca_file_missing_on_the_controller_fails_the_step_by_name() -> None:
    """The configuration check sees a well-formed path; the action finds no file there."""
    response = invoke({"connection": "local", "portainer": {"base_url": "https://portainer.example.org:9443",
                                                            "ca_file": "/nonexistent/portainer-ca.pem"}})
    assert (response.success, response.data["error_class"]) == (False, "validation_failed")
    assert response.error == ("module failed on mon-01: monitoring_host_diagnosis: portainer.ca_file is not a "
                              "readable file")
