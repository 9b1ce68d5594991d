"""The DNS and HTTP(S) client of the AdGuard Home and Portainer checks, against real local
servers on 127.0.0.1 replaying the answers recorded from the lab's stand-ins (unbound and
nginx), with real TLS: certificates from a test CA made with openssl for this session."""

from __future__ import annotations

import http.client
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.tecrax.ops.plugins.module_utils.services.dns_wire import build_query, parse_reply
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_endpoints import WebEndpoint, parse_web_url
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_probes import (
    MAX_STRAY_DATAGRAMS,
    DnsExchange,
    HttpExchange,
    TlsSetupError,
    dns_exchange,
    http_failure,
    http_get,
    tls_context,
)
from unit.openssl_pki import Pki
from unit.service_replay import DnsReplayServer, HttpReplayServer, dns_reply, http_response, recorded_dns, server_context

NAME = "adguard-probe.tecrax-lab.test"


def closed_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- DNS over UDP --------------------------------------------------------------------------


def test_recorded_reply_comes_back_for_our_query(servers: list[Any]) -> None:
    server = DnsReplayServer(recorded_dns("addresses"))
    servers.append(server)
    exchange = dns_exchange("127.0.0.1", server.port, build_query(NAME, 4242), 4242, 2)
    assert exchange.failure is None
    assert parse_reply(exchange.message, 4242, NAME).address_records == 2
    assert server.queries == [build_query(NAME, 4242)]


def test_silent_resolver_times_out_after_asking_twice(servers: list[Any]) -> None:
    server = DnsReplayServer(lambda query: [])
    servers.append(server)
    assert dns_exchange("127.0.0.1", server.port, build_query(NAME, 7), 7, 1) == DnsExchange("timeout")
    assert server.queries == [build_query(NAME, 7)] * 2


def test_closed_port_is_connection_refused() -> None:
    port = closed_port(socket.SOCK_DGRAM)
    assert dns_exchange("127.0.0.1", port, build_query(NAME, 7), 7, 3) == DnsExchange("connection_refused")


def test_unsendable_destination_is_a_network_error() -> None:
    # Broadcast without SO_BROADCAST: the kernel refuses to send (EACCES), nothing leaves.
    assert dns_exchange("255.255.255.255", 53, build_query(NAME, 7), 7, 1) == DnsExchange("network_error")


def test_stray_datagrams_are_skipped(servers: list[Any]) -> None:
    reply = dns_reply("nxdomain")

    def answer(query: bytes) -> list[bytes]:
        wrong_id = bytes((query[0] ^ 0xFF, query[1]))
        return [b"junk", wrong_id + reply[2:], query, query[:2] + reply[2:]]

    server = DnsReplayServer(answer)
    servers.append(server)
    exchange = dns_exchange("127.0.0.1", server.port, build_query(NAME, 300), 300, 2)
    assert parse_reply(exchange.message, 300, "missing.tecrax-lab.test").rcode == 3


def test_endless_strays_end_in_the_last_one(servers: list[Any]) -> None:
    server = DnsReplayServer(lambda query: [b"junk-%d" % n for n in range(MAX_STRAY_DATAGRAMS + 5)])
    servers.append(server)
    exchange = dns_exchange("127.0.0.1", server.port, build_query(NAME, 300), 300, 2)
    assert exchange == DnsExchange(message=b"junk-%d" % (MAX_STRAY_DATAGRAMS - 1))
    assert parse_reply(exchange.message, 300, NAME).malformed


# --- HTTP and TLS ----------------------------------------------------------------------------


def serve(servers: list[Any], case: str, context: ssl.SSLContext | None = None, **options: Any) -> HttpReplayServer:
    server = HttpReplayServer(http_response(case), context, **options)
    servers.append(server)
    return server


def endpoint(port: int, scheme: str = "http", prefix: str = "") -> WebEndpoint:
    return parse_web_url(f"{scheme}://127.0.0.1:{port}{prefix}", "url")


def test_recorded_login_page_over_http(servers: list[Any]) -> None:
    server = serve(servers, "login_302")
    exchange = http_get(endpoint(server.port, prefix="/noauth"), "/login.html", None, 2, 65536)
    assert (exchange.failure, exchange.status, exchange.truncated, exchange.tls_verified) == (None, 302, False, False)
    request = server.requests[0].decode()
    assert request.startswith("GET /noauth/login.html HTTP/1.1\r\n")
    headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in request.split("\r\n")[1:] if line}
    assert headers == {"host": f"127.0.0.1:{server.port}", "accept-encoding": "identity",
                       "user-agent": "tecrax.ops-readonly", "accept": "*/*", "connection": "close"}


def test_recorded_status_over_verified_tls(servers: list[Any], pki: Pki) -> None:
    server = serve(servers, "portainer_status", server_context(pki.server_cert, pki.server_key))
    exchange = http_get(endpoint(server.port, "https"), "/api/status", tls_context(str(pki.ca_file)), 2, 65536,
                        accept="application/json")
    assert exchange.failure is None and exchange.status == 200 and exchange.tls_verified is True
    assert exchange.body.startswith(b'{"Version":"2.19.4"')


