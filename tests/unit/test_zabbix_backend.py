"""The backend path of the Zabbix actions: per-target `zabbix` settings, the API token resolved
by reference, a real ansible-runner run of the bundled playbook on the controller (local
connection) against a local server answering with recorded Zabbix 6.0.14 responses.

The lab tests (tests/integration/test_zabbix.py) run the same path through RExecOp against a
real Zabbix; these keep the guards and the token handling checkable without a lab.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import ansible_runner
import pytest
from rexecop.connectors import ConnectorRequest

from tecrax.backend import build_backend
from tecrax.backend import runtime as backend_runtime
from tecrax.backend.config import ConfigError, parse_connector_config
from unit.backend_config import ssh_config
from unit.zabbix_replay import TOKEN, FakeZabbix, Server, serve_zabbix

TOKEN_REF = "zabbix_api_token"


class Resolver:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.asked: list[str] = []

    def resolve(self, ref: str) -> str:
        self.asked.append(ref)
        if ref not in self.values:
            raise KeyError(f"secret not found in environment: REXECOP_SECRET_{ref.upper()}")
        return self.values[ref]


def config(zabbix: dict[str, Any]) -> dict[str, Any]:
    return ssh_config({"web-1": {"host": "198.51.100.7"}, "zabbix-01": {"connection": "local", "zabbix": zabbix}},
                      timeout_seconds=60)


def invoke(action: str, zabbix: dict[str, Any], resolver: Resolver | None = None, target: str = "zabbix-01") -> Any:
    backend = build_backend(
        connector_name="tecrax_ansible",
        config=config(zabbix),
        secret_resolver=resolver or Resolver({TOKEN_REF: TOKEN}),
    )
    return backend.invoke(ConnectorRequest("tecrax_ansible", action, target, "observe", {}))


@pytest.fixture
def server() -> Iterator[Server]:
    served = serve_zabbix(FakeZabbix())
    yield served
    served.httpd.shutdown()
    served.httpd.server_close()


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The ansible-playbook command lines ansible-runner ran."""
    seen: list[list[str]] = []
    real_run = ansible_runner.run

    def recording_run(**kwargs: Any) -> Any:
        runner = real_run(**kwargs)
        seen.append([str(part) for part in runner.config.command])
        return runner

    monkeypatch.setattr(ansible_runner, "run", recording_run)
    return seen


