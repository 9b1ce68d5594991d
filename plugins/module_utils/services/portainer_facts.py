# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Facts of the Portainer reachability check (contract tecrax.portainer_reachability).

One unauthenticated ``GET /api/status`` over TLS verified against the operator's pinned CA.
Portainer answers ``{"Version": "2.19.4", "InstanceID": "<uuid>"}`` (older releases add more
flags); only ``Version`` is kept. ``InstanceID`` identifies the installation and is dropped,
as is everything else in the body.

``observe_portainer`` is pure and total: any exchange gives a valid facts object.

- ``healthy``: HTTP 200 over verified TLS with a JSON object whose ``Version`` is a version.
- ``unhealthy`` (observed and bad): an answer came back over verified TLS but it is not that
  (another status, too large, not JSON, no usable ``Version``).
- ``unavailable`` (could not observe): no verified answer. Each TLS failure has its own
  reason (``tls_unknown_ca``, ``tls_hostname_mismatch``, ``tls_certificate_expired``,
  ``tls_required`` when the endpoint does not speak TLS at all, ...): the check never falls
  back to an unverified or plain connection.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, Optional, Tuple

from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import UNKNOWN, build_facts
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_probes import (
    HTTP_FAILURES,
    HTTP_PROTOCOL_ERROR,
    TLS_REQUIRED,
    TRANSPORT_ERROR,
    HttpExchange,
)

CONTRACT = "tecrax.portainer_reachability"
REQUESTED = ("https_endpoint", "api_status")
STATUS_PATH = "/api/status"
MAX_STATUS_BYTES = 64 * 1024

HTTP_ERROR_STATUS = "http_error_status"
RESPONSE_TOO_LARGE = "response_too_large"
RESPONSE_NOT_JSON = "response_not_json"
VERSION_UNRECOGNIZED = "version_unrecognized"
ANSWER_FAILURES = (HTTP_ERROR_STATUS, RESPONSE_TOO_LARGE, RESPONSE_NOT_JSON, VERSION_UNRECOGNIZED)

# Portainer versions: 1.24.1, 2.19.4, 2.20.0-rc1 (at most 32 characters).
_VERSION = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,4}(?:-[0-9A-Za-z][0-9A-Za-z.-]{0,18})?\Z")

NON_CLAIMS = (
    "Proves only that Portainer's unauthenticated /api/status answered over verified TLS",
    "Not a check of environments, endpoints, agents, stacks or containers",
    "Unauthenticated: says nothing about users, teams or access tokens",
    "Keeps only the Version field; InstanceID and the rest of the answer are dropped",
)


def portainer_version(body: Any) -> Tuple[Optional[str], Optional[str]]:
    """``(version, None)`` from a status body, or ``(None, failure)`` with RESPONSE_NOT_JSON
    or VERSION_UNRECOGNIZED."""
    if not isinstance(body, (bytes, bytearray)):
        return None, RESPONSE_NOT_JSON
    try:
        document = json.loads(bytes(body).decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None, RESPONSE_NOT_JSON
    version = document.get("Version") if isinstance(document, dict) else None
    if not isinstance(version, str) or not _VERSION.match(version):
        return None, VERSION_UNRECOGNIZED
    return version, None


def _classify(exchange: Any) -> Tuple[Optional[int], Optional[str], Optional[str]]:
    """``(http_status, version, failure)``; a status only for an answer over verified TLS."""
    if not isinstance(exchange, HttpExchange):
        return None, None, TRANSPORT_ERROR
    if exchange.failure is not None:
        return None, None, exchange.failure if exchange.failure in HTTP_FAILURES else TRANSPORT_ERROR
    if exchange.tls_verified is not True:
        return None, None, TLS_REQUIRED  # never accept an answer that did not come over verified TLS
    status = exchange.status
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 999:
        return None, None, HTTP_PROTOCOL_ERROR
    if status != 200:
        return status, None, HTTP_ERROR_STATUS
    if exchange.truncated:
        return status, None, RESPONSE_TOO_LARGE
    version, failure = portainer_version(exchange.body)
    return status, version, failure


def observe_portainer(exchange: Any) -> Dict[str, Any]:
    """One facts object of the contract tecrax.portainer_reachability."""
    status, version, failure = _classify(exchange)
    observed = [name for name, seen in (("https_endpoint", status is not None), ("api_status", version is not None))
                if seen]
    reasons = [failure] if failure is not None else []
    if failure is None:
        assessment = "healthy"
    elif status is not None:
        assessment = "unhealthy"
    else:
        assessment = "unavailable"
    payload = {
        "portainer_version": version or UNKNOWN,
        "http_status": status,
        "transport": {"scheme": "https", "tls_verified": status is not None},
    }
    return build_facts(
        CONTRACT, requested=REQUESTED, observed=observed, blockers=reasons, assessment=assessment,
        reasons=reasons, non_claims=NON_CLAIMS, payload=payload,
    )
