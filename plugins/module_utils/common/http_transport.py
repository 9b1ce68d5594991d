# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""One HTTP(S) request over Ansible's ``open_url`` machinery, bounded, verified and reduced
to a named outcome: the transport of the Zabbix, AdGuard Home and Portainer modules.

``open_url`` is ``Request().open``; it is called through ``Request`` because only that
takes the TLS context (``open_url`` of ansible-core 2.19 builds its own from ``ca_path``).
Its defaults are not what a governed probe wants, so every request sets them:

- ``use_proxy=False``: otherwise urllib's default proxy handler reads ``http_proxy`` /
  ``https_proxy`` / ``no_proxy`` from the environment.
- ``use_netrc=False``: otherwise, without a URL user, the ``NETRC`` file or ``~/.netrc`` is
  read and its login for the host sent as Basic authentication.
- ``follow_redirects="none"``: otherwise urllib follows redirects; with ``none`` a 3xx comes
  back as an answer with that status and its Location is never requested.
- ``decompress=False`` (no gzip), no GSSAPI, no client certificate; a fresh cookie jar per
  request, so no cookie is ever sent.
- ``context``: :func:`tls_context`, which trusts the operator's CA file only (the system
  trust store is not loaded), checks the host name or IP address, TLS 1.2 or newer.

Responses are read up to ``max_bytes + 1`` bytes before ``timeout_seconds`` pass (the socket
timeout bounds each connect and read; the deadline bounds a body that drips). Failures are
named, certificate problems after OpenSSL's verification code; no exception text (which can
quote addresses, headers or certificate names) leaves this module.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
import urllib.error
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Tuple

from ansible.module_utils.urls import Request

DEFAULT_USER_AGENT = "tecrax.ops-readonly"
_READ_CHUNK = 8192

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
TLS_VERIFICATION_FAILURES = (TLS_UNKNOWN_CA, TLS_HOSTNAME_MISMATCH, TLS_CERTIFICATE_EXPIRED,
                             TLS_CERTIFICATE_NOT_YET_VALID, TLS_CERTIFICATE_REJECTED)
TLS_FAILURES = TLS_VERIFICATION_FAILURES + (TLS_REQUIRED, TLS_HANDSHAKE_FAILED)
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


@dataclass(frozen=True)
class HttpExchange:
    """One request as the client saw it: ``failure`` (one of HTTP_FAILURES) when no HTTP
    answer came back; otherwise ``status`` and the first bytes of ``body`` (``truncated`` when
    the body was longer than the limit). ``tls_verified`` says the answer came over verified TLS."""

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


# Request.open builds a context from the system trust store when it is given none; a plain
# http request never uses one, so it gets this unused, empty context instead.
_PLAIN = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def http_request(url: str, context: Optional[ssl.SSLContext], timeout_seconds: float, max_bytes: int,
                 method: str = "GET", data: Optional[bytes] = None, headers: Optional[Mapping[str, str]] = None,
                 user_agent: str = DEFAULT_USER_AGENT) -> HttpExchange:
    """Send one request to ``url`` (already checked by the caller's URL rules); ``context`` is
    required for https and unused for http. ``headers`` add to (or replace) ``Accept: */*``."""
    https = url.startswith("https://")
    if https and context is None:
        raise ValueError("https needs a TLS context")
    deadline = time.monotonic() + timeout_seconds
    try:
        try:
            response: Any = Request().open(
                method, url, data=data, headers=dict({"Accept": "*/*"}, **(headers or {})), timeout=timeout_seconds,
                http_agent=user_agent, context=context if https else _PLAIN,
                use_proxy=False, use_netrc=False, follow_redirects="none", decompress=False, use_gssapi=False)
        except urllib.error.HTTPError as answer:
            # A status urllib treats as an error (>= 300, redirects included): still an answer.
            # The error must outlive this block: when it is collected, it closes the response.
            kept_error = answer
            response, status = kept_error.fp, kept_error.code
        else:
            status = response.status
        try:
            body, truncated = _read_bounded(response, max_bytes, deadline) if response is not None else (b"", False)
        finally:
            if response is not None:
                response.close()
    except Exception as error:  # noqa: BLE001 - every failure becomes a named outcome
        return HttpExchange(failure=http_failure(error))
    return HttpExchange(status=status, body=body, truncated=truncated, tls_verified=https)


def _read_bounded(response: Any, max_bytes: int, deadline: float) -> Tuple[bytes, bool]:
    read = getattr(response, "read1", None) or response.read
    chunks = []
    size = 0
    while size <= max_bytes:
        if time.monotonic() > deadline:
            raise socket.timeout("body read exceeded the time limit")
        chunk = read(min(_READ_CHUNK, max_bytes + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    body = b"".join(chunks)
    return body[:max_bytes], len(body) > max_bytes


def http_failure(error: BaseException) -> str:
    """Name the failure of a request (urllib wraps connect-time errors in ``URLError``)."""
    if isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError):
        reason: Any = error.reason
        if isinstance(reason, BaseException):
            return http_failure(reason)
        return TIMEOUT if "timed out" in str(reason) else TRANSPORT_ERROR
    if isinstance(error, ssl.SSLCertVerificationError):
        return _VERIFY_CODES.get(getattr(error, "verify_code", None), TLS_CERTIFICATE_REJECTED)
    if isinstance(error, ssl.SSLError):
        reason = getattr(error, "reason", None)
        if reason in _NOT_TLS_REASONS:
            return TLS_REQUIRED
        return TLS_CERTIFICATE_REJECTED if reason == "CERTIFICATE_VERIFY_FAILED" else TLS_HANDSHAKE_FAILED
    if isinstance(error, (socket.timeout, TimeoutError)):
        return TIMEOUT
    if isinstance(error, ConnectionRefusedError):
        return CONNECTION_REFUSED
    if isinstance(error, http.client.HTTPException):
        return HTTP_PROTOCOL_ERROR
    if isinstance(error, OSError):
        return CONNECTION_FAILED
    return TRANSPORT_ERROR