@pytest.mark.parametrize(
    ("cert", "ca", "failure"),
    [
        ("server_cert", "other_ca_file", "tls_unknown_ca"),
        ("server_cert", "server_cert", "tls_unknown_ca"),  # a leaf is no trust anchor
        ("misnamed_cert", "ca_file", "tls_hostname_mismatch"),
        ("expired_cert", "ca_file", "tls_certificate_expired"),
        ("future_cert", "ca_file", "tls_certificate_not_yet_valid"),
    ],
)
def test_certificate_failures_are_named(servers: list[Any], pki: Pki, cert: str, ca: str, failure: str) -> None:
    server = serve(servers, "portainer_status", server_context(getattr(pki, cert), pki.server_key))
    exchange = http_get(endpoint(server.port, "https"), "/api/status", tls_context(str(getattr(pki, ca))), 2, 65536)
    assert exchange == HttpExchange(failure=failure)
    assert server.requests == []  # nothing was sent over the unverified connection


def test_pinned_self_signed_server_certificate_is_trusted(servers: list[Any], pki: Pki) -> None:
    server = serve(servers, "portainer_status", server_context(pki.self_signed_cert, pki.self_signed_key))
    exchange = http_get(endpoint(server.port, "https"), "/api/status", tls_context(str(pki.self_signed_cert)), 2, 65536)
    assert (exchange.failure, exchange.status, exchange.tls_verified) == (None, 200, True)
    # ... and only where it was pinned: the test CA does not vouch for it.
    exchange = http_get(endpoint(server.port, "https"), "/api/status", tls_context(str(pki.ca_file)), 2, 65536)
    assert exchange == HttpExchange(failure="tls_unknown_ca")


def test_plain_http_port_is_tls_required(servers: list[Any], pki: Pki) -> None:
    server = serve(servers, "tls_hello_to_plain_port", whole_request=False)
    exchange = http_get(endpoint(server.port, "https"), "/api/status", tls_context(str(pki.ca_file)), 2, 65536)
    assert exchange == HttpExchange(failure="tls_required")


def test_refused_silent_and_garbled_servers(pki: Pki) -> None:
    assert http_get(endpoint(closed_port(socket.SOCK_STREAM)), "/", None, 2, 100) == HttpExchange(
        failure="connection_refused")
    with socket.socket() as silent:  # listens, never accepts: connect works, no answer comes
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        assert http_get(endpoint(silent.getsockname()[1]), "/", None, 1, 100) == HttpExchange(failure="timeout")


def test_a_non_http_answer_is_a_protocol_error(servers: list[Any]) -> None:
    server = HttpReplayServer(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n\r\n")
    servers.append(server)
    assert http_get(endpoint(server.port), "/login.html", None, 2, 100) == HttpExchange(failure="http_protocol_error")


def test_body_is_read_up_to_the_limit(servers: list[Any]) -> None:
    server = serve(servers, "login_500")
    raw_body = http_response("login_500").partition(b"\r\n\r\n")[2]
    exact = http_get(endpoint(server.port), "/broken/login.html", None, 2, len(raw_body))
    assert (exact.status, exact.body, exact.truncated) == (500, raw_body, False)
    cut = http_get(endpoint(server.port), "/broken/login.html", None, 2, 10)
    assert (cut.status, cut.body, cut.truncated) == (500, raw_body[:10], True)


def test_a_body_that_never_arrives_is_a_timeout(servers: list[Any]) -> None:
    server = serve(servers, "login_200", hold_body=True)
    assert http_get(endpoint(server.port), "/login.html", None, 1, 65536) == HttpExchange(failure="timeout")
    assert len(server.requests) == 1  # the request was read and the head sent


def test_tls_context_needs_a_ca_certificate(pki: Pki, tmp_path: Path) -> None:
    context = tls_context(str(pki.ca_file))
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert [cert["subject"] for cert in context.get_ca_certs()] == [((("commonName", "Tecrax test ca"),),)]
    assert context.cert_store_stats()["x509"] == 1  # the system trust store is not loaded
    for content in ("", "not a certificate\n", pki.server_key.read_text()):
        bad = tmp_path / "bad.pem"
        bad.write_text(content)
        with pytest.raises(TlsSetupError):
            tls_context(str(bad))
    with pytest.raises(TlsSetupError):
        tls_context(str(tmp_path / "missing.pem"))


def test_https_without_a_context_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        http_get(endpoint(443, "https"), "/", None, 1, 1)


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (socket.timeout("timed out"), "timeout"),
        (ConnectionResetError(), "connection_failed"),
        (socket.gaierror(-2, "Name or service not known"), "connection_failed"),
        (http.client.RemoteDisconnected("closed"), "http_protocol_error"),
        (http.client.LineTooLong("header line"), "http_protocol_error"),
        (ssl.SSLEOFError(8, "EOF occurred in violation of protocol"), "tls_handshake_failed"),
        (ValueError("odd"), "transport_error"),
    ],
)
def test_failures_of_other_kinds(error: BaseException, failure: str) -> None:
    assert http_failure(error) == failure
