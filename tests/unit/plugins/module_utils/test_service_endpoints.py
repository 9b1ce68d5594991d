"""Option rules of the AdGuard Home and Portainer checks (also the backend's config rules)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.services.service_endpoints import (
    EndpointOptionError,
    WebEndpoint,
    adguard_settings,
    check_ca_file,
    normalize_query_name,
    parse_dns_server,
    parse_web_url,
    portainer_settings,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://adguard.example.org", WebEndpoint("https", "adguard.example.org", 443, "")),
        ("http://192.0.2.10:3000/", WebEndpoint("http", "192.0.2.10", 3000, "")),
        ("https://Portainer.Example.ORG.:9443/ops/portainer/",
         WebEndpoint("https", "portainer.example.org", 9443, "/ops/portainer")),
        ("https://[2001:db8::1]:8443/a", WebEndpoint("https", "2001:db8::1", 8443, "/a")),
        ("http://localhost", WebEndpoint("http", "localhost", 80, "")),
    ],
)
def test_accepted_urls(url: str, expected: WebEndpoint) -> None:
    assert parse_web_url(url, "web_url") == expected


def test_request_path_goes_under_the_prefix() -> None:
    assert parse_web_url("https://h.example/adguard", "web_url").path_for("/login.html") == "/adguard/login.html"
    assert parse_web_url("https://h.example", "web_url").path_for("/login.html") == "/login.html"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (None, "web_url must be a URL of at most 2048 characters"),
        ("https://" + "a" * 2050, "web_url must be a URL of at most 2048 characters"),
        ("ftp://h.example", "web_url must start with http:// or https://"),
        ("HTTPS://h.example", "web_url must start with http:// or https://"),
        ("https:/h.example", "web_url must start with http:// or https://"),
        ("https://:8443/x", "web_url has no host"),
        ("https://user:pw@h.example", "web_url must not carry user information"),
        ("https://h.example/?debug=1", "web_url must not have a query or fragment"),
        ("https://h.example/#top", "web_url must not have a query or fragment"),
        ("https://h.example/a b", "web_url must not contain whitespace, control characters or backslashes"),
        ("https://h.example/a\\b", "web_url must not contain whitespace, control characters or backslashes"),
        ("https://h.example:0", "web_url port must be between 1 and 65535"),
        ("https://h.example:99999", "web_url is not a valid URL (bad host or port)"),
        ("https://h_x.example", "web_url host must be a DNS name or an IP address"),
        ("https://300.1.1.1", "web_url host must be a DNS name or an IP address"),
        ("https://[fe80::1%25eth0]", "web_url host is not a valid IPv6 address (no zone index)"),
        ("https://h.example/a/../b", "web_url path must be at most 8 segments of letters, digits, '.', '_', '~', '-'"),
        ("https://h.example//a", "web_url path is not a plain path"),
        ("https://h.example/" + "/".join("abcdefghi"), "web_url path must be at most 8 segments of letters, digits, '.', '_', '~', '-'"),
        ("https://h.example/%2e%2e", "web_url path must be at most 8 segments of letters, digits, '.', '_', '~', '-'"),
    ],
)
def test_refused_urls_name_the_option(url: Any, message: str) -> None:
    with pytest.raises(EndpointOptionError) as refused:
        parse_web_url(url, "web_url")
    assert str(refused.value) == message


def test_https_only_refuses_plain_http() -> None:
    with pytest.raises(EndpointOptionError, match=r"^base_url must start with https:// \(only verified TLS is used\)$"):
        parse_web_url("http://portainer.example.org:9000", "base_url", https_only=True)


def test_ca_file_belongs_to_https_only() -> None:
    https, http = parse_web_url("https://h.example", "web_url"), parse_web_url("http://h.example", "web_url")
    assert check_ca_file(https, "/etc/tecrax/ca.pem", "web_url") == "/etc/tecrax/ca.pem"
    assert check_ca_file(http, None, "web_url") is None
    for bad in (None, "ca.pem", "/etc/../ca.pem", "/etc/my ca.pem"):
        with pytest.raises(EndpointOptionError, match=r"^ca_file \(an absolute path\) is required for an https web_url$"):
            check_ca_file(https, bad, "web_url")
    with pytest.raises(EndpointOptionError, match=r"^ca_file is only used with an https web_url$"):
        check_ca_file(http, "/etc/tecrax/ca.pem", "web_url")


@pytest.mark.parametrize(("value", "expected"), [("192.0.2.10", "192.0.2.10"), ("2001:DB8::53", "2001:db8::53")])
def test_dns_server_is_an_address(value: str, expected: str) -> None:
    assert parse_dns_server(value) == expected


@pytest.mark.parametrize("value", ["adguard.example.org", "", None, "0.0.0.0", "::", "224.0.0.1",
                                   "255.255.255.255", "192.0.2.1:53", 53])
def test_dns_server_refuses_names_and_non_unicast(value: Any) -> None:
    with pytest.raises(EndpointOptionError, match=r"^dns_server must be "):
        parse_dns_server(value)


@pytest.mark.parametrize(("value", "expected"), [("Example.COM.", "example.com"), ("a-b.c1.example", "a-b.c1.example")])
def test_query_names(value: str, expected: str) -> None:
    assert normalize_query_name(value) == expected


@pytest.mark.parametrize("value", ["localhost", "example..com", "-a.example", "a_b.example", "192.0.2.1",
                                   "a" * 64 + ".example", "ex ample.com", "", None, "example.com\n"])
def test_bad_query_names(value: Any) -> None:
    with pytest.raises(EndpointOptionError, match=r"^query_name must be a DNS name"):
        normalize_query_name(value)


def test_adguard_settings_fill_defaults() -> None:
    assert adguard_settings({"dns_server": "192.0.2.10", "web_url": "http://192.0.2.10:3000"}) == {
        "dns_server": "192.0.2.10", "dns_port": 53, "query_name": "example.com",
        "web_url": "http://192.0.2.10:3000", "timeout_seconds": 5,
    }
    assert adguard_settings({"dns_server": "192.0.2.10", "web_url": "https://adguard.example.org",
                             "ca_file": "/etc/tecrax/adguard-ca.pem", "dns_port": 5353, "timeout_seconds": 60,
                             "query_name": "Probe.Example.org"})["query_name"] == "probe.example.org"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ("adguard", "must be a mapping"),
        ({"dns_server": "192.0.2.10", "web_url": "http://h.example", "password": "x"},
         "password is not a known key (known: dns_server, dns_port, query_name, web_url, ca_file, timeout_seconds)"),
        ({"web_url": "http://h.example"}, "dns_server must be an IPv4 or IPv6 address"),
        ({"dns_server": "192.0.2.10"}, "web_url must be a URL of at most 2048 characters"),
        ({"dns_server": "192.0.2.10", "web_url": "http://h.example", "dns_port": 0},
         "dns_port must be an integer from 1 to 65535"),
        ({"dns_server": "192.0.2.10", "web_url": "http://h.example", "dns_port": True},
         "dns_port must be an integer from 1 to 65535"),
        ({"dns_server": "192.0.2.10", "web_url": "http://h.example", "timeout_seconds": 0},
         "timeout_seconds must be an integer from 1 to 60"),
        ({"dns_server": "192.0.2.10", "web_url": "https://h.example"},
         "ca_file (an absolute path) is required for an https web_url"),
    ],
)
def test_bad_adguard_settings(settings: Any, message: str) -> None:
    with pytest.raises(EndpointOptionError) as refused:
        adguard_settings(settings)
    assert str(refused.value) == message


def test_portainer_settings() -> None:
    assert portainer_settings({"base_url": "https://p.example:9443", "ca_file": "/etc/tecrax/p.pem"}) == {
        "base_url": "https://p.example:9443", "ca_file": "/etc/tecrax/p.pem", "timeout_seconds": 10}
    with pytest.raises(EndpointOptionError, match=r"^ca_file \(an absolute path\) is required for an https base_url$"):
        portainer_settings({"base_url": "https://p.example:9443"})
    with pytest.raises(EndpointOptionError, match=r"^api_key is not a known key "):
        portainer_settings({"base_url": "https://p.example:9443", "ca_file": "/p.pem", "api_key": "x"})


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=80), st.text(alphabet="htps:/[]@?#%.:0123456789abcxyz-_ \\", max_size=40).map(
    lambda tail: "https://" + tail)))
def test_any_text_is_refused_cleanly_or_gives_a_clean_endpoint(url: str) -> None:
    try:
        endpoint = parse_web_url(url, "web_url")
    except EndpointOptionError as refused:
        assert str(refused).startswith("web_url ")
        return
    assert endpoint.scheme in ("http", "https") and 1 <= endpoint.port <= 65535
    assert not any(ch.isspace() or ch in "@?#\\%" for ch in endpoint.host + endpoint.prefix)
    assert endpoint.prefix == "" or (endpoint.prefix.startswith("/") and not endpoint.prefix.endswith("/"))
    assert "/../" not in endpoint.prefix + "/" and "/./" not in endpoint.prefix + "/"
