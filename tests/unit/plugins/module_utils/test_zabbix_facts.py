"""Facts of the three Zabbix observations, from responses recorded on a real Zabbix 6.0.14.

Where a case cannot be recorded here (a transport failure, a 6.4 or 5.2 server, a mid-run
failure) the exchange is composed and the test says so.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.zabbix import zabbix_api as za
from ansible_collections.tecrax.ops.plugins.module_utils.zabbix import zabbix_facts as zf
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import guard_facts
from unit.zabbix_replay import Replay, body, recorded

REACHABILITY_SCHEMA = "zabbix_api_reachability.v1.schema.json"
PROBLEM_SCHEMA = "zabbix_problem_summary.v1.schema.json"
HOST_SCHEMA = "zabbix_host_availability_summary.v1.schema.json"
HTTP = {"scheme": "http", "tls_verified": False}


def version_answer(version: str) -> za.Exchange:
    """Composed: an apiinfo.version answer of another Zabbix version (only 6.0.14 runs here)."""
    return za.Exchange(http_status=200, body=json.dumps({"jsonrpc": "2.0", "result": version, "id": 1}).encode())


# --- reachability --------------------------------------------------------------------------


def test_reachable_api_is_healthy_with_the_real_version(facts_schema_errors: Any) -> None:
    replay = Replay()
    facts = zf.observe_reachability(replay, "http")
    assert facts_schema_errors(facts, REACHABILITY_SCHEMA) == []
    assert facts == {
        "contract": {"id": "tecrax.zabbix_api_reachability", "version": "1.0"},
        "scope": {"requested": ["http_endpoint", "api_version"], "observed": ["http_endpoint", "api_version"],
                  "not_observed": []},
        "coverage": {"state": "complete", "blockers": []},
        "assessment": {"state": "healthy"},
        "non_claims": list(zf.REACHABILITY_NON_CLAIMS),
        "api_version": "6.0.14",
        "auth_method": "body_auth",
        "http_status": 200,
        "transport": HTTP,
    }
    # apiinfo.version is sent once, without a credential (6.0 refuses it with one).
    assert replay.calls == [("apiinfo.version", [], 1, None, za.MAX_SMALL_RESPONSE_BYTES)]


@pytest.mark.parametrize(
    ("exchange", "reason", "status"),
    [
        pytest.param(recorded("apiinfo_version_database_down"), "api_error", 200, id="database-down"),
        pytest.param(recorded("wrong_path"), "http_error_status", 404, id="wrong-path-404"),
        pytest.param(recorded("apiinfo_version_with_auth"), "api_error", 200, id="version-with-auth"),
        pytest.param(za.Exchange(http_status=200, body=b"<html>login</html>"), "response_not_json", 200, id="html"),
        pytest.param(za.Exchange(http_status=200, body=b'{"jsonrpc":"2.0","result":"six","id":1}'),
                     "api_version_unrecognized", 200, id="not-a-version"),
        pytest.param(za.Exchange(http_status=302), "http_error_status", 302, id="redirect-not-followed"),
    ],
)
def test_an_answer_without_a_version_is_unhealthy(
    facts_schema_errors: Any, exchange: za.Exchange, reason: str, status: int
) -> None:
    facts = zf.observe_reachability(Replay({"apiinfo.version": exchange}), "http")
    assert facts_schema_errors(facts, REACHABILITY_SCHEMA) == []
    assert facts["scope"]["observed"] == ["http_endpoint"]
    assert facts["coverage"] == {"state": "partial", "blockers": [reason]}
    assert facts["assessment"] == {"state": "unhealthy", "reasons": [reason]}
    assert (facts["api_version"], facts["auth_method"], facts["http_status"]) == ("unknown", "unknown", status)


@pytest.mark.parametrize("failure", za.TRANSPORT_FAILURES)
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_no_answer_is_unavailable(facts_schema_errors: Any, failure: str, scheme: str) -> None:
    facts = zf.observe_reachability(Replay({"apiinfo.version": za.Exchange(failure=failure)}), scheme)
    assert facts_schema_errors(facts, REACHABILITY_SCHEMA) == []
    assert facts["coverage"] == {"state": "blocked", "blockers": [failure]}
    assert facts["assessment"] == {"state": "unavailable", "reasons": [failure]}
    assert facts["http_status"] is None
    assert facts["transport"] == {"scheme": scheme, "tls_verified": False}


@pytest.mark.parametrize(
    ("version", "method"),
    [("5.2.7", "none"), ("5.4.0", "body_auth"), ("6.2.9", "body_auth"), ("6.4.0", "bearer_header"),
     ("7.0.5", "bearer_header"), ("7.2.0rc1", "bearer_header")],
)
def test_reachability_names_where_the_version_takes_a_token(version: str, method: str) -> None:
    facts = zf.observe_reachability(Replay({"apiinfo.version": version_answer(version)}), "https")
    assert (facts["assessment"], facts["api_version"], facts["auth_method"]) == ({"state": "healthy"}, version, method)
    assert facts["transport"] == {"scheme": "https", "tls_verified": True}


# --- problem summary -----------------------------------------------------------------------


def test_problem_counts_per_severity(facts_schema_errors: Any) -> None:
    replay = Replay()
    facts = zf.observe_problem_summary(replay, "http")
    assert facts_schema_errors(facts, PROBLEM_SCHEMA) == []
    assert facts == {
        "contract": {"id": "tecrax.zabbix_problem_summary", "version": "1.0"},
        "scope": {"requested": list(zf.SEVERITIES), "observed": list(zf.SEVERITIES), "not_observed": []},
        "coverage": {"state": "complete", "blockers": []},
        "assessment": {"state": "healthy"},
        "non_claims": list(zf.PROBLEM_NON_CLAIMS),
        "api_version": "6.0.14",
        "auth_method": "body_auth",
        "transport": HTTP,
        "problems": {"not_classified": 0, "information": 1, "warning": 0, "average": 2, "high": 0, "disaster": 3},
        "problems_total": 6,
    }
    assert replay.calls[0][3] is None  # the version call carries no credential
    assert [(call[1], call[2], call[3]) for call in replay.calls[1:]] == [
        ({"severities": [severity], "countOutput": True}, severity + 2, "body_auth") for severity in range(6)
    ]


@pytest.mark.parametrize("recording", ["problem_count_wrong_token", "problem_count_expired_token",
                                       "problem_count_bearer_header_on_6_0"])
def test_rejected_token_is_unavailable_and_sent_once(facts_schema_errors: Any, recording: str) -> None:
    replay = Replay({"problem.get": recorded(recording)})
    facts = zf.observe_problem_summary(replay, "http")
    assert facts_schema_errors(facts, PROBLEM_SCHEMA) == []
    assert facts["coverage"] == {"state": "blocked", "blockers": ["authentication_rejected"]}
    assert facts["assessment"] == {"state": "unavailable", "reasons": ["authentication_rejected"]}
    assert facts["problems"] == dict.fromkeys(zf.SEVERITIES) and facts["problems_total"] is None
    assert facts["api_version"] == "6.0.14"
    assert replay.methods == ["apiinfo.version", "problem.get"]


def test_api_down_is_unavailable_without_any_authenticated_call() -> None:
    replay = Replay({"apiinfo.version": za.Exchange(failure=za.CONNECTION_FAILED)})
    facts = zf.observe_problem_summary(replay, "http")
    assert facts["assessment"] == {"state": "unavailable", "reasons": ["connection_failed"]}
    assert (facts["api_version"], facts["auth_method"]) == ("unknown", "unknown")
    assert replay.methods == ["apiinfo.version"]


def test_database_down_blocks_the_summary() -> None:
    replay = Replay({"apiinfo.version": recorded("apiinfo_version_database_down")})
    facts = zf.observe_problem_summary(replay, "http")
    assert facts["coverage"] == {"state": "blocked", "blockers": ["api_error"]}
    assert replay.methods == ["apiinfo.version"]


def test_failure_midway_gives_partial_counts(facts_schema_errors: Any) -> None:
    """Composed: the fourth severity's request times out."""
    replay = Replay({"problem_count_severity_3": za.Exchange(failure=za.TIMEOUT)})
    facts = zf.observe_problem_summary(replay, "http")
    assert facts_schema_errors(facts, PROBLEM_SCHEMA) == []
    assert facts["scope"]["observed"] == ["not_classified", "information", "warning"]
    assert facts["coverage"] == {"state": "partial", "blockers": ["timeout"]}
    assert facts["assessment"] == {"state": "unknown", "reasons": ["timeout"]}
    assert facts["problems"] == {"not_classified": 0, "information": 1, "warning": 0, "average": None,
                                 "high": None, "disaster": None}
    assert facts["problems_total"] is None
    assert len(replay.calls) == 5


