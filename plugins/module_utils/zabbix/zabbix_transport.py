# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""JSON-RPC POSTs to a Zabbix API endpoint through the common transport
(``common/http_transport.py``: verified TLS against the operator's CA file only, no proxy from
the environment, no .netrc, no redirects, no compression, bounded reads).

The API token is placed as Zabbix wants it for the reported version: in the JSON-RPC body
(``auth``) or as ``Authorization: Bearer``. The transport's failure names are folded into the
Zabbix contract's coarser ones (every certificate problem is ``tls_verification_failed``).
"""

from __future__ import annotations

from typing import Any, Optional

from ansible_collections.tecrax.ops.plugins.module_utils.common import http_transport as transport
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
FAILURES = dict(
    {name: TLS_VERIFICATION_FAILED for name in transport.TLS_VERIFICATION_FAILURES},
    **{
        transport.TLS_REQUIRED: TLS_ERROR,
        transport.TLS_HANDSHAKE_FAILED: TLS_ERROR,
        transport.CONNECTION_REFUSED: CONNECTION_FAILED,
        transport.CONNECTION_FAILED: CONNECTION_FAILED,
        transport.TIMEOUT: TIMEOUT,
        transport.HTTP_PROTOCOL_ERROR: HTTP_PROTOCOL_ERROR,
    })


class ZabbixClient:
    """Sends JSON-RPC requests to one endpoint; the credential stays inside this object."""

    def __init__(self, endpoint: Endpoint, ca_file: Optional[str], timeout_seconds: int,
                 credential: Optional[str] = None) -> None:
        self._endpoint = endpoint
        self._timeout = timeout_seconds
        self._credential = credential
        self._context = None
        self._setup_failure: Optional[str] = None
        if endpoint.scheme == "https":
            try:
                self._context = transport.tls_context(ca_file or "")
            except transport.TlsSetupError:
                self._setup_failure = TLS_ERROR  # a CA file that is no trust anchor: nothing is sent

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
        if self._setup_failure is not None:
            return Exchange(failure=self._setup_failure)
        answer = transport.http_request(self._endpoint.url, self._context, self._timeout, max_bytes, method="POST",
                                        data=request_body(method, params, request_id, body_credential),
                                        headers=headers, user_agent=USER_AGENT)
        if answer.failure is not None:
            return Exchange(failure=FAILURES.get(answer.failure, TRANSPORT_ERROR))
        return Exchange(http_status=answer.status, body=answer.body, truncated=answer.truncated)
