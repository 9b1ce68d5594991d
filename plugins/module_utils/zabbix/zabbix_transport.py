# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""HTTP(S) POSTs to a Zabbix API endpoint, bounded and verified, for the Zabbix modules.

- TLS is verified against the operator's CA file only (no system trust store), with host
  name checking; plain http only when the operator's URL says http.
- No proxy from the environment, no .netrc, no redirects (a redirect is an answer with a 3xx
  status), no compressed responses, at most ``max_bytes + 1`` bytes read.
- The API token is placed as Zabbix wants it for the reported version: in the JSON-RPC body
  (``auth``) or as ``Authorization: Bearer``. Failures are reduced to a failure name: no
  exception text (which could quote a URL or header) leaves this module.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.error
from typing import Any, Optional

from ansible.module_utils.urls import open_url
from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_api import (
    BEARER_HEADER,
    BODY_AUTH,
    CONNECTION_FAILED,
    HTTP_PROTOCOL_ERROR,
    TIMEOUT,
    TLS_ERROR,
    TLS_VERIFICATION_FAILED,
    TRANSPORT_ERROR,
    Endpoint,
    Exchange,
    request_body,
)

USER_AGENT = "tecrax.ops-zabbix-readonly"


class ZabbixClient:
    """Sends JSON-RPC requests to one endpoint; the credential stays inside this object."""

    def __init__(self, endpoint: Endpoint, ca_file: Optional[str], timeout_seconds: int,
                 credential: Optional[str] = None) -> None:
        self._endpoint = endpoint
        self._ca_file = ca_file
        self._timeout = timeout_seconds
        self._credential = credential

    def call(self, method: str, params: Any, request_id: int, auth_method: Optional[str],
             max_bytes: int) -> Exchange:
        headers = {"Content-Type": "application/json-rpc", "Accept": "application/json"}
        body_credential = None
        if auth_method is not None:
            if not self._credential:
                raise ValueError("an authenticated call needs an API token")
            if auth_method == BODY_AUTH:
                body_credential = self._credential
            elif auth_method == BEARER_HEADER:
                headers["Authorization"] = "Bearer " + self._credential
            else:
                raise ValueError("unknown auth method")
        data = request_body(method, params, request_id, body_credential)
        return self._post(data, headers, max_bytes)

    def _post(self, data: bytes, headers: dict, max_bytes: int) -> Exchange:
        try:
            response = open_url(
                self._endpoint.url,
                data=data,
                headers=headers,
                method="POST",
                use_proxy=False,
                validate_certs=True,
                ca_path=self._ca_file,
                follow_redirects="none",
                timeout=self._timeout,
                http_agent=USER_AGENT,
                decompress=False,
                use_netrc=False,
                use_gssapi=False,
            )
            try:
                body = response.read(max_bytes + 1)
                status = response.status
            finally:
                response.close()
        except urllib.error.HTTPError as error:
            return Exchange(http_status=error.code, body=_error_body(error, max_bytes))
        except Exception as error:  # noqa: BLE001 - every failure becomes a named failure
            return Exchange(failure=transport_failure(error))
        return Exchange(http_status=status, body=body[:max_bytes], truncated=len(body) > max_bytes)


def _error_body(error: urllib.error.HTTPError, max_bytes: int) -> bytes:
    try:
        return error.read(max_bytes) or b""
    except Exception:  # noqa: BLE001 - the status alone is the observation
        return b""


def transport_failure(error: BaseException) -> str:
    """Name a transport failure (urllib wraps the socket and TLS errors in URLError)."""
    reason: Any = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, ssl.SSLCertVerificationError) or _is_certificate_problem(reason):
        return TLS_VERIFICATION_FAILED
    if isinstance(reason, ssl.SSLError):
        return TLS_ERROR
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return TIMEOUT
    if isinstance(reason, http.client.HTTPException):
        return HTTP_PROTOCOL_ERROR
    if isinstance(reason, (OSError, socket.gaierror)):
        return CONNECTION_FAILED
    if isinstance(reason, str) and "timed out" in reason:
        return TIMEOUT
    return TRANSPORT_ERROR


def _is_certificate_problem(reason: Any) -> bool:
    return isinstance(reason, ssl.CertificateError) or (
        isinstance(reason, ssl.SSLError) and "CERTIFICATE_VERIFY_FAILED" in str(getattr(reason, "reason", "")))
