# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The network I/O of the AdGuard Home and Portainer checks: one DNS query over UDP and one
HTTP GET, each bounded in time and size, each reduced to a named outcome.

- DNS: a connected UDP socket to the resolver, so that an ICMP "port unreachable" comes back
  as ``connection_refused`` instead of a silent timeout. The query is sent once and repeated
  once at half of ``timeout_seconds``; datagrams that are not a reply with our id are skipped
  (at most MAX_STRAY_DATAGRAMS, after which the last one is handed on and parses as
  malformed). Nothing else is read.
- HTTP: ``http.client`` directly, so nothing is implied: no proxy from the environment, no
  redirects (a 302 is an answer), no cookies, no compression, ``Connection: close``, at most
  ``max_bytes + 1`` body bytes read. https is verified against the operator's CA file only
  (``tls_context``: no system trust store), host name or IP address checked, TLS 1.2 or newer.
  A failed verification is named after OpenSSL's verification code, so the operator learns
  *why* the pinned CA did not accept the server; nothing ever falls back to an unverified or
  plain connection.

No exception text (which can quote addresses or certificate names) leaves this module.
"""

from __future__ import annotations

import http.client
import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Optional

from ansible_collections.tecrax.ops.plugins.module_utils.services.dns_wire import reply_id
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_endpoints import WebEndpoint

USER_AGENT = "tecrax.ops-readonly"
MAX_DATAGRAM_BYTES = 4096
MAX_STRAY_DATAGRAMS = 16
_READ_CHUNK = 8192

# Transport outcomes of the DNS query (no reply came back).
DNS_TIMEOUT = "timeout"
DNS_CONNECTION_REFUSED = "connection_refused"
DNS_NETWORK_ERROR = "network_error"
DNS_FAILURES = (DNS_TIMEOUT, DNS_CONNECTION_REFUSED, DNS_NETWORK_ERROR)

# Transport outcomes of the HTTP GET (no HTTP answer came back).
TIMEOUT = "timeout"
CONNECTION_REFUSED = "connection_refused"
CONNECTION_FAILED = "connection_failed"
HTTP_PROTOCOL_ERROR = "http_protocol_error"
TLS_UNKNOWN_CA = "tls_unknown_ca"
TLS_HOSTNAME_MISMATCH = "tls_hostname_mismatch"
TLS_CERTIFICATE_EXPIRED = "tls_certificate_expired"
TLS_CERTIFICATE_NOT_YET_VALID = "tls_certificate_not_yet_valid"
TLS_CERTIFICATE_REJECTED = "tls_certificate_rejected"
TLS_REQUIRED = "tls_required"
TLS_HANDSHAKE_FAILED = "tls_handshake_failed"
TRANSPORT_ERROR = "transport_error"
TLS_FAILURES = (TLS_UNKNOWN_CA, TLS_HOSTNAME_MISMATCH, TLS_CERTIFICATE_EXPIRED, TLS_CERTIFICATE_NOT_YET_VALID,
                TLS_CERTIFICATE_REJECTED, TLS_REQUIRED, TLS_HANDSHAKE_FAILED)
HTTP_FAILURES = (TIMEOUT, CONNECTION_REFUSED, CONNECTION_FAILED, HTTP_PROTOCOL_ERROR, TRANSPORT_ERROR) + TLS_FAILURES

# OpenSSL X509_V_ERR_* codes (x509_vfy.h) -> the reason the operator reads.
_VERIFY_CODES = {
    2: TLS_UNKNOWN_CA,  # unable to get issuer certificate
    18: TLS_UNKNOWN_CA,  # self-signed certificate
    19: TLS_UNKNOWN_CA,  # self-signed certificate in chain
    20: TLS_UNKNOWN_CA,  # unable to get local issuer certificate
    21: TLS_UNKNOWN_CA,  # unable to verify the first certificate
    9: TLS_CERTIFICATE_NOT_YET_VALID,
    10: TLS_CERTIFICATE_EXPIRED,
    62: TLS_HOSTNAME_MISMATCH,
    64: TLS_HOSTNAME_MISMATCH,  # IP address mismatch
}
# What OpenSSL says when the peer's first bytes are not a TLS record, e.g. an HTTP server's
# "HTTP/1.1 400" answer to our ClientHello (OpenSSL 3.0: wrong version number; later
# versions: record layer failure / packet length too long).
_NOT_TLS_REASONS = frozenset(("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG",
                              "HTTP_REQUEST", "UNKNOWN_PROTOCOL"))


class TlsSetupError(ValueError):
    """The CA file cannot be used as a trust anchor (not PEM, no certificate, unreadable)."""


def new_query_id() -> int:
    return secrets.randbelow(0x10000)


@dataclass(frozen=True)
class DnsExchange:
    """A reply datagram, or ``failure`` (one of DNS_FAILURES) when none came back."""

    failure: Optional[str] = None
    message: bytes = b""


def dns_exchange(server: str, port: int, query: bytes, txid: int, timeout_seconds: float) -> DnsExchange:
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    start = time.monotonic()
    deadline = start + timeout_seconds
    resend_at = start + timeout_seconds / 2.0
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect((server, port))
            sock.send(query)
            resent = False
            strays = 0
            while True:
                now = time.monotonic()
                if now >= deadline:
                    return DnsExchange(DNS_TIMEOUT)
                if not resent and now >= resend_at:
                    sock.send(query)
                    resent = True
                sock.settimeout(max(0.01, (deadline if resent else resend_at) - now))
                try:
                    data = sock.recv(MAX_DATAGRAM_BYTES)
                except socket.timeout:
                    continue
                if reply_id(data) == txid:
                    return DnsExchange(message=data)
                strays += 1
                if strays >= MAX_STRAY_DATAGRAMS:
                    return DnsExchange(message=data)
    except ConnectionRefusedError:
        return DnsExchange(DNS_CONNECTION_REFUSED)
    except socket.timeout:
        return DnsExchange(DNS_TIMEOUT)
    except OSError:
        return DnsExchange(DNS_NETWORK_ERROR)


@dataclass(frozen=True)
class HttpExchange:
    """One GET as the client saw it: ``failure`` (one of HTTP_FAILURES) when no HTTP answer
    came back; otherwise ``status`` and the first bytes of ``body`` (``truncated`` when the
    body was longer than the limit). ``tls_verified`` says the answer came over verified TLS."""

    failure: Optional[str] = None
    status: Optional[int] = None
    body: bytes = b""
    truncated: bool = False
    tls_verified: bool = False


def tls_context(ca_file: str) -> ssl.SSLContext:
    """A client context trusting the certificates in ``ca_file`` only (a CA, or a pinned
    self-signed server certificate), checking the host name, TLS 1.2 or newer."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_verify_locations(cafile=ca_file)
    except (OSError, ValueError, ssl.SSLError):
        raise TlsSetupError("ca_file holds no usable PEM CA certificate")
    # Not get_ca_certs(): a pinned self-signed server certificate (no CA flag) is a trust anchor too.
    if not context.cert_store_stats().get("x509"):
        raise TlsSetupError("ca_file holds no certificate")
    return context