@pytest.fixture
def no_playbook_runs(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []
    monkeypatch.setattr(backend_runtime, "run_playbook", lambda **kwargs: calls.append(kwargs))
    return calls


def test_problem_summary_through_the_backend(server: Server, commands: list[list[str]]) -> None:
    resolver = Resolver({TOKEN_REF: TOKEN})
    response = invoke("zabbix_problem_summary", {"api_url": server.url, "api_token_secret_ref": TOKEN_REF}, resolver)
    assert response.success, response.error
    facts = response.data["facts"]
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    assert facts["problems"] == {"not_classified": 0, "information": 1, "warning": 0, "average": 2, "high": 0,
                                 "disaster": 3}
    assert response.data["facts_key"] == "zabbix_problem_summary"
    assert resolver.asked == [TOKEN_REF]
    # The token reached the API in the body, and nowhere else: not in the step data, not on
    # the ansible-playbook command line (extra vars travel in a 0600 file).
    assert all(seen.body.get("auth") == TOKEN for seen in server.zabbix.seen[1:])
    assert TOKEN not in json.dumps(response.data)
    (command,) = commands
    assert not any(TOKEN in part for part in command)
    assert any(part.startswith("@") and part.endswith("env/extravars") for part in command)


def test_reachability_needs_no_secret(server: Server) -> None:
    resolver = Resolver({})
    response = invoke("zabbix_api_reachability", {"api_url": server.url}, resolver)
    assert response.success, response.error
    assert response.data["facts"]["assessment"] == {"state": "healthy"}
    assert response.data["facts"]["api_version"] == "6.0.14"
    assert resolver.asked == []


def test_rejected_token_is_facts_not_a_failed_step(server: Server) -> None:
    wrong = "f" * 64
    response = invoke("zabbix_host_availability_summary", {"api_url": server.url, "api_token_secret_ref": TOKEN_REF},
                      Resolver({TOKEN_REF: wrong}))
    assert response.success, response.error
    assert response.data["facts"]["assessment"] == {"state": "unavailable", "reasons": ["authentication_rejected"]}
    assert wrong not in json.dumps(response.data)


def test_unresolvable_token_refuses_before_ansible(no_playbook_runs: list[Any]) -> None:
    response = invoke("zabbix_problem_summary",
                      {"api_url": "http://198.51.100.9/zabbix/api_jsonrpc.php", "api_token_secret_ref": "missing_ref"},
                      Resolver({}))
    assert not response.success
    assert response.data["error_class"] == "auth_failed"
    assert response.error == "secret missing_ref could not be resolved"
    assert no_playbook_runs == []


def test_summary_without_a_token_reference_is_refused(no_playbook_runs: list[Any]) -> None:
    response = invoke("zabbix_problem_summary", {"api_url": "http://198.51.100.9/zabbix/api_jsonrpc.php"})
    assert response.data["error_class"] == "validation_failed"
    assert response.error == (
        "action zabbix_problem_summary needs inventory.zabbix-01.zabbix.api_token_secret_ref in the connector config"
    )
    assert no_playbook_runs == []


def test_target_without_zabbix_settings_is_refused(no_playbook_runs: list[Any]) -> None:
    response = invoke("zabbix_api_reachability", {"api_url": "http://198.51.100.9/zabbix/api_jsonrpc.php"},
                      target="web-1")
    assert response.data["error_class"] == "validation_failed"
    assert response.error == "action zabbix_api_reachability needs inventory.web-1.zabbix in the connector config"
    assert no_playbook_runs == []


@pytest.mark.parametrize(
    ("zabbix", "message"),
    [
        ({"api_url": "https://zabbix.example.org/zabbix/api_jsonrpc.php"},
         "inventory.zabbix-01.zabbix.ca_file (an absolute path) is required for an https api_url"),
        ({"api_url": "http://zabbix.example.org/zabbix/api_jsonrpc.php", "ca_file": "/etc/ssl/ca.pem"},
         "inventory.zabbix-01.zabbix.ca_file is only used with an https api_url"),
        ({"api_url": "https://zabbix.example.org/zabbix/api_jsonrpc.php", "ca_file": "relative/ca.pem"},
         "inventory.zabbix-01.zabbix.ca_file must be an absolute path without spaces or '..', of letters, digits"
         " and '._+@-/' only"),
        ({"api_url": "http://zabbix.example.org/zabbix/api_jsonrpc.php?debug=1"},
         "inventory.zabbix-01.zabbix.api_url must not have a query or fragment"),
        ({"api_url": "http://zabbix.example.org/zabbix/index.php"},
         "inventory.zabbix-01.zabbix.api_url path must end with the file api_jsonrpc.php (segments of letters, digits, '.', '_', '~', '-')"),
        ({"api_url": "http://zabbix.example.org/zabbix/api_jsonrpc.php", "api_token": "<inline token>"},
         "inventory.zabbix-01.zabbix.api_token is not a known key (known: api_url, ca_file, timeout_seconds)"),
        ({"api_url": "http://zabbix.example.org/zabbix/api_jsonrpc.php", "api_token_secret_ref": "a b"},
         "inventory.zabbix-01.zabbix.api_token_secret_ref must be a secret reference name ([A-Za-z0-9_-])"),
        ({"api_url": "http://zabbix.example.org/zabbix/api_jsonrpc.php", "timeout_seconds": 61},
         "inventory.zabbix-01.zabbix.timeout_seconds must be an integer from 1 to 60"),
        ("http://zabbix.example.org/zabbix/api_jsonrpc.php", "inventory.zabbix-01.zabbix must be a mapping"),
    ],
)
def test_bad_zabbix_settings_are_refused_by_name(no_playbook_runs: list[Any], zabbix: Any, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_connector_config(config(zabbix))
    assert str(refused.value) == message
    response = invoke("zabbix_api_reachability", zabbix)
    assert response.data["error_class"] == "validation_failed"
    assert response.error == "connector config: " + message
    assert no_playbook_runs == []


def test_zabbix_settings_of_an_ssh_target_are_used_from_the_controller(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Zabbix frontend of a monitoring host reached over SSH is still asked from the controller."""
    raw = config({"api_url": "http://zabbix.example.org/zabbix/api_jsonrpc.php"})
    raw["inventory"]["zabbix-01"]["connection"] = "ssh"
    raw["inventory"]["zabbix-01"]["host"] = "198.51.100.8"
    assert parse_connector_config(raw).host_for("zabbix-01").connection == "ssh"
    calls: list[Any] = []
    monkeypatch.setattr(backend_runtime, "run_playbook", lambda **kwargs: calls.append(kwargs))
    build_backend(connector_name="tecrax_ansible", config=raw).invoke(
        ConnectorRequest("tecrax_ansible", "zabbix_api_reachability", "zabbix-01", "observe", {}))
    (call,) = calls
    assert call["hosts"][0].variables["ansible_connection"] == "local"


def test_valid_settings_are_normalized() -> None:
    parsed = parse_connector_config(config({
        "api_url": "https://zabbix.example.org/zabbix/api_jsonrpc.php",
        "ca_file": "/etc/tecrax/zabbix-ca.pem",
        "api_token_secret_ref": TOKEN_REF,
    }))
    host = parsed.host_for("zabbix-01")
    assert host is not None and host.connection == "local"
    assert host.inputs["zabbix"] == {
        "api_url": "https://zabbix.example.org/zabbix/api_jsonrpc.php",
        "ca_file": "/etc/tecrax/zabbix-ca.pem",
        "api_token_secret_ref": TOKEN_REF,
        "timeout_seconds": 10,
    }
