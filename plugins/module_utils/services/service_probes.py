# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The network I/O of the AdGuard Home and Portainer checks: one DNS query over UDP and one
HTTP GET, each bounded in time and size, each reduced to a named outcome.

- DNS: a connected UDP socket to the resolver, so that an ICMP "port unreachable" comes back
  as ``connection_refused`` instead of a silent timeout. The query is sent once and repeated
  once at half of ``timeout_seconds``; datagrams that are not a reply with our id are skipped
  (at most MAX_STRAY_DATAGRAMS, after which the last one is handed on and parses as
  malformed). Nothing else is read.
- HTTP: ``http_get`` is the common transport (``common/http_transport.py``, over Ansible's
  ``open_url`` machinery: no proxy from the environment, no .netrc, no redirects, no
  compression, bounded reads, https verified against the operator's CA file only) addressed
  by a checked ``WebEndpoint``. Its outcome names are the transport's, re-exported here as the
  services family's vocabulary.

No exception text (which can quote addresses or certificate names) leaves this module.
"""

from __future__ import annotations

import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Optional

from ansible_collections.tecrax.ops.plugins.module_utils.common.http_transport import (
    CONNECTION_FAILED,
    CONNECTION_REFUSED,
    HTTP_FAILURES,
    HTTP_PROTOCOL_ERROR,
    TIMEOUT,
    TLS_CERTIFICATE_EXPIRED,
    TLS_CERTIFICATE_NOT_YET_VALID,
    TLS_CERTIFICATE_REJECTED,
    TLS_FAILURES,
    TLS_HANDSHAKE_FAILED,
    TLS_HOSTNAME_MISMATCH,
    TLS_REQUIRED,
    TLS_UNKNOWN_CA,
    TRANSPORT_ERROR,
    HttpExchange,
    TlsSetupError,
    http_failure,
    http_request,
    tls_context,
)
from ansible_collections.tecrax.ops.plugins.module_utils.services.dns_wire import reply_id
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_endpoints import WebEndpoint

# The HTTP outcome names and TLS helpers are the common transport's, offered here too.
__all__ = [
    "CONNECTION_FAILED", "CONNECTION_REFUSED", "DNS_CONNECTION_REFUSED", "DNS_FAILURES", "DNS_NETWORK_ERROR",
    "DNS_TIMEOUT", "HTTP_FAILURES", "HTTP_PROTOCOL_ERROR", "MAX_DATAGRAM_BYTES", "MAX_STRAY_DATAGRAMS", "TIMEOUT",
    "TLS_CERTIFICATE_EXPIRED", "TLS_CERTIFICATE_NOT_YET_VALID", "TLS_CERTIFICATE_REJECTED", "TLS_FAILURES",
    "TLS_HANDSHAKE_FAILED", "TLS_HOSTNAME_MISMATCH", "TLS_REQUIRED", "TLS_UNKNOWN_CA", "TRANSPORT_ERROR", "USER_AGENT",
    "DnsExchange", "HttpExchange", "TlsSetupError", "dns_exchange", "http_failure", "http_get", "new_query_id",
    "tls_context",
]

USER_AGENT = "tecrax.ops-readonly"
MAX_DATAGRAM_BYTES = 4096
MAX_STRAY_DATAGRAMS = 16

# Transport outcomes of the DNS query (no reply came back).
DNS_TIMEOUT = "timeout"
DNS_CONNECTION_REFUSED = "connection_refused"
DNS_NETWORK_ERROR = "network_error"
DNS_FAILURES = (DNS_TIMEOUT, DNS_CONNECTION_REFUSED, DNS_NETWORK_ERROR)


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


def http_get(endpoint: WebEndpoint, path: str, context: Optional[ssl.SSLContext], timeout_seconds: float,
             max_bytes: int, accept: str = "*/*") -> HttpExchange:
    """GET ``path`` under ``endpoint``; ``context`` is required for https and unused for http."""
    return http_request(endpoint.url_for(path), context, timeout_seconds, max_bytes, headers={"Accept": accept},
                        user_agent=USER_AGENT)
