"""Fuzz: the Zabbix JSON-RPC classifier, endpoint rules and the three observations, on mutated
answers recorded from Zabbix 6.0.14. No exception but ZabbixOptionError for a refused
endpoint, schema-valid facts."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.zabbix import zabbix_api as za
from ansible_collections.tecrax.ops.plugins.module_utils.zabbix import zabbix_facts as zf
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import MAX_SAFE_INT
from unit.mutations import FUZZ, mutated, mutated_text
from unit.zabbix_replay import INDEX, Replay, recorded

RECORDINGS = [recorded(name) for name in sorted(INDEX)]
OBSERVATIONS = {
    "reachability": (zf.observe_reachability, "zabbix_api_reachability.v1.schema.json"),
    "problems": (zf.observe_problem_summary, "zabbix_problem_summary.v1.schema.json"),
    "hosts": (zf.observe_host_availability, "zabbix_host_availability_summary.v1.schema.json"),
}
FAILURES = set(za.TRANSPORT_FAILURES) | {
    za.HTTP_ERROR_STATUS, za.RESPONSE_TOO_LARGE, za.RESPONSE_NOT_JSON, za.RESPONSE_NOT_JSONRPC,
    za.AUTHENTICATION_REJECTED, za.API_ERROR}


def count_answer(count: int, request_id: int) -> za.Exchange:
    """Composed: a count as a JSON integer (Zabbix sends a string; count_result takes both)."""
    return za.Exchange(http_status=200, body=b'{"jsonrpc":"2.0","result":%d,"id":%d}' % (count, request_id))


def mutated_exchange(exchange: za.Exchange) -> st.SearchStrategy[za.Exchange]:
    return mutated(dataclasses.asdict(exchange), keep_types=True, json=True).map(lambda fields: za.Exchange(**fields))


@FUZZ
@given(st.data(), st.sampled_from(sorted(OBSERVATIONS)), st.sampled_from(["http", "https"]))
def test_zabbix_observations_of_mutated_answers(facts_schema_errors: Any, data: st.DataObject, which: str,
                                                scheme: str) -> None:
    replay = Replay()

    def call(method: str, params: Any, request_id: int, auth_method: Any, max_bytes: int) -> za.Exchange:
        answer = replay(method, params, request_id, auth_method, max_bytes)
        seed = data.draw(st.sampled_from([answer, answer, count_answer(2 ** 52, request_id), *RECORDINGS]))
        return data.draw(st.one_of(st.just(seed), mutated_exchange(seed)))

    observe, schema = OBSERVATIONS[which]
    facts = observe(call, scheme)
    assert facts_schema_errors(facts, schema) == []


@FUZZ
@given(st.lists(st.one_of(st.integers(0, 10 ** 6), st.integers(2 ** 52, 2 ** 53 + 8)), min_size=6, max_size=6),
       st.sampled_from(["%d", '"%d"']))
def test_problem_summary_of_any_counts(facts_schema_errors: Any, counts: list[int], form: str) -> None:
    def call(method: str, params: Any, request_id: int, auth_method: Any, max_bytes: int) -> za.Exchange:
        if method == "apiinfo.version":
            return recorded("apiinfo_version")
        result = (form % counts[params["severities"][0]]).encode()
        return za.Exchange(http_status=200, body=b'{"jsonrpc":"2.0","result":%s,"id":%d}' % (result, request_id))

    facts = zf.observe_problem_summary(call, "http")
    assert facts_schema_errors(facts, "zabbix_problem_summary.v1.schema.json") == []


@FUZZ
@given(st.sampled_from(RECORDINGS).flatmap(mutated_exchange), st.integers(1, 9))
def test_classify_of_mutated_answers(exchange: za.Exchange, request_id: int) -> None:
    outcome = za.classify(exchange, request_id)
    assert outcome.failure is None or outcome.failure in FAILURES
    assert outcome.result is None or outcome.failure is None


ENDPOINT_SEEDS = [("https://zabbix.example.org/zabbix/api_jsonrpc.php", "/etc/tecrax/zabbix-ca.pem"),
                  ("http://192.0.2.10:8080/api_jsonrpc.php", None), ("https://[2001:db8::5]/api_jsonrpc.php", "/ca.pem")]


@FUZZ
@given(st.sampled_from(ENDPOINT_SEEDS).flatmap(mutated))
def test_endpoint_rules_of_mutated_urls(seed: tuple[Any, Any]) -> None:
    url, ca_file = seed
    try:
        endpoint = za.parse_endpoint(url, ca_file)
    except za.ZabbixOptionError as error:
        assert str(error).startswith(("api_url", "ca_file"))
        assert not (isinstance(url, str) and len(url) > 16 and url in str(error))
        return
    assert endpoint.scheme in ("http", "https") and 1 <= endpoint.port <= 65535
    assert endpoint.url == url


@FUZZ
@given(mutated_text(["6.0.14", "7.2.0rc1", "5.4.0"], limit=64))
def test_version_reader_of_mutated_versions(text: str) -> None:
    version = za.parse_version(text)
    assert version is None or all(isinstance(part, int) and part >= 0 for part in version)


def test_problem_total_above_the_largest_safe_integer_is_clamped_and_flagged(facts_schema_errors: Any) -> None:
    """Regression: six counts just below 2**53 summed to a total the schema refuses."""
    overrides = {"problem_count_severity_%d" % severity: count_answer(MAX_SAFE_INT, 2 + severity)
                 for severity in range(6)}
    facts = zf.observe_problem_summary(Replay(overrides), "http")
    assert facts_schema_errors(facts, "zabbix_problem_summary.v1.schema.json") == []
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    assert facts["problems"] == dict.fromkeys(zf.SEVERITIES, MAX_SAFE_INT)
    assert (facts["problems_total"], facts["problems_total_clamped"]) == (MAX_SAFE_INT, True)


def test_problem_total_that_fits_carries_no_clamp_flag() -> None:
    overrides = {"problem_count_severity_0": count_answer(MAX_SAFE_INT - 6, 2)}
    facts = zf.observe_problem_summary(Replay(overrides), "http")
    assert facts["problems_total"] == MAX_SAFE_INT
    assert "problems_total_clamped" not in facts


@pytest.mark.parametrize("status", [True, -1, 42, 1000, "200", 200.0])
def test_an_answer_without_a_real_status_code_is_a_protocol_error(facts_schema_errors: Any, status: Any) -> None:
    """Regression: any http_status was passed on, so True or 1000 reached the facts."""
    exchange = za.Exchange(http_status=status, body=recorded("apiinfo_version").body)
    assert za.classify(exchange, 1) == za.RpcOutcome(za.HTTP_PROTOCOL_ERROR)
    facts = zf.observe_reachability(Replay({"apiinfo.version": exchange}), "http")
    assert facts_schema_errors(facts, "zabbix_api_reachability.v1.schema.json") == []
    assert facts["assessment"] == {"state": "unavailable", "reasons": ["http_protocol_error"]}
    assert facts["http_status"] is None
