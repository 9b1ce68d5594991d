"""The Zabbix JSON-RPC protocol helpers: endpoint rules, requests, response classification."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.zabbix import zabbix_api as za
from unit.zabbix_replay import INDEX, recorded

CA = "/etc/tecrax/zabbix-ca.pem"


@pytest.mark.parametrize(
    ("url", "ca_file", "expected"),
    [
        ("http://198.51.100.7/zabbix/api_jsonrpc.php", None, ("http", "198.51.100.7", 80)),
        ("https://zabbix.example.org/zabbix/api_jsonrpc.php", CA, ("https", "zabbix.example.org", 443)),
        ("https://Zabbix.Example.org:8443/api_jsonrpc.php", CA, ("https", "zabbix.example.org", 8443)),
        ("http://[2001:db8::5]:8080/monitoring/zabbix/api_jsonrpc.php", None, ("http", "2001:db8::5", 8080)),
    ],
)
def test_accepted_endpoints(url: str, ca_file: Any, expected: tuple[str, str, int]) -> None:
    endpoint = za.parse_endpoint(url, ca_file)
    assert (endpoint.scheme, endpoint.host, endpoint.port) == expected
    assert endpoint.url == url


@pytest.mark.parametrize(
    ("url", "ca_file", "message"),
    [
        ("ftp://zabbix.example.org/api_jsonrpc.php", None, "must start with http:// or https://"),
        ("HTTP://zabbix.example.org/api_jsonrpc.php", None, "must start with http:// or https://"),
        ("zabbix.example.org/api_jsonrpc.php", None, "must start with http:// or https://"),
        ("https://zabbix.example.org/api_jsonrpc.php", None, "ca_file (an absolute path) is required"),
        ("https://zabbix.example.org/api_jsonrpc.php", "ca.pem", "ca_file (an absolute path) is required"),
        ("http://zabbix.example.org/api_jsonrpc.php", CA, "ca_file is only used with an https api_url"),
        ("http://admin:pw@zabbix.example.org/api_jsonrpc.php", None, "must not carry user information"),
        ("http://zabbix.example.org/api_jsonrpc.php?x=1", None, "must not have a query or fragment"),
        ("http://zabbix.example.org/api_jsonrpc.php#top", None, "must not have a query or fragment"),
        ("http://zabbix.example.org/zabbix/", None, "path must end with the file api_jsonrpc.php"),
        ("http://zabbix.example.org/../api_jsonrpc.php", None, "path must end with the file api_jsonrpc.php"),
        ("http://zabbix.example.org/a b/api_jsonrpc.php", None, "whitespace or control characters"),
        ("http://zabbix.example.org/x\n/api_jsonrpc.php", None, "whitespace or control characters"),
        ("http://zabbix.example.org:99999/api_jsonrpc.php", None, "not a valid URL"),
        ("http://zabbix.example.org:0/api_jsonrpc.php", None, "port must be between 1 and 65535"),
        ("http://999.1.1.1/api_jsonrpc.php", None, "must be a DNS name or an IP address"),
        ("http://zab_bix.example.org/api_jsonrpc.php", None, "must be a DNS name or an IP address"),
        ("http:///api_jsonrpc.php", None, "has no host"),
        ("http://[fe80::1%25eth0]/api_jsonrpc.php", None, "not a valid IPv6 address"),
        ("", None, "at most 2048 characters"),
        (None, None, "at most 2048 characters"),
        ("http://z.example.org/" + "a/" * 1100 + "api_jsonrpc.php", None, "at most 2048 characters"),
    ],
)
def test_refused_endpoints(url: Any, ca_file: Any, message: str) -> None:
    with pytest.raises(za.ZabbixOptionError) as refused:
        za.parse_endpoint(url, ca_file)
    assert message in str(refused.value)
    if isinstance(url, str) and "pw@" in url:
        assert "pw" not in str(refused.value)


@pytest.mark.parametrize("value", [0, 61, -1, True, "10", None, 1.5])
def test_timeout_bounds(value: Any) -> None:
    with pytest.raises(za.ZabbixOptionError, match="timeout_seconds must be an integer from 1 to 60"):
        za.check_timeout(value)
    assert za.check_timeout(1) == 1 and za.check_timeout(60) == 60


def test_request_body_places_a_credential_only_when_told() -> None:
    plain = json.loads(za.request_body("apiinfo.version", [], 1))
    assert plain == {"jsonrpc": "2.0", "method": "apiinfo.version", "params": [], "id": 1}
    with_auth = json.loads(za.request_body("problem.get", {"countOutput": True}, 2, "abc123"))
    assert with_auth == {"jsonrpc": "2.0", "method": "problem.get", "params": {"countOutput": True}, "id": 2,
                         "auth": "abc123"}


@pytest.mark.parametrize(
    ("text", "version", "method"),
    [
        ("6.0.14", (6, 0, 14), "body_auth"),
        ("5.4.0", (5, 4, 0), "body_auth"),
        ("6.2.9", (6, 2, 9), "body_auth"),
        ("6.4.0", (6, 4, 0), "bearer_header"),
        ("7.0.0alpha9", (7, 0, 0), "bearer_header"),
        ("7.2.3", (7, 2, 3), "bearer_header"),
        ("5.2.7", (5, 2, 7), None),
        ("4.0.0", (4, 0, 0), None),
    ],
)
def test_token_placement_by_version(text: str, version: tuple[int, int, int], method: Any) -> None:
    assert za.parse_version(text) == version
    assert za.auth_method_for(version) == method


@pytest.mark.parametrize("text", ["6.0", "6.0.14 ", "v6.0.14", "6.0.14-1", "", "6.0.x", 6.0, None, ["6.0.14"],
                                  "1234.0.0", "６.0.14"])
def test_unrecognized_versions(text: Any) -> None:
    assert za.parse_version(text) is None


@pytest.mark.parametrize(
    ("name", "failure", "result"),
    [
        ("apiinfo_version", None, "6.0.14"),
        ("problem_count_severity_5", None, "3"),
        ("host_count_enabled", None, "4"),
        ("problem_count_wrong_token", "authentication_rejected", None),
        ("problem_count_expired_token", "authentication_rejected", None),
        ("problem_count_bearer_header_on_6_0", "authentication_rejected", None),
        ("apiinfo_version_with_auth", "api_error", None),
        ("apiinfo_version_database_down", "api_error", None),
        ("problem_count_database_down", "api_error", None),
        ("wrong_path", "http_error_status", None),
    ],
)
def test_classify_recorded_responses(name: str, failure: Any, result: Any) -> None:
    outcome = za.classify(recorded(name), INDEX[name]["request"]["id"])
    assert (outcome.failure, outcome.result) == (failure, result)
    assert outcome.http_status == INDEX[name]["http_status"]


def test_classify_recorded_error_codes() -> None:
    assert za.classify(recorded("problem_count_wrong_token"), 2).error_code == -32602
    assert za.classify(recorded("problem_count_expired_token"), 2).error_code == -32500
    assert za.classify(recorded("apiinfo_version_database_down"), 1).error_code == 1


@pytest.mark.parametrize(
    ("exchange", "failure"),
    [
        (za.Exchange(failure="timeout"), "timeout"),
        (za.Exchange(failure="something else"), "transport_error"),
        (za.Exchange(), "transport_error"),
        (za.Exchange(http_status=500, body=b'{"jsonrpc":"2.0","result":"6.0.14","id":1}'), "http_error_status"),
        (za.Exchange(http_status=200, body=b'{"jsonrpc":"2.0","result":"6.0.14","id":1}', truncated=True),
         "response_too_large"),
        (za.Exchange(http_status=200, body=b"\xff\xfe{}"), "response_not_json"),
        (za.Exchange(http_status=200, body=b"[" * 100000 + b"]" * 100000), "response_not_json"),
        (za.Exchange(http_status=200, body=b'{"jsonrpc":"2.0","result":"6.0.14","id":7}'), "response_not_jsonrpc"),
        (za.Exchange(http_status=200, body=b'{"jsonrpc":"1.0","result":"6.0.14","id":1}'), "response_not_jsonrpc"),
        (za.Exchange(http_status=200, body=b'{"jsonrpc":"2.0","id":1}'), "response_not_jsonrpc"),
        (za.Exchange(http_status=200, body=b'{"jsonrpc":"2.0","result":1,"error":{},"id":1}'), "response_not_jsonrpc"),
        (za.Exchange(http_status=200, body=b'{"jsonrpc":"2.0","error":"no","id":1}'), "response_not_jsonrpc"),
        (za.Exchange(http_status=200, body=b'["6.0.14"]'), "response_not_jsonrpc"),
        (za.Exchange(http_status=200, body=b'{"jsonrpc":"2.0","error":{"code":true,"message":["x"]},"id":1}'),
         "api_error"),
        (za.Exchange(http_status=200,
                     body=b'{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params.",'
                          b'"data":"Session terminated, re-login, please."},"id":1}'),
         "authentication_rejected"),
    ],
)
def test_classify_composed_responses(exchange: za.Exchange, failure: str) -> None:
    assert za.classify(exchange, 1).failure == failure


@given(status=st.one_of(st.none(), st.integers(-5, 1000)), body=st.binary(max_size=200), truncated=st.booleans(),
       failure=st.one_of(st.none(), st.text(max_size=10)))
def test_classify_is_total(status: Any, body: bytes, truncated: bool, failure: Any) -> None:
    outcome = za.classify(za.Exchange(failure=failure, http_status=status, body=body, truncated=truncated), 1)
    assert outcome.failure is None or outcome.failure in (
        *za.TRANSPORT_FAILURES, "http_error_status", "response_too_large", "response_not_json",
        "response_not_jsonrpc", "authentication_rejected", "api_error")


@pytest.mark.parametrize(
    ("result", "count"),
    [("0", 0), ("17", 17), (5, 5), ("999999999999999", 999999999999999), ("1000000000000000", None),
     ("-1", None), (-1, None), (True, None), ("1.0", None), ("", None), ("٣", None), (None, None), ([], None)],
)
def test_count_result(result: Any, count: Any) -> None:
    assert za.count_result(result) == count


def host(*interfaces: tuple[str, str, str]) -> dict[str, Any]:
    return {"hostid": "1", "interfaces": [{"type": t, "main": m, "available": a} for t, m, a in interfaces]}


@pytest.mark.parametrize(
    ("listing", "expected"),
    [
        ([], {"available": 0, "unavailable": 0, "unknown": 0, "without_agent_interface": 0}),
        ([host(("1", "1", "1")), host(("1", "1", "2")), host(("1", "1", "0")), host(("2", "1", "1")), host()],
         {"available": 1, "unavailable": 1, "unknown": 1, "without_agent_interface": 2}),
        # The main agent interface decides; a second, non-main agent interface does not.
        ([host(("1", "0", "2"), ("1", "1", "1"), ("2", "1", "2"))],
         {"available": 1, "unavailable": 0, "unknown": 0, "without_agent_interface": 0}),
        ([host(("1", "1", "3"))], "result_unparsed"),
        ([host(("1", "1", "1"), ("1", "1", "1"))], "result_unparsed"),
        ([host(("1", "0", "1"))], "result_unparsed"),
        ([{"hostid": "1"}], "result_unparsed"),
        ([{"hostid": "1", "interfaces": [{"type": 1, "main": "1", "available": "1"}]}], "result_unparsed"),
        ([{"hostid": "1", "interfaces": ["1"]}], "result_unparsed"),
        (["10084"], "result_unparsed"),
        ({"10084": {}}, "result_unparsed"),
        ([host()] * (za.MAX_LISTED_HOSTS + 1), "host_limit_exceeded"),
    ],
)
def test_agent_availability(listing: Any, expected: Any) -> None:
    assert za.agent_availability(listing) == expected