@pytest.mark.parametrize(("version", "method"), [("6.4.0", "bearer_header"), ("7.2.3", "bearer_header"),
                                                 ("5.4.1", "body_auth")])
def test_token_placement_follows_the_reported_version(version: str, method: str) -> None:
    """Composed version answers; the counts are the 6.0.14 recordings."""
    replay = Replay({"apiinfo.version": version_answer(version)})
    facts = zf.observe_problem_summary(replay, "http")
    assert facts["auth_method"] == method and facts["coverage"]["state"] == "complete"
    assert {call[3] for call in replay.calls[1:]} == {method}


def test_zabbix_without_api_tokens_is_unsupported() -> None:
    replay = Replay({"apiinfo.version": version_answer("5.2.7")})
    facts = zf.observe_problem_summary(replay, "http")
    assert facts["coverage"] == {"state": "blocked", "blockers": ["api_version_unsupported"]}
    assert facts["api_version"] == "5.2.7" and facts["auth_method"] == "unknown"
    assert replay.methods == ["apiinfo.version"]


def test_a_count_that_is_not_a_count_is_unparsed() -> None:
    answer = za.Exchange(http_status=200, body=b'{"jsonrpc":"2.0","result":[{"eventid":"1"}],"id":2}')
    facts = zf.observe_problem_summary(Replay({"problem_count_severity_0": answer}), "http")
    assert facts["coverage"] == {"state": "blocked", "blockers": ["result_unparsed"]}


