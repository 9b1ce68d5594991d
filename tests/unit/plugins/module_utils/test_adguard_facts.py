"""Facts of the AdGuard Home check from recorded answers (unbound and nginx standing in for
AdGuard Home's resolver and web interface, tests/integration/service_lab.py) and from anything
at all. Every facts object is checked against profile/schemas/adguard_reachability.v1.schema.json.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.services import adguard_facts
from ansible_collections.tecrax.ops.plugins.module_utils.services.adguard_facts import observe_adguard
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_probes import (
    DNS_FAILURES,
    HTTP_FAILURES,
    DnsExchange,
    HttpExchange,
)
from unit.conftest import load_schema, schema_errors
from unit.service_replay import DNS_REPLIES, dns_reply, exchange_from_raw, http_response

SCHEMA = "adguard_reachability.v1.schema.json"
BOTH = ["dns_answer", "login_page"]


def checked(facts: dict[str, Any]) -> dict[str, Any]:
    assert schema_errors(facts, SCHEMA) == []
    return facts


def observe(dns_case: str, login: HttpExchange, scheme: str = "http", *, txid_offset: int = 0) -> dict[str, Any]:
    entry = DNS_REPLIES[dns_case]
    return checked(observe_adguard(DnsExchange(message=dns_reply(dns_case)), entry["query_id"] + txid_offset,
                                   entry["query_name"], login, scheme))


def login(case: str, tls_verified: bool = False) -> HttpExchange:
    return exchange_from_raw(http_response(case), tls_verified)


def payload(facts: dict[str, Any]) -> dict[str, Any]:
    """The facts without non_claims, which every other test compares."""
    assert facts["non_claims"] == list(adguard_facts.NON_CLAIMS)
    return {key: value for key, value in facts.items() if key != "non_claims"}


def expected(observed: list[str], blockers: list[str], state: str, reasons: list[str], dns: dict[str, Any],
             login_page: dict[str, Any]) -> dict[str, Any]:
    coverage = "complete" if observed == BOTH else ("partial" if observed else "blocked")
    return {
        "contract": {"id": "tecrax.adguard_reachability", "version": "1.0"},
        "scope": {"requested": BOTH, "observed": observed, "not_observed": [n for n in BOTH if n not in observed]},
        "coverage": {"state": coverage, "blockers": blockers},
        "assessment": {"state": state, **({"reasons": reasons} if reasons else {})},
        "dns": dns,
        "login_page": login_page,
    }


ADDRESSES = {"outcome": "addresses_returned", "rcode": "NOERROR", "address_records": 2, "recursion_available": True}
NO_DNS = {"rcode": None, "address_records": None, "recursion_available": None}
LOGIN_200 = {"outcome": "expected_status", "http_status": 200, "scheme": "http", "tls_verified": False}


def test_recorded_answer_and_login_page_are_healthy() -> None:
    assert payload(observe("addresses", login("login_200"))) == expected(BOTH, [], "healthy", [], ADDRESSES, LOGIN_200)


def test_recorded_redirect_over_verified_tls_is_healthy() -> None:
    facts = observe("addresses", login("login_302", tls_verified=True), "https")
    assert facts["login_page"] == {"outcome": "expected_status", "http_status": 302, "scheme": "https",
                                   "tls_verified": True}
    assert facts["assessment"] == {"state": "healthy"}


@pytest.mark.parametrize(
    ("case", "outcome", "rcode"),
    [("nxdomain", "nxdomain", "NXDOMAIN"), ("servfail", "servfail", "SERVFAIL"), ("refused", "refused", "REFUSED"),
     ("cname_without_address", "no_address", "NOERROR")],
)
def test_recorded_dns_errors_are_unhealthy(case: str, outcome: str, rcode: str) -> None:
    dns = {"outcome": outcome, "rcode": rcode, "address_records": 0, "recursion_available": True}
    assert payload(observe(case, login("login_200"))) == expected(
        BOTH, [], "unhealthy", ["dns_" + outcome], dns, LOGIN_200)


@pytest.mark.parametrize(("case", "status"), [("login_500", 500), ("login_404", 404), ("http_to_tls_port", 400)])
def test_recorded_login_errors_are_unhealthy(case: str, status: int) -> None:
    page = {"outcome": "unexpected_status", "http_status": status, "scheme": "http", "tls_verified": False}
    assert payload(observe("addresses", login(case))) == expected(
        BOTH, [], "unhealthy", ["login_unexpected_status"], ADDRESSES, page)


def test_reply_to_another_query_is_malformed_and_unhealthy() -> None:
    facts = observe("addresses", login("login_200"), txid_offset=1)
    assert facts["dns"] == {"outcome": "malformed_response", **NO_DNS}
    assert facts["assessment"] == {"state": "unhealthy", "reasons": ["dns_malformed_response"]}
    assert facts["coverage"] == {"state": "complete", "blockers": []}


@pytest.mark.parametrize("failure", DNS_FAILURES)
def test_resolver_that_does_not_answer_is_unavailable(failure: str) -> None:
    facts = checked(observe_adguard(DnsExchange(failure), 1, "q.example", login("login_200"), "http"))
    assert payload(facts) == expected(["login_page"], ["dns_" + failure], "unavailable", ["dns_" + failure],
                                      {"outcome": failure, **NO_DNS}, LOGIN_200)


@pytest.mark.parametrize("failure", HTTP_FAILURES)
def test_web_interface_that_does_not_answer_is_unavailable(failure: str) -> None:
    facts = observe("addresses", HttpExchange(failure=failure), "https")
    page = {"outcome": failure, "http_status": None, "scheme": "https", "tls_verified": False}
    assert payload(facts) == expected(["dns_answer"], ["login_" + failure], "unavailable", ["login_" + failure],
                                      ADDRESSES, page)


def test_nothing_answering_is_blocked() -> None:
    facts = checked(observe_adguard(DnsExchange("timeout"), 1, "q.example", HttpExchange(failure="connection_refused"),
                                    "http"))
    assert facts["coverage"] == {"state": "blocked", "blockers": ["dns_timeout", "login_connection_refused"]}
    assert facts["assessment"] == {"state": "unavailable", "reasons": ["dns_timeout", "login_connection_refused"]}


def test_observed_bad_outranks_not_observed() -> None:
    facts = observe("servfail", HttpExchange(failure="tls_unknown_ca"), "https")
    assert facts["coverage"] == {"state": "partial", "blockers": ["login_tls_unknown_ca"]}
    assert facts["assessment"] == {"state": "unhealthy", "reasons": ["dns_servfail", "login_tls_unknown_ca"]}


@pytest.mark.parametrize(
    ("exchange", "outcome"),
    [
        (HttpExchange(failure="something new"), "transport_error"),
        (HttpExchange(status=None), "http_protocol_error"),
        (HttpExchange(status=True), "http_protocol_error"),
        (HttpExchange(status=42), "http_protocol_error"),
        ("not an exchange", "transport_error"),
        (None, "transport_error"),
    ],
)
def test_odd_http_exchanges_are_named(exchange: Any, outcome: str) -> None:
    facts = observe("addresses", exchange)
    assert facts["login_page"]["outcome"] == outcome
    assert facts["assessment"]["state"] == "unavailable"


def test_odd_dns_inputs_are_named() -> None:
    assert observe_adguard(DnsExchange("weird"), 1, "q.example", login("login_200"), "http")["dns"]["outcome"] == (
        "network_error")
    assert observe_adguard(b"bytes", 1, "q.example", login("login_200"), "http")["dns"]["outcome"] == "network_error"
    assert observe_adguard(DnsExchange(message=dns_reply("addresses")), "1", "q.example", login("login_200"),
                           "http")["dns"]["outcome"] == "malformed_response"


def test_http_answer_never_counts_as_verified_tls() -> None:
    facts = observe("addresses", login("login_200", tls_verified=True), "http")
    assert facts["login_page"]["tls_verified"] is False
    # ... and an https answer that did not come over verified TLS never counts at all.
    facts = observe("addresses", login("login_200", tls_verified=False), "https")
    assert facts["login_page"] == {"outcome": "tls_required", "http_status": None, "scheme": "https",
                                   "tls_verified": False}
    assert facts["assessment"] == {"state": "unavailable", "reasons": ["login_tls_required"]}
    assert observe("addresses", login("login_200"), "gopher")["login_page"]["scheme"] == "unknown"


def test_schema_and_code_name_the_same_outcomes() -> None:
    properties = load_schema(SCHEMA)["properties"]
    assert properties["dns"]["properties"]["outcome"]["enum"] == list(adguard_facts.DNS_OUTCOMES)
    assert properties["login_page"]["properties"]["outcome"]["enum"] == list(adguard_facts.LOGIN_OUTCOMES)


def test_schema_refuses_inconsistent_facts() -> None:
    facts = observe("addresses", login("login_200"))
    assert schema_errors({**facts, "assessment": {"state": "unhealthy", "reasons": ["dns_nxdomain"]}}, SCHEMA)
    assert schema_errors({**facts, "assessment": {"state": "unhealthy"}}, SCHEMA)
    broken = {**facts, "dns": {**facts["dns"], "address_records": 0}}
    assert schema_errors(broken, SCHEMA)
    broken = {**facts, "login_page": {**facts["login_page"], "http_status": 500}}
    assert schema_errors(broken, SCHEMA)
    assert schema_errors({**facts, "query_name": "q.example"}, SCHEMA)


# --- properties ----------------------------------------------------------------------------

_DNS = st.one_of(
    st.builds(DnsExchange, st.sampled_from(list(DNS_FAILURES) + ["other"])),
    st.builds(lambda data: DnsExchange(message=data), st.binary(max_size=300)),
    st.sampled_from(sorted(DNS_REPLIES)).map(lambda case: DnsExchange(message=dns_reply(case))),
    st.none(),
)
_HTTP = st.one_of(
    st.builds(lambda failure: HttpExchange(failure=failure), st.sampled_from(list(HTTP_FAILURES) + ["x"])),
    st.builds(lambda status, body, verified: HttpExchange(status=status, body=body, tls_verified=verified),
              st.one_of(st.integers(-5, 1200), st.none(), st.booleans()), st.binary(max_size=50), st.booleans()),
    st.text(max_size=5),
)


@settings(max_examples=500, deadline=None)
@given(_DNS, st.one_of(st.integers(0, 0xFFFF), st.sampled_from([entry["query_id"] for entry in DNS_REPLIES.values()])),
       st.one_of(st.sampled_from([entry["query_name"] for entry in DNS_REPLIES.values()]), st.text(max_size=20)),
       _HTTP, st.sampled_from(["http", "https", "ftp", None]))
def test_any_input_gives_schema_valid_facts(dns: Any, txid: int, name: str, page: Any, scheme: Any) -> None:
    facts = checked(observe_adguard(dns, txid, name, page, scheme))
    healthy = (facts["dns"]["outcome"] == "addresses_returned" and facts["login_page"]["outcome"] == "expected_status")
    assert (facts["assessment"]["state"] == "healthy") == healthy
    bad_observed = any(reason in ("dns_" + o for o in ("nxdomain", "servfail", "refused", "error_rcode", "no_address",
                                                       "malformed_response"))
                       or reason == "login_unexpected_status" for reason in facts["assessment"].get("reasons", []))
    assert (facts["assessment"]["state"] == "unhealthy") == bad_observed
