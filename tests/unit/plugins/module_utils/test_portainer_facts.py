"""Facts of the Portainer check from recorded answers (nginx standing in for Portainer's
/api/status, tests/integration/service_lab.py), documented Portainer answer shapes, and
anything at all. Every facts object is checked against
profile/schemas/portainer_reachability.v1.schema.json.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.services import portainer_facts
from ansible_collections.tecrax.ops.plugins.module_utils.services.portainer_facts import observe_portainer, portainer_version
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_probes import HTTP_FAILURES, TLS_FAILURES, HttpExchange
from unit.conftest import load_schema, schema_errors
from unit.service_replay import exchange_from_raw, http_response

SCHEMA = "portainer_reachability.v1.schema.json"
INSTANCE_ID = "6f1c5b7e-3d0a-4c1e-9b7f-2a8d4e6c0b19"  # what the lab's stand-in sends


def checked(facts: dict[str, Any]) -> dict[str, Any]:
    assert schema_errors(facts, SCHEMA) == []
    assert facts["non_claims"] == list(portainer_facts.NON_CLAIMS)
    return {key: value for key, value in facts.items() if key != "non_claims"}


def expected(state: str, reason: str | None, status: int | None, version: str = "unknown") -> dict[str, Any]:
    requested = ["https_endpoint", "api_status"]
    observed = [name for name, seen in zip(requested, (status is not None, version != "unknown")) if seen]
    return {
        "contract": {"id": "tecrax.portainer_reachability", "version": "1.0"},
        "scope": {"requested": requested, "observed": observed,
                  "not_observed": [name for name in requested if name not in observed]},
        "coverage": {"state": {2: "complete", 1: "partial", 0: "blocked"}[len(observed)],
                     "blockers": [reason] if reason else []},
        "assessment": {"state": state, **({"reasons": [reason]} if reason else {})},
        "portainer_version": version,
        "http_status": status,
        "transport": {"scheme": "https", "tls_verified": status is not None},
    }


def recorded(case: str) -> HttpExchange:
    return exchange_from_raw(http_response(case), tls_verified=True, max_bytes=portainer_facts.MAX_STATUS_BYTES)


def test_recorded_status_is_healthy_and_keeps_only_the_version() -> None:
    facts = checked(observe_portainer(recorded("portainer_status")))
    assert facts == expected("healthy", None, 200, "2.19.4")
    assert INSTANCE_ID in http_response("portainer_status").decode()
    assert INSTANCE_ID not in json.dumps(facts)


@pytest.mark.parametrize(
    ("case", "reason", "status"),
    [("portainer_not_json", "response_not_json", 200), ("portainer_503", "http_error_status", 503),
     ("login_404", "http_error_status", 404), ("login_200", "response_not_json", 200)],
)
def test_recorded_answers_that_are_not_portainer_status_are_unhealthy(case: str, reason: str, status: int) -> None:
    assert checked(observe_portainer(recorded(case))) == expected("unhealthy", reason, status)


@pytest.mark.parametrize(
    ("body", "version"),
    [
        # Portainer CE 2.x (documented shape of GET /api/status)
        (b'{"Version":"2.21.4","InstanceID":"299ab403-70a8-4c05-92f7-bf7a994d50df"}', "2.21.4"),
        # Portainer 1.x added feature flags
        (b'{"Authentication":true,"EndpointManagement":true,"Snapshot":true,"Analytics":false,"Version":"1.24.2"}',
         "1.24.2"),
        (b'{"Version":"2.20.0-rc1","InstanceID":"x","DemoEnvironment":{"enabled":false,"users":[],"environments":[]}}',
         "2.20.0-rc1"),
    ],
)
def test_documented_status_shapes(body: bytes, version: str) -> None:
    facts = checked(observe_portainer(HttpExchange(status=200, body=body, tls_verified=True)))
    assert facts == expected("healthy", None, 200, version)


@pytest.mark.parametrize(
    "body",
    [b'{"InstanceID":"x"}', b'{"Version":2.19}', b'{"Version":"latest"}', b'["Version","2.19.4"]',
     b'{"Version":"2.19.4 <script>"}', b'{"Version":"' + b"9" * 40 + b'"}', b"null"],
)
def test_json_without_a_usable_version_is_unhealthy(body: bytes) -> None:
    facts = checked(observe_portainer(HttpExchange(status=200, body=body, tls_verified=True)))
    assert facts == expected("unhealthy", "version_unrecognized", 200)


@pytest.mark.parametrize(
    "body", [b"", b"\xff\xfe\x00binary", b"{" * 100000, b"<html>", b'{"Version":"2.19.4"', b"1" + b"0" * 5000]
)
def test_garbage_is_not_json(body: bytes) -> None:
    facts = checked(observe_portainer(HttpExchange(status=200, body=body, tls_verified=True)))
    assert facts == expected("unhealthy", "response_not_json", 200)


def test_truncated_answer_is_too_large() -> None:
    facts = checked(observe_portainer(HttpExchange(status=200, body=b"{", truncated=True, tls_verified=True)))
    assert facts == expected("unhealthy", "response_too_large", 200)


@pytest.mark.parametrize("failure", HTTP_FAILURES)
def test_no_verified_answer_is_unavailable(failure: str) -> None:
    assert checked(observe_portainer(HttpExchange(failure=failure))) == expected("unavailable", failure, None)


def test_every_tls_failure_has_its_own_name() -> None:
    assert {"tls_unknown_ca", "tls_hostname_mismatch", "tls_certificate_expired", "tls_required"} <= set(TLS_FAILURES)


def test_an_answer_without_verified_tls_is_never_accepted() -> None:
    facts = checked(observe_portainer(HttpExchange(status=200, body=b'{"Version":"2.19.4"}', tls_verified=False)))
    assert facts == expected("unavailable", "tls_required", None)


@pytest.mark.parametrize(
    ("exchange", "reason"),
    [(HttpExchange(failure="new kind"), "transport_error"), (None, "transport_error"), ("x", "transport_error"),
     (HttpExchange(status=None, tls_verified=True), "http_protocol_error"),
     (HttpExchange(status=False, tls_verified=True), "http_protocol_error")],
)
def test_odd_inputs_are_named(exchange: Any, reason: str) -> None:
    assert checked(observe_portainer(exchange)) == expected("unavailable", reason, None)


def test_version_reader() -> None:
    assert portainer_version(b'{"Version":"2.19.4"}') == ("2.19.4", None)
    assert portainer_version("text") == (None, "response_not_json")


def test_schema_and_code_name_the_same_failures() -> None:
    reasons = load_schema(SCHEMA)["properties"]["assessment"]["properties"]["reasons"]["items"]["enum"]
    assert reasons == list(HTTP_FAILURES) + list(portainer_facts.ANSWER_FAILURES)


def test_schema_refuses_inconsistent_facts() -> None:
    facts = observe_portainer(recorded("portainer_status"))
    assert schema_errors({**facts, "InstanceID": INSTANCE_ID}, SCHEMA)
    assert schema_errors({**facts, "transport": {"scheme": "http", "tls_verified": False}}, SCHEMA)
    assert schema_errors({**facts, "http_status": 503}, SCHEMA)
    blocked = observe_portainer(HttpExchange(failure="tls_unknown_ca"))
    assert schema_errors({**blocked, "portainer_version": "2.19.4"}, SCHEMA)
    assert schema_errors({**blocked, "assessment": {"state": "unavailable"}}, SCHEMA)


_STATUS_BODIES = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda version, extra: json.dumps({"Version": version, **extra}).encode(),
              st.text(max_size=40), st.dictionaries(st.text(max_size=5), st.integers())),
)
_ANSWERS = st.builds(
    lambda status, body, truncated, verified: HttpExchange(status=status, body=body, truncated=truncated,
                                                           tls_verified=verified),
    st.one_of(st.integers(-1, 1500), st.none(), st.booleans()), _STATUS_BODIES, st.booleans(), st.booleans(),
)
_FAILURES = st.builds(lambda failure: HttpExchange(failure=failure),
                      st.one_of(st.sampled_from(HTTP_FAILURES), st.text(max_size=8)))


@settings(max_examples=500, deadline=None)
@given(st.one_of(_FAILURES, _ANSWERS, st.none()))
def test_any_exchange_gives_schema_valid_facts(exchange: Any) -> None:
    facts = checked(observe_portainer(exchange))
    if facts["assessment"]["state"] == "healthy":
        assert isinstance(exchange, HttpExchange) and exchange.tls_verified is True and exchange.status == 200
