"""The three Zabbix modules, run in-process against real local HTTP and HTTPS servers.

The servers answer with the responses recorded on a real Zabbix 6.0.14 (tests/unit/data/zabbix)
and enforce 6.0's token rules (body ``auth`` only). A Zabbix 6.4 cannot run here; the "6.4"
server is composed from the documented rule (Bearer header only) and says so. TLS is real:
a throw-away CA and server certificates are generated per test session.
"""

from __future__ import annotations

import datetime
import os
import secrets
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.tecrax.ops.plugins.modules import (
    zabbix_api_reachability,
    zabbix_host_availability_summary,
    zabbix_problem_summary,
)
from unit.zabbix_replay import TOKEN, FakeZabbix, Server, serve_zabbix
from unit.module_runner import run_module


# --- certificates ----------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    other_ca_file: Path
    server_cert: Path  # for 127.0.0.1
    server_key: Path
    misnamed_cert: Path  # valid, but only for zabbix.invalid


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _certificate(subject: str, key: Any, issuer: tuple[str, Any] | None, san: x509.GeneralName | None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    issuer_name, issuer_key = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([san]), critical=False)
    if issuer is None:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(path: Path, *items: Any) -> Path:
    data = b""
    for item in items:
        if isinstance(item, x509.Certificate):
            data += item.public_bytes(serialization.Encoding.PEM)
        else:
            data += item.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
    path.write_bytes(data)
    return path


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    import ipaddress

    root = tmp_path_factory.mktemp("pki")
    ca_key, other_key, server_key = _key(), _key(), _key()
    ca = _certificate("Tecrax test CA", ca_key, None, None)
    other = _certificate("Some other CA", other_key, None, None)
    server = _certificate("zabbix", server_key, ("Tecrax test CA", ca_key),
                          x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    misnamed = _certificate("zabbix", server_key, ("Tecrax test CA", ca_key), x509.DNSName("zabbix.invalid"))
    return Pki(
        ca_file=_pem(root / "ca.pem", ca),
        other_ca_file=_pem(root / "other-ca.pem", other),
        server_cert=_pem(root / "server.pem", server),
        server_key=_pem(root / "server.key", server_key),
        misnamed_cert=_pem(root / "misnamed.pem", misnamed),
    )


@pytest.fixture
def serve(pki: Pki) -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(behaviour: str = "zabbix60", *, https: bool = False, cert: Path | None = None) -> Server:
        context = None
        if https:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert or pki.server_cert, pki.server_key)
        server = serve_zabbix(FakeZabbix(behaviour), context)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.zabbix.release.set()
        server.httpd.shutdown()
        server.httpd.server_close()


