"""The allowed-subnet validator shared by the chrony modules, the role and the backend.

The private networks below are validator inputs (a network names no host)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_subnets import (
    MAX_SUBNETS,
    SubnetError,
    validate_allowed_subnets,
)

RFC1918 = [ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
ULA = ipaddress.IPv6Network("fc00::/7")


def test_accepts_and_canonicalizes() -> None:
    assert validate_allowed_subnets(["192.168.50.0/24", "10.20.0.0/16", "FD12:3456:789A::/48", "172.16.4.0/30"]) == [
        "10.20.0.0/16",
        "172.16.4.0/30",
        "192.168.50.0/24",
        "fd12:3456:789a::/48",
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["8.8.8.0/24"], "allowed_subnets[0] '8.8.8.0/24' is not inside a private range (RFC 1918"),
        (["198.18.0.0/24"], "is not inside a private range"),
        (["127.0.0.0/16"], "is not inside a private range"),
        (["169.254.0.0/16"], "is not inside a private range"),
        (["224.0.0.0/24"], "is not inside a private range"),
        (["0.0.0.0/24"], "'0.0.0.0/24' is not inside a private range"),
        (["10.0.0.0/8"], "'10.0.0.0/8' has prefix /8; IPv4 networks must be /16 to /30"),
        (["10.1.2.0/31"], "has prefix /31; IPv4 networks must be /16 to /30"),
        (["10.1.2.4/32"], "has prefix /32"),
        (["10.1.2.1/24"], "'10.1.2.1/24' has host bits set; write the network address"),  # secret-topology: allow a malformed validator input
        (["10.1.2.0/24\nallow 0.0.0.0/0"], "contains whitespace, a control character or a comment"),
        (["10.1.2.0/24 # office"], "contains whitespace"),
        (["10.1.2.0/24#x"], "contains whitespace, a control character or a comment"),
        ([" 10.1.2.0/24"], "contains whitespace"),
        (["10.1.2.0/24\x00"], "a control character"),
        (["allow 10.1.2.0/24"], "contains whitespace"),
        (["10.1.2.0"], "has no prefix length"),  # secret-topology: allow a malformed validator input
        (["10.1.2.0/"], "is not an IPv4 or IPv6 network in CIDR notation"),  # secret-topology: allow a malformed validator input
        (["10.01.2.0/24"], "is not a valid network"),
        (["10.1.2.0/024"], "is not an IPv4 or IPv6 network in CIDR notation"),  # secret-topology: allow a malformed validator input
        (["example.invalid/24"], "is not an IPv4 or IPv6 network in CIDR notation"),
        (["::/48"], "is not inside the IPv6 unique local range fc00::/7"),
        (["2001:db8::/48"], "is not inside the IPv6 unique local range"),
        (["fe80::/64"], "is not inside the IPv6 unique local range"),
        (["fd00::/40"], "has prefix /40; IPv6 networks must be /48 to /64"),
        (["fd00::/96"], "has prefix /96"),
        (["fd00::1/64"], "has host bits set"),
        (["::ffff:10.0.0.0/120"], "is not an IPv4 or IPv6 network in CIDR notation"),  # secret-topology: allow a malformed validator input
        ([""], "allowed_subnets[0] is empty"),
        ([24], "allowed_subnets[0] must be a string in CIDR notation, got int"),
        ([None], "got NoneType"),
        (["10.1.0.0/16", "10.1.0.0/16"], "allowed_subnets[1] '10.1.0.0/16' repeats allowed_subnets[0]"),
        (["fd00::/48", "FD00::/48"], "repeats allowed_subnets[0]"),
        ([], "allowed_subnets is empty; name at least one client subnet"),
        ("10.1.0.0/16", "allowed_subnets must be a list of CIDR networks, got str"),
        ({"10.1.0.0/16": True}, "got dict"),
        (None, "got NoneType"),
        (["1" * 200], "is longer than 49 characters"),
    ],
)
def test_refuses_with_a_clear_message(value: Any, message: str) -> None:
    with pytest.raises(SubnetError) as refused:
        validate_allowed_subnets(value)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_bounded_count() -> None:
    subnets = ["10.%d.0.0/16" % i for i in range(MAX_SUBNETS)]
    assert len(validate_allowed_subnets(subnets)) == MAX_SUBNETS
    with pytest.raises(SubnetError, match="has 33 entries; at most 32 are allowed"):
        validate_allowed_subnets(subnets + ["10.200.0.0/16"])
    with pytest.raises(SubnetError, match="has 1000 entries"):
        validate_allowed_subnets(["10.1.0.0/16"] * 1000)


# --- properties -------------------------------------------------------------------------------

ipv4_networks = st.builds(
    lambda address, prefix: ipaddress.IPv4Network((address, prefix), strict=False),
    st.integers(0, 2**32 - 1),
    st.integers(0, 32),
)
ipv6_networks = st.builds(
    lambda address, prefix: ipaddress.IPv6Network((address, prefix), strict=False),
    st.one_of(st.integers(0, 2**128 - 1), st.integers(int(ULA.network_address), int(ULA.broadcast_address))),
    st.integers(0, 128),
)


def _inside(parent: Any, prefix: int, offset: int) -> Any:
    address = parent.network_address + offset % parent.num_addresses
    return ipaddress.ip_network((address, prefix), strict=False)


accepted_networks = st.one_of(
    st.builds(_inside, st.sampled_from(RFC1918), st.integers(16, 30), st.integers(0, 2**32)),
    st.builds(_inside, st.just(ULA), st.integers(48, 64), st.integers(0, 2**128)),
)


def _acceptable(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    if network.version == 4:
        return any(network.subnet_of(private) for private in RFC1918) and 16 <= network.prefixlen <= 30  # type: ignore[arg-type]
    return network.subnet_of(ULA) and 48 <= network.prefixlen <= 64  # type: ignore[arg-type]


@given(st.one_of(ipv4_networks, ipv6_networks))
def test_a_network_is_accepted_exactly_when_private_and_in_prefix_bounds(network: Any) -> None:
    text = str(network)
    if _acceptable(network):
        assert validate_allowed_subnets([text]) == [text]
    else:
        with pytest.raises(SubnetError):
            validate_allowed_subnets([text])


@given(st.one_of(ipv4_networks, ipv6_networks), st.integers(1, 2**32 - 1))
def test_host_bits_are_always_refused(network: Any, offset: int) -> None:
    assume(network.num_addresses > 1)
    address = network.network_address + (offset % (network.num_addresses - 1) + 1)
    with pytest.raises(SubnetError):
        validate_allowed_subnets(["%s/%d" % (address, network.prefixlen)])


@given(
    accepted_networks,
    st.text(min_size=1, max_size=20),
    st.sampled_from(["prefix", "suffix"]),
)
def test_anything_added_around_an_accepted_network_is_refused(network: Any, extra: str, where: str) -> None:
    text = extra + str(network) if where == "prefix" else str(network) + extra
    try:
        accepted = validate_allowed_subnets([text])
    except SubnetError:
        return
    # The only way to survive is to still be one canonical network, e.g. "1" + "0.20.0.0/16".
    assert len(accepted) == 1
    assert ipaddress.ip_network(accepted[0]) == ipaddress.ip_network(text, strict=True)
    assert not any(ch.isspace() or ch == "#" for ch in text)


@given(accepted_networks)
def test_generated_private_networks_are_accepted(network: Any) -> None:
    assert _acceptable(network)
    assert validate_allowed_subnets([str(network).upper()]) == [str(network)]


@given(st.lists(st.one_of(st.text(max_size=60), accepted_networks.map(str), ipv4_networks.map(str)), max_size=40))
def test_output_is_always_canonical_private_cidr_lines(values: list[str]) -> None:
    try:
        accepted = validate_allowed_subnets(values)
    except SubnetError as refused:
        assert str(refused) and "\n" not in str(refused) and len(str(refused)) < 300
        return
    assert 1 <= len(accepted) <= MAX_SUBNETS
    assert len(set(accepted)) == len(accepted)
    for text in accepted:
        network = ipaddress.ip_network(text, strict=True)
        assert str(network) == text and _acceptable(network)


@given(st.lists(accepted_networks, min_size=1, max_size=8, unique=True))
def test_order_of_the_input_does_not_matter(networks: list[Any]) -> None:
    texts = [str(network) for network in networks]
    assert validate_allowed_subnets(texts) == validate_allowed_subnets(list(reversed(texts)))
