"""What the common transport sets on Ansible's open_url machinery, against real local servers:
no proxy and no .netrc from the environment, no redirect followed, wrapped errors named.

(The GET/TLS behaviour it gives the AdGuard Home and Portainer checks is tested through their
``http_get`` in test_service_probes.py, and the Zabbix POSTs in test_zabbix_modules.py.)
"""

from __future__ import annotations

import socket
import ssl
import urllib.error
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.tecrax.ops.plugins.module_utils.common.http_transport import http_failure, http_request
from unit.service_replay import HttpReplayServer, http_response


def login_page(servers: list[Any]) -> HttpReplayServer:
    server = HttpReplayServer(http_response("login_200"))
    servers.append(server)
    return server


def test_proxy_settings_of_the_environment_are_not_used(servers: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://192.0.2.1:9")
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    server = login_page(servers)
    exchange = http_request(f"http://127.0.0.1:{server.port}/login.html", None, 2, 65536)
    assert (exchange.failure, exchange.status) == (None, 200)
    assert server.requests[0].startswith(b"GET /login.html HTTP/1.1\r\n")  # not a proxy's absolute URL


def test_netrc_credentials_are_not_sent(servers: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login operator password netrc-secret\n")  # secret-topology: allow test input
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    server = login_page(servers)
    assert http_request(f"http://127.0.0.1:{server.port}/login.html", None, 2, 65536).status == 200
    assert b"authorization" not in server.requests[0].lower()


def test_a_redirect_is_an_answer_and_is_not_followed(servers: list[Any]) -> None:
    body = b"moved"
    server = HttpReplayServer(b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: %d\r\n\r\n%s"
                              % (len(body), body))
    servers.append(server)
    exchange = http_request(f"http://127.0.0.1:{server.port}/login.html", None, 2, 65536)
    assert (exchange.failure, exchange.status, exchange.body) == (None, 302, body)
    assert len(server.requests) == 1


def _ssl_error(reason: str) -> ssl.SSLError:
    error = ssl.SSLError(1, "[SSL] " + reason)
    error.reason = reason
    return error


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (urllib.error.URLError(ConnectionRefusedError(111, "refused")), "connection_refused"),
        (urllib.error.URLError(socket.timeout("timed out")), "timeout"),
        (urllib.error.URLError("timed out"), "timeout"),
        (urllib.error.URLError("unknown url type: ftp"), "transport_error"),
        (urllib.error.URLError(_ssl_error("WRONG_VERSION_NUMBER")), "tls_required"),
        (_ssl_error("CERTIFICATE_VERIFY_FAILED"), "tls_certificate_rejected"),
        (urllib.error.URLError(socket.gaierror(-2, "Name or service not known")), "connection_failed"),
    ],
)
def test_errors_urllib_wraps_are_named_by_their_cause(error: BaseException, failure: str) -> None:
    assert http_failure(error) == failure
