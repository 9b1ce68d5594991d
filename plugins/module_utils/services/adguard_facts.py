# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Facts of the AdGuard Home reachability check (contract tecrax.adguard_reachability).

Two public surfaces, no management API: the resolver's answer to an ``A`` query for a fixed
name, and the HTTP status of the web interface's login page. ``observe_adguard`` is pure and
total: it turns the two exchanges the module made (or any values at all) into one valid facts
object.

Each surface has an ``outcome``. It is *observed* when something answered: a DNS reply (even
NXDOMAIN, SERVFAIL or an unparsable one) or an HTTP status. Then:

- ``healthy``: the reply carried an address for the name, and the login page answered 200 or
  302 (AdGuard redirects ``/login.html`` to ``/`` once logged in or when no users are set).
- ``unhealthy`` (observed and bad) when either observed surface is bad: NXDOMAIN, SERVFAIL,
  REFUSED or any other error code, an answer without an address, a malformed reply, or
  another HTTP status (e.g. 500). This wins over ``unavailable``: something is known to be
  wrong.
- ``unavailable`` (could not observe) when nothing is known to be bad but a surface did not
  answer: DNS timeout, ICMP port unreachable (``connection_refused``), network error; HTTP
  connection refused or failed, timeout, a TLS failure, or a reply that is not HTTP.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from ansible_collections.tecrax.ops.plugins.module_utils.services.dns_wire import RCODE_NOERROR, parse_reply
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import build_facts, clamp_int
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_probes import (
    DNS_FAILURES,
    DNS_NETWORK_ERROR,
    HTTP_FAILURES,
    HTTP_PROTOCOL_ERROR,
    TLS_REQUIRED,
    TRANSPORT_ERROR,
    DnsExchange,
    HttpExchange,
)

CONTRACT = "tecrax.adguard_reachability"
REQUESTED = ("dns_answer", "login_page")
LOGIN_PATH = "/login.html"
HEALTHY_LOGIN_STATUSES = (200, 302)
# Nothing of the login page is used but its status; this much is read and dropped.
MAX_LOGIN_BODY_BYTES = 64 * 1024

ADDRESSES_RETURNED = "addresses_returned"
NO_ADDRESS = "no_address"
NXDOMAIN = "nxdomain"
SERVFAIL = "servfail"
REFUSED = "refused"
ERROR_RCODE = "error_rcode"
MALFORMED_RESPONSE = "malformed_response"
_RCODE_OUTCOMES = {2: SERVFAIL, 3: NXDOMAIN, 5: REFUSED}
DNS_OUTCOMES = (ADDRESSES_RETURNED, NO_ADDRESS, NXDOMAIN, SERVFAIL, REFUSED, ERROR_RCODE,
                MALFORMED_RESPONSE) + DNS_FAILURES

EXPECTED_STATUS = "expected_status"
UNEXPECTED_STATUS = "unexpected_status"
LOGIN_OUTCOMES = (EXPECTED_STATUS, UNEXPECTED_STATUS) + HTTP_FAILURES

NON_CLAIMS = (
    "Two public surfaces only: one DNS A query and the login page status; no management API",
    "Does not check filtering, blocklists, upstream choice, DHCP or query logs",
    "Does not judge the returned addresses, only that the name was answered with one",
    "Not a check of AdGuard's other listeners (DNS over TCP, TLS, HTTPS or QUIC)",
    "Keeps no query name, address, URL or page content",
)


def dns_observation(exchange: Any, txid: Any, query_name: Any) -> Dict[str, Any]:
    """The ``dns`` payload: outcome, rcode name, A records for the name, recursion flag."""
    empty: Dict[str, Any] = {"rcode": None, "address_records": None, "recursion_available": None}
    if not isinstance(exchange, DnsExchange):
        return dict(empty, outcome=DNS_NETWORK_ERROR)
    if exchange.failure is not None:
        outcome = exchange.failure if exchange.failure in DNS_FAILURES else DNS_NETWORK_ERROR
        return dict(empty, outcome=outcome)
    if not isinstance(txid, int) or not isinstance(query_name, str):
        return dict(empty, outcome=MALFORMED_RESPONSE)
    reply = parse_reply(exchange.message, txid, query_name)
    if reply.malformed:
        return dict(empty, outcome=MALFORMED_RESPONSE)
    if reply.rcode == RCODE_NOERROR:
        outcome = ADDRESSES_RETURNED if reply.address_records > 0 else NO_ADDRESS
    else:
        outcome = _RCODE_OUTCOMES.get(reply.rcode, ERROR_RCODE)
    return {
        "outcome": outcome,
        "rcode": reply.rcode_name,
        "address_records": clamp_int(reply.address_records, 0, 65535),
        "recursion_available": reply.recursion_available,
    }


def login_observation(exchange: Any, scheme: Any) -> Dict[str, Any]:
    """The ``login_page`` payload: outcome, HTTP status, scheme, whether TLS was verified."""
    scheme = scheme if scheme in ("http", "https") else "unknown"
    status = _http_status(exchange)
    if status is None:
        return {"outcome": _no_answer_outcome(exchange), "http_status": None, "scheme": scheme, "tls_verified": False}
    if scheme == "https" and exchange.tls_verified is not True:
        # An https answer that did not come over verified TLS never counts.
        return {"outcome": TLS_REQUIRED, "http_status": None, "scheme": scheme, "tls_verified": False}
    return {
        "outcome": EXPECTED_STATUS if status in HEALTHY_LOGIN_STATUSES else UNEXPECTED_STATUS,
        "http_status": status,
        "scheme": scheme,
        "tls_verified": scheme == "https",
    }


def _no_answer_outcome(exchange: Any) -> str:
    if not isinstance(exchange, HttpExchange):
        return TRANSPORT_ERROR
    if exchange.failure is None:
        return HTTP_PROTOCOL_ERROR  # "answered" without a real status code
    return exchange.failure if exchange.failure in HTTP_FAILURES else TRANSPORT_ERROR


def _http_status(exchange: Any) -> Optional[int]:
    """The answer's status when there was one and it is a real HTTP status code."""
    if not isinstance(exchange, HttpExchange) or exchange.failure is not None:
        return None
    status = exchange.status
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 999:
        return None
    return status


def observe_adguard(dns_exchange: Any, txid: Any, query_name: Any, login_exchange: Any, scheme: Any) -> Dict[str, Any]:
    """One facts object of the contract tecrax.adguard_reachability."""
    dns = dns_observation(dns_exchange, txid, query_name)
    login = login_observation(login_exchange, scheme)
    surfaces = (
        ("dns_answer", dns["outcome"] not in DNS_FAILURES,
         None if dns["outcome"] == ADDRESSES_RETURNED else "dns_" + dns["outcome"]),
        ("login_page", login["http_status"] is not None,
         None if login["outcome"] == EXPECTED_STATUS else "login_" + login["outcome"]),
    )
    observed = [name for name, seen, _reason in surfaces if seen]
    blockers = [reason for _name, seen, reason in surfaces if not seen and reason]
    bad = [reason for _name, seen, reason in surfaces if seen and reason]
    if bad:
        assessment = "unhealthy"
    elif blockers:
        assessment = "unavailable"
    else:
        assessment = "healthy"
    return build_facts(
        CONTRACT, requested=REQUESTED, observed=observed, blockers=blockers, assessment=assessment,
        reasons=[reason for _name, _seen, reason in surfaces if reason], non_claims=NON_CLAIMS,
        payload={"dns": dns, "login_page": login},
    )