# --- host availability ---------------------------------------------------------------------


def test_host_counts_and_agent_availability(facts_schema_errors: Any) -> None:
    replay = Replay()
    facts = zf.observe_host_availability(replay, "http")
    assert facts_schema_errors(facts, HOST_SCHEMA) == []
    assert facts == {
        "contract": {"id": "tecrax.zabbix_host_availability_summary", "version": "1.0"},
        "scope": {"requested": ["host_status", "agent_availability"],
                  "observed": ["host_status", "agent_availability"], "not_observed": []},
        "coverage": {"state": "complete", "blockers": []},
        "assessment": {"state": "healthy"},
        "non_claims": list(zf.HOST_NON_CLAIMS),
        "api_version": "6.0.14",
        "auth_method": "body_auth",
        "transport": HTTP,
        "hosts": {"enabled": 4, "disabled": 1},
        "agent_availability": {"available": 1, "unavailable": 1, "unknown": 1, "without_agent_interface": 1},
    }
    listing_call = replay.calls[-1]
    assert listing_call[0] == "host.get" and listing_call[4] == za.MAX_LISTING_RESPONSE_BYTES
    assert listing_call[1]["limit"] == za.MAX_LISTED_HOSTS + 1


def test_hostinterface_get_would_count_host_prototype_interfaces() -> None:
    """Why the listing comes from host.get: on the same server, hostinterface.get returns agent
    interfaces of hosts that host.get does not know (template host prototypes)."""
    hosts = json.loads(body("host_listing"))["result"]
    interfaces = json.loads(body("hostinterface_listing_agent"))["result"]
    real = {host["hostid"] for host in hosts}
    tallied = zf.observe_host_availability(Replay(), "http")["agent_availability"]
    agent_hosts = sum(tallied[state] for state in ("available", "unavailable", "unknown"))
    assert len([interface for interface in interfaces if interface["hostid"] in real]) == agent_hosts == 3
    # Besides the disabled host's interface, the rest belong to host prototypes.
    assert len(interfaces) - agent_hosts - 1 >= 10


