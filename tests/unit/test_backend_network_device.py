"""The backend side of the network-device slice: the validated `network_device` settings block,
the module run on the controller (local connection) for any target, and what reaches ansible-runner (no real run here; the lab
integration test tests/integration/test_network_device.py runs it for real)."""

from __future__ import annotations

from typing import Any

import pytest
from rexecop.connectors import ConnectorRequest

from tecrax.backend import build_backend
from tecrax.backend.config import ConfigError, parse_connector_config

WRAPPER = "/opt/tecrax/tecrax-network-cli-readonly"
MIXED_CONFIG: dict[str, Any] = {
    "connection": "ssh",
    "user": "root",
    "known_hosts_file": "/nonexistent/known_hosts",
    "identity_file_secret_ref": "unresolvable_key",
    "inventory": {
        "web-1": {"host": "198.51.100.7"},
        "core-sw-01": {"connection": "local", "network_device": {"wrapper_path": WRAPPER}},
        "edge-sw-02": {"connection": "local",
                       "network_device": {"wrapper_path": WRAPPER, "timeout_seconds": 90}},
    },
}


def invoke(action: str, target: str, config: Any = None) -> Any:
    runtime = build_backend(connector_name="tecrax_ansible", config=config or MIXED_CONFIG,
                            profile_root=None, mutating_allowed=False)
    return runtime.invoke(ConnectorRequest("tecrax_ansible", action, target, "observe", {}))


def test_settings_are_parsed_with_defaults() -> None:
    config = parse_connector_config(MIXED_CONFIG)
    switch = config.host_for("core-sw-01")
    assert switch is not None
    assert (switch.connection, switch.host) == ("local", "localhost")
    assert switch.inputs["network_device"] == {"wrapper_path": WRAPPER, "timeout_seconds": 30}
    assert config.host_for("edge-sw-02").inputs["network_device"]["timeout_seconds"] == 90
    web = config.host_for("web-1")
    assert (web.connection, web.inputs.get("network_device")) == ("ssh", None)


def test_connector_wide_local_connection_keeps_the_settings() -> None:
    config = parse_connector_config({
        "connection": "local",
        "inventory": {"core-sw-01": {"network_device": {"wrapper_path": WRAPPER}}},
    })
    switch = config.host_for("core-sw-01")
    assert switch.connection == "local" and switch.inputs["network_device"]["wrapper_path"] == WRAPPER


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"connection": "telnet"}, "inventory.sw.connection must be one of ssh, local"),
        ({"connection": "local", "network_device": "yes"}, "inventory.sw.network_device must be a mapping"),
        ({"connection": "local", "network_device": {"wrapper_path": WRAPPER, "command": "x"}},
         "inventory.sw.network_device.command is not a known key"),
        ({"connection": "local", "network_device": {}},
         "inventory.sw.network_device.wrapper_path must be an absolute path"),
        ({"connection": "local", "network_device": {"wrapper_path": "/bin/sh"}},
         "inventory.sw.network_device.wrapper_path must name a file called tecrax-network-cli-readonly"),
        ({"connection": "local", "network_device": {"wrapper_path": "tecrax-network-cli-readonly"}},
         "inventory.sw.network_device.wrapper_path must be an absolute path"),
        ({"connection": "local", "network_device": {"wrapper_path": "/opt/../tecrax-network-cli-readonly"}},
         "must be an absolute path without spaces or '..'"),
        ({"connection": "local", "network_device": {"wrapper_path": "/opt/./tecrax-network-cli-readonly"}},
         "wrapper_path must be normalised (no '.', '..' or empty parts)"),
        ({"connection": "local", "network_device": {"wrapper_path": "/opt//tecrax-network-cli-readonly"}},
         "wrapper_path must be normalised (no '.', '..' or empty parts)"),
        ({"connection": "local", "network_device": {"wrapper_path": WRAPPER + " system-info"}},
         "must be an absolute path without spaces"),
        ({"connection": "local", "network_device": {"wrapper_path": WRAPPER, "timeout_seconds": 0}},
         "inventory.sw.network_device.timeout_seconds must be an integer from 1 to 300"),
        ({"connection": "local", "network_device": {"wrapper_path": WRAPPER, "timeout_seconds": "30"}},
         "inventory.sw.network_device.timeout_seconds must be an integer"),
    ],
)
def test_bad_settings_are_refused_with_the_key_named(entry: dict[str, Any], message: str,
                                                     playbook_runs: list[Any]) -> None:
    config = {**MIXED_CONFIG, "inventory": {"sw": entry}}
    with pytest.raises(ConfigError) as raised:
        parse_connector_config(config)
    assert message in str(raised.value)
    response = invoke("network_device_inventory", "sw", config)
    assert response.data["error_class"] == "validation_failed"
    assert playbook_runs == []


def test_target_without_settings_is_refused_before_ansible(playbook_runs: list[Any]) -> None:
    response = invoke("network_device_posture", "web-1")
    assert response.data["error_class"] == "validation_failed"
    assert "needs inventory.web-1.network_device" in response.error
    assert playbook_runs == []


@pytest.mark.parametrize("action", ["network_device_inventory", "network_device_posture"])
def test_local_target_runs_on_the_controller_with_its_settings(action: str, playbook_runs: list[Any]) -> None:
    invoke(action, "core-sw-01")
    (call,) = playbook_runs
    assert call["playbook"] == f"playbooks/{action}.yml"
    assert call["module"] == f"tecrax.ops.{action}"
    (host,) = call["hosts"]
    assert host.name == "core-sw-01"
    assert host.variables["ansible_connection"] == "local"
    assert "ansible_host" not in host.variables
    assert "ansible_ssh_private_key_file" not in host.variables
    assert call["extravars"] == {"tecrax_network_device": {"wrapper_path": WRAPPER, "timeout_seconds": 30}}


def test_ssh_target_with_device_settings_runs_them_on_the_controller(playbook_runs: list[Any]) -> None:
    """The wrapper and its settings live on the controller: the module runs there whatever the
    target's own connection."""
    config = {**MIXED_CONFIG, "inventory": {"sw": {"host": "198.51.100.9", "network_device": {"wrapper_path": WRAPPER}}}}
    invoke("network_device_inventory", "sw", config)
    (call,) = playbook_runs
    (host,) = call["hosts"]
    assert host.variables["ansible_connection"] == "local"
    assert "ansible_host" not in host.variables and "ansible_ssh_private_key_file" not in host.variables


def test_ssh_target_of_the_same_connector_still_uses_ssh(playbook_runs: list[Any]) -> None:
    # The identity secret cannot be resolved: an SSH target needs it, a local one never asks.
    response = invoke("host_inventory", "web-1")
    assert response.data["error_class"] == "auth_failed"
    assert playbook_runs == []
