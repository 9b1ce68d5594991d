"""tecrax.ops.adguard_health and tecrax.ops.portainer_health, run in-process against local
servers on 127.0.0.1 replaying what the lab's stand-ins for AdGuard Home and Portainer (unbound
and nginx) answered, with real TLS from an openssl-made test CA."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ansible_collections.tecrax.ops.plugins.module_utils.services.dns_wire import build_query
from ansible_collections.tecrax.ops.plugins.modules import adguard_health, portainer_health
from unit.openssl_pki import Pki
from unit.service_replay import DNS_REPLIES, DnsReplayServer, HttpReplayServer, http_response, recorded_dns, server_context
from unit.module_runner import run_module

ADGUARD_SCHEMA = "adguard_reachability.v1.schema.json"
PORTAINER_SCHEMA = "portainer_reachability.v1.schema.json"
PROBE = DNS_REPLIES["addresses"]["query_name"]


def dns(servers: list[Any], case: str = "addresses") -> DnsReplayServer:
    server = DnsReplayServer(recorded_dns(case))
    servers.append(server)
    return server


def web(servers: list[Any], case: str, cert: Any = None, key: Any = None) -> HttpReplayServer:
    server = HttpReplayServer(http_response(case), server_context(cert, key) if cert else None)
    servers.append(server)
    return server


def run(module: Any, capsys: pytest.CaptureFixture[str], args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return run_module(module.main, capsys, args)[:2]


# --- adguard_health --------------------------------------------------------------------------


@pytest.mark.parametrize("check_mode", [False, True])
def test_adguard_healthy(capsys: pytest.CaptureFixture[str], servers: list[Any], facts_schema_errors: Any,
                         check_mode: bool) -> None:
    resolver, page = dns(servers), web(servers, "login_200")
    code, result = run(adguard_health, capsys, {
        "dns_server": "127.0.0.1", "dns_port": resolver.port, "query_name": PROBE,
        "web_url": f"http://127.0.0.1:{page.port}", "_ansible_check_mode": check_mode})
    assert code == 0 and result["changed"] is False
    facts = result["facts"]
    assert facts_schema_errors(facts, ADGUARD_SCHEMA) == []
    assert facts["assessment"] == {"state": "healthy"}
    assert facts["dns"] == {"outcome": "addresses_returned", "rcode": "NOERROR", "address_records": 2,
                            "recursion_available": True}
    assert facts["login_page"] == {"outcome": "expected_status", "http_status": 200, "scheme": "http",
                                   "tls_verified": False}
    (query,) = resolver.queries
    assert query[2:] == build_query(PROBE, 0)[2:]
    assert page.requests[0].startswith(b"GET /login.html HTTP/1.1\r\n")


def test_adguard_redirect_over_pinned_tls_with_proxies_in_the_environment(
    capsys: pytest.CaptureFixture[str], servers: list[Any], pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://192.0.2.1:9")
    resolver, page = dns(servers), web(servers, "login_302", pki.server_cert, pki.server_key)
    result = run(adguard_health, capsys, {
        "dns_server": "127.0.0.1", "dns_port": resolver.port, "query_name": PROBE + ".",
        "web_url": f"https://127.0.0.1:{page.port}/noauth", "ca_file": str(pki.ca_file)})[1]
    assert result["facts"]["assessment"] == {"state": "healthy"}
    assert result["facts"]["login_page"] == {"outcome": "expected_status", "http_status": 302, "scheme": "https",
                                             "tls_verified": True}
    assert page.requests[0].startswith(b"GET /noauth/login.html HTTP/1.1\r\n")


def test_adguard_default_query_name_and_question_check(capsys: pytest.CaptureFixture[str], servers: list[Any]) -> None:
    """The recorded reply answers another name than the default one: it must not count."""
    resolver, page = dns(servers), web(servers, "login_200")
    facts = run(adguard_health, capsys, {"dns_server": "127.0.0.1", "dns_port": resolver.port,
                                         "web_url": f"http://127.0.0.1:{page.port}"})[1]["facts"]
    assert b"\x07example\x03com\x00" in resolver.queries[0]
    assert facts["dns"]["outcome"] == "malformed_response"
    assert facts["assessment"] == {"state": "unhealthy", "reasons": ["dns_malformed_response"]}


def test_adguard_nxdomain_and_login_500(capsys: pytest.CaptureFixture[str], servers: list[Any]) -> None:
    resolver, page = dns(servers, "nxdomain"), web(servers, "login_500")
    facts = run(adguard_health, capsys, {
        "dns_server": "127.0.0.1", "dns_port": resolver.port, "query_name": DNS_REPLIES["nxdomain"]["query_name"],
        "web_url": f"http://127.0.0.1:{page.port}/broken"})[1]["facts"]
    assert facts["assessment"] == {"state": "unhealthy", "reasons": ["dns_nxdomain", "login_unexpected_status"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"dns_server": "adguard.example.org"}, "adguard_health: dns_server must be an IPv4 or IPv6 address"),
        ({"web_url": "https://127.0.0.1"}, "adguard_health: ca_file (an absolute path) is required for an https web_url"),
        ({"ca_file": "/etc/ssl/ca.pem"}, "adguard_health: ca_file is only used with an https web_url"),
        ({"web_url": "https://127.0.0.1", "ca_file": "/nonexistent/ca.pem"}, "adguard_health: ca_file is not a readable file"),
        ({"query_name": "bad name"},
         "adguard_health: query_name must be a DNS name of at least two labels (letters, digits, '-'), at most 253 characters"),
        ({"dns_port": 70000}, "adguard_health: dns_port must be an integer from 1 to 65535"),
        ({"timeout_seconds": 0}, "adguard_health: timeout_seconds must be an integer from 1 to 60"),
    ],
)
def test_adguard_bad_options_fail_the_task(capsys: pytest.CaptureFixture[str], args: dict[str, Any],
                                           message: str) -> None:
    base = {"dns_server": "127.0.0.1", "web_url": "http://127.0.0.1"}
    code, result = run(adguard_health, capsys, {**base, **args})
    assert (code, result["failed"], result["msg"]) == (1, True, message)
    assert "facts" not in result


def test_adguard_ca_file_that_is_no_certificate_fails_the_task(capsys: pytest.CaptureFixture[str], pki: Pki) -> None:
    code, result = run(adguard_health, capsys, {"dns_server": "127.0.0.1", "web_url": "https://127.0.0.1",
                                                "ca_file": str(pki.directory / "index.txt")})
    assert (code, result["msg"]) == (1, "adguard_health: ca_file holds no usable PEM CA certificate")


# --- portainer_health ------------------------------------------------------------------------


def test_portainer_healthy(capsys: pytest.CaptureFixture[str], servers: list[Any], pki: Pki,
                           facts_schema_errors: Any) -> None:
    server = web(servers, "portainer_status", pki.server_cert, pki.server_key)
    code, result = run(portainer_health, capsys, {"base_url": f"https://127.0.0.1:{server.port}",
                                                  "ca_file": str(pki.ca_file)})
    facts = result["facts"]
    assert code == 0 and result["changed"] is False
    assert facts_schema_errors(facts, PORTAINER_SCHEMA) == []
    assert (facts["assessment"], facts["portainer_version"], facts["http_status"], facts["transport"]) == (
        {"state": "healthy"}, "2.19.4", 200, {"scheme": "https", "tls_verified": True})
    assert "6f1c5b7e-3d0a-4c1e-9b7f-2a8d4e6c0b19" not in json.dumps(result)
    assert b"\r\nAccept: application/json\r\n" in server.requests[0]


@pytest.mark.parametrize(
    ("cert", "ca", "reason"),
    [("server_cert", "other_ca_file", "tls_unknown_ca"), ("misnamed_cert", "ca_file", "tls_hostname_mismatch"),
     ("expired_cert", "ca_file", "tls_certificate_expired")],
)
def test_portainer_tls_failures(capsys: pytest.CaptureFixture[str], servers: list[Any], pki: Pki, cert: str, ca: str,
                                reason: str) -> None:
    server = web(servers, "portainer_status", getattr(pki, cert), pki.server_key)
    facts = run(portainer_health, capsys, {"base_url": f"https://127.0.0.1:{server.port}",
                                           "ca_file": str(getattr(pki, ca))})[1]["facts"]
    assert facts["assessment"] == {"state": "unavailable", "reasons": [reason]}
    assert server.requests == []


def test_portainer_plain_http_port(capsys: pytest.CaptureFixture[str], servers: list[Any], pki: Pki) -> None:
    server = HttpReplayServer(http_response("tls_hello_to_plain_port"), whole_request=False)
    servers.append(server)
    facts = run(portainer_health, capsys, {"base_url": f"https://127.0.0.1:{server.port}",
                                           "ca_file": str(pki.ca_file)})[1]["facts"]
    assert facts["assessment"] == {"state": "unavailable", "reasons": ["tls_required"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"base_url": "http://127.0.0.1:9000"}, "portainer_health: base_url must start with https:// (only verified TLS is used)"),
        ({"ca_file": "relative.pem"}, "portainer_health: ca_file (an absolute path) is required for an https base_url"),
        ({"base_url": "https://127.0.0.1/api?x=1"}, "portainer_health: base_url must not have a query or fragment"),
        ({"timeout_seconds": 61}, "portainer_health: timeout_seconds must be an integer from 1 to 60"),
    ],
)
def test_portainer_bad_options_fail_the_task(capsys: pytest.CaptureFixture[str], pki: Pki, args: dict[str, Any],
                                             message: str) -> None:
    code, result = run(portainer_health, capsys, {"base_url": "https://127.0.0.1:9443", "ca_file": str(pki.ca_file),
                                                  **args})
    assert (code, result["msg"]) == (1, message)


def test_portainer_needs_a_ca_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run(portainer_health, capsys, {"base_url": "https://127.0.0.1:9443"})
    assert code == 1 and result["msg"] == "missing required arguments: ca_file"