def run(module: Any, capsys: pytest.CaptureFixture[str], args: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
    return run_module(module.main, capsys, args)


# --- tests ------------------------------------------------------------------------------


@pytest.mark.parametrize("check_mode", [False, True])
def test_reachability_over_http(capsys: pytest.CaptureFixture[str], serve: Callable[..., Server],
                                facts_schema_errors: Any, check_mode: bool) -> None:
    server = serve()
    code, result = run(zabbix_api_reachability, capsys, {"api_url": server.url, "_ansible_check_mode": check_mode})[:2]
    assert code == 0 and result["changed"] is False
    facts = result["facts"]
    assert facts_schema_errors(facts, "zabbix_api_reachability.v1.schema.json") == []
    assert (facts["assessment"], facts["api_version"], facts["http_status"]) == ({"state": "healthy"}, "6.0.14", 200)
    assert facts["transport"] == {"scheme": "http", "tls_verified": False}
    (request,) = server.zabbix.seen
    assert request.body == {"jsonrpc": "2.0", "method": "apiinfo.version", "params": [], "id": 1}
    assert "authorization" not in request.headers and request.path == "/zabbix/api_jsonrpc.php"


def test_proxy_settings_of_the_environment_are_not_used(capsys: pytest.CaptureFixture[str],
                                                        serve: Callable[..., Server],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.setenv(name, "http://192.0.2.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    server = serve()
    result = run(zabbix_api_reachability, capsys, {"api_url": server.url, "timeout_seconds": 2})[1]
    assert result["facts"]["assessment"] == {"state": "healthy"}


def test_https_verified_against_the_pinned_ca(capsys: pytest.CaptureFixture[str], serve: Callable[..., Server],
                                              pki: Pki) -> None:
    server = serve(https=True)
    result = run(zabbix_api_reachability, capsys, {"api_url": server.url, "ca_file": str(pki.ca_file)})[1]
    assert result["facts"]["assessment"] == {"state": "healthy"}
    assert result["facts"]["transport"] == {"scheme": "https", "tls_verified": True}


@pytest.mark.parametrize("case", ["unknown-ca", "hostname-mismatch"])
def test_https_that_does_not_verify_is_unavailable(capsys: pytest.CaptureFixture[str], serve: Callable[..., Server],
                                                   pki: Pki, case: str) -> None:
    if case == "unknown-ca":
        server, ca_file = serve(https=True), pki.other_ca_file
    else:
        server, ca_file = serve(https=True, cert=pki.misnamed_cert), pki.ca_file
    result = run(zabbix_api_reachability, capsys, {"api_url": server.url, "ca_file": str(ca_file)})[1]
    facts = result["facts"]
    assert facts["coverage"] == {"state": "blocked", "blockers": ["tls_verification_failed"]}
    assert facts["assessment"] == {"state": "unavailable", "reasons": ["tls_verification_failed"]}
    assert facts["transport"] == {"scheme": "https", "tls_verified": False}
    assert server.zabbix.seen == []  # nothing was sent over the unverified connection


def test_plain_http_to_a_tls_port_is_unavailable(capsys: pytest.CaptureFixture[str],
                                                 serve: Callable[..., Server]) -> None:
    server = serve(https=True)
    url = server.url.replace("https://", "http://")
    result = run(zabbix_api_reachability, capsys, {"api_url": url, "timeout_seconds": 3})[1]
    assert result["facts"]["assessment"]["state"] == "unavailable"
    # The TLS server drops the plaintext request: reset or closed without an answer, by timing.
    assert result["facts"]["assessment"]["reasons"] in (["connection_failed"], ["http_protocol_error"])


def test_token_goes_into_the_body_for_zabbix_6_0(capsys: pytest.CaptureFixture[str],
                                                 serve: Callable[..., Server]) -> None:
    server = serve()
    result, output = run(zabbix_problem_summary, capsys, {"api_url": server.url, "api_token": TOKEN})[1:]
    facts = result["facts"]
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    assert facts["problems"] == {"not_classified": 0, "information": 1, "warning": 0, "average": 2, "high": 0,
                                 "disaster": 3}
    assert facts["auth_method"] == "body_auth"
    version_call, *counted = server.zabbix.seen
    assert "auth" not in version_call.body
    assert all(seen.body["auth"] == TOKEN and "authorization" not in seen.headers for seen in counted)
    assert len(counted) == 6
    assert TOKEN not in output


def test_token_goes_into_a_bearer_header_for_zabbix_6_4(capsys: pytest.CaptureFixture[str],
                                                        serve: Callable[..., Server]) -> None:
    server = serve("zabbix64")
    result, output = run(zabbix_host_availability_summary, capsys, {"api_url": server.url, "api_token": TOKEN})[1:]
    facts = result["facts"]
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    assert (facts["api_version"], facts["auth_method"]) == ("6.4.0", "bearer_header")
    assert facts["hosts"] == {"enabled": 4, "disabled": 1}
    assert facts["agent_availability"] == {"available": 1, "unavailable": 1, "unknown": 1,
                                           "without_agent_interface": 1}
    counted = server.zabbix.seen[1:]
    assert all(seen.headers["authorization"] == "Bearer " + TOKEN and "auth" not in seen.body for seen in counted)
    assert TOKEN not in output


@pytest.mark.parametrize("module", [zabbix_problem_summary, zabbix_host_availability_summary])
def test_wrong_token_is_unavailable_and_not_echoed(capsys: pytest.CaptureFixture[str], serve: Callable[..., Server],
                                                   module: Any) -> None:
    server = serve()
    wrong = secrets.token_hex(32)
    code, result, output = run(module, capsys, {"api_url": server.url, "api_token": wrong})
    assert code == 0
    assert result["facts"]["assessment"] == {"state": "unavailable", "reasons": ["authentication_rejected"]}
    assert len(server.zabbix.seen) == 2  # version, then one rejected call
    assert wrong not in output and TOKEN not in output


def test_redirects_are_not_followed(capsys: pytest.CaptureFixture[str], serve: Callable[..., Server]) -> None:
    server = serve("redirect")
    result = run(zabbix_problem_summary, capsys, {"api_url": server.url, "api_token": TOKEN})[1]
    assert result["facts"]["assessment"] == {"state": "unavailable", "reasons": ["http_error_status"]}
    assert [seen.path for seen in server.zabbix.seen] == ["/zabbix/api_jsonrpc.php"]


def test_oversized_answer_is_not_read(capsys: pytest.CaptureFixture[str], serve: Callable[..., Server]) -> None:
    server = serve("oversized")
    result = run(zabbix_api_reachability, capsys, {"api_url": server.url})[1]
    assert result["facts"]["assessment"] == {"state": "unhealthy", "reasons": ["response_too_large"]}


def test_api_that_never_answers_times_out(capsys: pytest.CaptureFixture[str], serve: Callable[..., Server]) -> None:
    server = serve("hang")
    result = run(zabbix_api_reachability, capsys, {"api_url": server.url, "timeout_seconds": 1})[1]
    assert result["facts"]["assessment"] == {"state": "unavailable", "reasons": ["timeout"]}
    assert [seen.body["method"] for seen in server.zabbix.seen] == ["apiinfo.version"]  # it was asked


def test_refused_connection_is_unavailable(capsys: pytest.CaptureFixture[str], serve: Callable[..., Server]) -> None:
    server = serve()
    port = int(server.url.split(":")[2].split("/")[0])
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    free_port = closed.server_address[1]
    closed.server_close()
    assert free_port != port
    url = f"http://127.0.0.1:{free_port}/zabbix/api_jsonrpc.php"
    result = run(zabbix_problem_summary, capsys, {"api_url": url, "api_token": TOKEN})[1]
    assert result["facts"]["assessment"] == {"state": "unavailable", "reasons": ["connection_failed"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"api_url": "http://127.0.0.1/zabbix/api_jsonrpc.php?token=x"}, "must not have a query or fragment"),
        ({"api_url": "https://127.0.0.1/zabbix/api_jsonrpc.php"}, "ca_file (an absolute path) is required"),
        ({"api_url": "https://127.0.0.1/zabbix/api_jsonrpc.php", "ca_file": "/nonexistent/ca.pem"},
         "ca_file is not a readable file"),
        ({"api_url": "http://127.0.0.1/zabbix/api_jsonrpc.php", "timeout_seconds": 600},
         "timeout_seconds must be an integer from 1 to 60"),
        ({"api_url": "http://127.0.0.1/zabbix/api_jsonrpc.php", "api_token": TOKEN + "\r\nX-Evil: 1"},
         "api_token must be 16 to 512 printable characters without blanks"),
        ({"api_url": "http://127.0.0.1/zabbix/api_jsonrpc.php", "api_token": ""},
         "api_token must be 16 to 512 printable characters without blanks"),
        ({"api_url": "http://127.0.0.1/zabbix/api_jsonrpc.php", "api_token": "qqqq"},  # secret-topology: allow a too-short test input
         "api_token must be 16 to 512 printable characters without blanks"),
        ({"api_url": "http://127.0.0.1/zabbix/api_jsonrpc.php", "api_token": TOKEN, "command": "id"},
         "Unsupported parameters"),
    ],
)
def test_bad_options_fail_with_a_named_error(capsys: pytest.CaptureFixture[str], args: dict[str, Any],
                                             message: str) -> None:
    args = {"api_token": TOKEN, **args}
    code, result, output = run(zabbix_problem_summary, capsys, args)
    assert code == 1 and result["failed"] is True
    assert message in result["msg"]
    assert "facts" not in result
    assert TOKEN not in output


def test_reachability_takes_no_token(capsys: pytest.CaptureFixture[str]) -> None:
    args = {"api_url": "http://127.0.0.1/zabbix/api_jsonrpc.php", "api_token": TOKEN}
    code, result = run(zabbix_api_reachability, capsys, args)[:2]
    assert code == 1 and "Unsupported parameters" in result["msg"] and "api_token" in result["msg"]


def test_token_from_a_named_pipe_is_read_once_and_used(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                       serve: Callable[..., Server]) -> None:
    server = serve()
    pipe = tmp_path / "token"
    os.mkfifo(pipe, 0o600)
    writer = threading.Thread(target=lambda: pipe.write_text(TOKEN + "\n"), daemon=True)
    writer.start()
    result, output = run(zabbix_problem_summary, capsys, {"api_url": server.url, "api_token_file": str(pipe)})[1:]
    writer.join(timeout=30)
    assert result["facts"]["coverage"] == {"state": "complete", "blockers": []}
    assert all(seen.body["auth"] == TOKEN for seen in server.zabbix.seen[1:])
    assert TOKEN not in output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "api_token_file cannot be read (No such file or directory)"),
        (TOKEN * 20, "api_token_file holds more than a token"),
        ("short\n", "api_token must be 16 to 512 printable characters without blanks"),
        (TOKEN + " trailing words\n", "api_token must be 16 to 512 printable characters without blanks"),
    ],
)
def test_bad_token_files_fail_with_a_named_error(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                 content: str | None, message: str) -> None:
    token_file = tmp_path / "token"
    if content is not None:
        token_file.write_text(content)
    args = {"api_url": "http://127.0.0.1/zabbix/api_jsonrpc.php", "api_token_file": str(token_file)}
    code, result, output = run(zabbix_problem_summary, capsys, args)
    assert code == 1 and message in result["msg"]
    assert TOKEN not in output


@pytest.mark.parametrize(
    ("token_args", "message"),
    [
        ({}, "one of the following is required: api_token, api_token_file"),
        ({"api_token": TOKEN, "api_token_file": "/etc/hostname"}, "mutually exclusive: api_token|api_token_file"),
    ],
)
def test_exactly_one_token_source(capsys: pytest.CaptureFixture[str], token_args: dict[str, str],
                                  message: str) -> None:
    args = {"api_url": "http://127.0.0.1/zabbix/api_jsonrpc.php", **token_args}
    code, result = run(zabbix_problem_summary, capsys, args)[:2]
    assert code == 1 and message in result["msg"]
