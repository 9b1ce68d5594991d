# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Validation of the client subnets a chrony NTP server may serve (``allow`` lines).

One validator for every entry point: the ``tecrax.ops.chrony_ntp_server`` modules, the
role (which calls the module), the ``tecrax.ops.ntp_allowed_subnets`` filter and the
``tecrax_ansible`` backend, which imports it without Ansible. It therefore stays pure
standard library and imports nothing from the collection.

Accepted: a list of 1 to ``MAX_SUBNETS`` strings, each a strict CIDR network (host bits
zero, prefix length written out) that is either IPv4 inside RFC 1918 with a prefix of
/16 to /30, or IPv6 inside the unique local range fc00::/7 with a prefix of /48 to /64.
Anything else (public, loopback, link-local, multicast or unspecified networks, whitespace,
newlines, comments, extra tokens, duplicates) is refused with a message that names the
entry and the rule it breaks.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, List, Union

MAX_SUBNETS = 32
MAX_SUBNET_CHARS = 49  # the longest IPv6 network in compressed form plus "/64"
IPV4_PREFIXES = (16, 30)
IPV6_PREFIXES = (48, 64)
IPV4_PRIVATE = tuple(
    ipaddress.IPv4Network(cidr) for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")  # secret-topology: allow the RFC 1918 ranges themselves
)
IPV6_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")

# Only the characters a CIDR network can contain; checked before parsing so that the
# parser never sees whitespace, comments or a second token.
_IPV4_CIDR = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}/[0-9]{1,2}")
_IPV6_CIDR = re.compile(r"[0-9A-Fa-f:]{2,39}/[0-9]{1,3}")

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


class SubnetError(ValueError):
    """An allowed-subnet list or entry is refused; the message says which and why."""


def describe(value: Any) -> str:
    """A short, escaped rendering of a refused value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_subnet(value: Any) -> Network:
    """Parse one entry or raise :class:`SubnetError` (message without the entry's index)."""
    if not isinstance(value, str):
        raise SubnetError("must be a string in CIDR notation, got %s" % type(value).__name__)
    if value == "":
        raise SubnetError("is empty")
    if len(value) > MAX_SUBNET_CHARS:
        raise SubnetError("is longer than %d characters" % MAX_SUBNET_CHARS)
    if any(ch.isspace() or not ch.isprintable() for ch in value) or "#" in value:
        raise SubnetError(
            "%s contains whitespace, a control character or a comment; give exactly one CIDR network"
            % describe(value)
        )
    if "/" not in value:
        raise SubnetError("%s has no prefix length; write a network such as <address>/24" % describe(value))
    if _IPV4_CIDR.fullmatch(value):
        network = _strict_network(value)
        _check_ipv4(value, network)
        return network
    if ":" in value and _IPV6_CIDR.fullmatch(value):
        network = _strict_network(value)
        _check_ipv6(value, network)
        return network
    raise SubnetError("%s is not an IPv4 or IPv6 network in CIDR notation" % describe(value))


def _strict_network(value: str) -> Network:
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        if "host bits set" in str(exc):
            raise SubnetError("%s has host bits set; write the network address" % describe(value)) from None
        raise SubnetError("%s is not a valid network (%s)" % (describe(value), exc)) from None


def _check_ipv4(value: str, network: Network) -> None:
    if not any(network.subnet_of(private) for private in IPV4_PRIVATE):  # type: ignore[arg-type]
        raise SubnetError(
            "%s is not inside a private range (RFC 1918: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)"  # secret-topology: allow the RFC 1918 ranges themselves
            % describe(value)
        )
    low, high = IPV4_PREFIXES
    if not low <= network.prefixlen <= high:
        raise SubnetError("%s has prefix /%d; IPv4 networks must be /%d to /%d"
                          % (describe(value), network.prefixlen, low, high))


def _check_ipv6(value: str, network: Network) -> None:
    if not network.subnet_of(IPV6_UNIQUE_LOCAL):  # type: ignore[arg-type]
        raise SubnetError("%s is not inside the IPv6 unique local range fc00::/7" % describe(value))
    low, high = IPV6_PREFIXES
    if not low <= network.prefixlen <= high:
        raise SubnetError("%s has prefix /%d; IPv6 networks must be /%d to /%d"
                          % (describe(value), network.prefixlen, low, high))


def sort_key(network: Network) -> tuple[int, int, int]:
    return (network.version, int(network.network_address), network.prefixlen)


def validate_allowed_subnets(value: Any) -> List[str]:
    """Return the canonical networks of ``value`` in address order (IPv4 first).

    Raises :class:`SubnetError` naming the first refused entry as ``allowed_subnets[i]``.
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise SubnetError("allowed_subnets must be a list of CIDR networks, got %s" % type(value).__name__)
    if not value:
        raise SubnetError("allowed_subnets is empty; name at least one client subnet")
    if len(value) > MAX_SUBNETS:
        raise SubnetError("allowed_subnets has %d entries; at most %d are allowed" % (len(value), MAX_SUBNETS))
    seen: dict[Network, int] = {}
    for index, item in enumerate(value):
        try:
            network = parse_subnet(item)
        except SubnetError as exc:
            raise SubnetError("allowed_subnets[%d] %s" % (index, exc)) from None
        if network in seen:
            raise SubnetError("allowed_subnets[%d] %s repeats allowed_subnets[%d]"
                              % (index, describe(item), seen[network]))
        seen[network] = index
    return [str(network) for network in sorted(seen, key=sort_key)]