def http_get(endpoint: WebEndpoint, path: str, context: Optional[ssl.SSLContext], timeout_seconds: float,
             max_bytes: int, accept: str = "*/*") -> HttpExchange:
    """GET ``path`` under ``endpoint``; ``context`` is required for https and unused for http."""
    connection: http.client.HTTPConnection
    if endpoint.scheme == "https":
        if context is None:
            raise ValueError("https needs a TLS context")
        connection = http.client.HTTPSConnection(endpoint.host, endpoint.port, timeout=timeout_seconds,
                                                 context=context)
    else:
        connection = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=timeout_seconds)
    deadline = time.monotonic() + timeout_seconds
    try:
        connection.request("GET", endpoint.path_for(path),
                           headers={"User-Agent": USER_AGENT, "Accept": accept, "Connection": "close"})
        response = connection.getresponse()
        status = response.status
        body, truncated = _read_bounded(response, max_bytes, deadline)
    except Exception as error:  # noqa: BLE001 - every failure becomes a named outcome
        return HttpExchange(failure=http_failure(error))
    finally:
        connection.close()
    return HttpExchange(status=status, body=body, truncated=truncated, tls_verified=endpoint.scheme == "https")


def _read_bounded(response: http.client.HTTPResponse, max_bytes: int, deadline: float) -> tuple:
    chunks = []
    size = 0
    while size <= max_bytes:
        if time.monotonic() > deadline:
            raise socket.timeout("body read exceeded the time limit")
        chunk = response.read1(min(_READ_CHUNK, max_bytes + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    body = b"".join(chunks)
    return body[:max_bytes], len(body) > max_bytes


def http_failure(error: BaseException) -> str:
    """Name the failure of a GET (certificate problems by their verification code)."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return _VERIFY_CODES.get(getattr(error, "verify_code", None), TLS_CERTIFICATE_REJECTED)
    if isinstance(error, ssl.SSLError):
        if getattr(error, "reason", None) in _NOT_TLS_REASONS:
            return TLS_REQUIRED
        return TLS_HANDSHAKE_FAILED
    if isinstance(error, (socket.timeout, TimeoutError)):
        return TIMEOUT
    if isinstance(error, ConnectionRefusedError):
        return CONNECTION_REFUSED
    if isinstance(error, http.client.HTTPException):
        return HTTP_PROTOCOL_ERROR
    if isinstance(error, OSError):
        return CONNECTION_FAILED
    return TRANSPORT_ERROR