def test_rejected_token_blocks_both_parts(facts_schema_errors: Any) -> None:
    replay = Replay({"host.get": recorded("problem_count_wrong_token")})
    facts = zf.observe_host_availability(replay, "http")
    assert facts_schema_errors(facts, HOST_SCHEMA) == []
    assert facts["assessment"] == {"state": "unavailable", "reasons": ["authentication_rejected"]}
    assert facts["hosts"] == {"enabled": None, "disabled": None}
    assert facts["agent_availability"] == dict.fromkeys(za.AGENT_STATES)
    assert replay.methods == ["apiinfo.version", "host.get"]


@pytest.mark.parametrize(
    ("listing", "blocker"),
    [
        pytest.param(za.Exchange(http_status=200, body=b"x" * 10, truncated=True), "response_too_large", id="too-large"),
        pytest.param(za.Exchange(failure=za.TIMEOUT), "timeout", id="timeout"),
        pytest.param(za.Exchange(http_status=200, body=json.dumps(
            {"jsonrpc": "2.0", "result": [{"hostid": "1", "interfaces": [{"type": "1", "main": "1", "available": "7"}]}],
             "id": 4}).encode()), "result_unparsed", id="unknown-availability-value"),
        pytest.param(za.Exchange(http_status=200, body=json.dumps(
            {"jsonrpc": "2.0", "result": [{"hostid": str(n), "interfaces": []} for n in range(za.MAX_LISTED_HOSTS + 1)],
             "id": 4}).encode()), "host_limit_exceeded", id="over-the-host-limit"),
    ],
)
def test_listing_failure_keeps_the_host_counts(facts_schema_errors: Any, listing: za.Exchange, blocker: str) -> None:
    """Composed listings; the counts are recorded."""
    facts = zf.observe_host_availability(Replay({"host_listing": listing}), "http")
    assert facts_schema_errors(facts, HOST_SCHEMA) == []
    assert facts["coverage"] == {"state": "partial", "blockers": [blocker]}
    assert facts["assessment"] == {"state": "unknown", "reasons": [blocker]}
    assert facts["hosts"] == {"enabled": 4, "disabled": 1}
    assert facts["agent_availability"] == dict.fromkeys(za.AGENT_STATES)


# --- totality ------------------------------------------------------------------------------

exchanges = st.one_of(
    st.builds(za.Exchange, failure=st.sampled_from([*za.TRANSPORT_FAILURES, "bogus"])),
    st.builds(za.Exchange, http_status=st.integers(100, 999), body=st.binary(max_size=300), truncated=st.booleans()),
    st.builds(
        za.Exchange,
        http_status=st.just(200),
        body=st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
            max_leaves=12,
        ).map(lambda value: json.dumps({"jsonrpc": "2.0", "result": value, "id": 1}).encode()),
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), which=st.sampled_from(["reachability", "problems", "hosts"]))
def test_any_answers_give_valid_facts(facts_schema_errors: Any, data: st.DataObject, which: str) -> None:
    def call(method: str, params: Any, request_id: int, auth_method: Any, max_bytes: int) -> za.Exchange:
        if method == "apiinfo.version" and data.draw(st.booleans()):
            return version_answer(data.draw(st.sampled_from(["6.0.14", "5.2.0", "7.0.1", "6.4.0rc2"])))
        exchange = data.draw(exchanges)
        if exchange.body.startswith(b'{"jsonrpc"'):
            return za.Exchange(http_status=200, body=exchange.body.replace(b'"id": 1}', b'"id": %d}' % request_id))
        return exchange

    observe, schema = {
        "reachability": (zf.observe_reachability, REACHABILITY_SCHEMA),
        "problems": (zf.observe_problem_summary, PROBLEM_SCHEMA),
        "hosts": (zf.observe_host_availability, HOST_SCHEMA),
    }[which]
    facts = observe(call, data.draw(st.sampled_from(["http", "https"])))
    guard_facts(facts)
    assert facts_schema_errors(facts, schema) == []
