"""The DNS probe of the AdGuard Home check, against a real local UDP server on 127.0.0.1
replaying the answers recorded from the lab's stand-in (unbound)."""

from __future__ import annotations

import socket
from typing import Any

from ansible_collections.tecrax.ops.plugins.module_utils.services.dns_wire import build_query, parse_reply
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_probes import (
    MAX_STRAY_DATAGRAMS,
    DnsExchange,
    dns_exchange,
)
from unit.service_replay import DnsReplayServer, closed_port, dns_reply, recorded_dns

NAME = "adguard-probe.tecrax-lab.test"


# --- DNS over UDP --------------------------------------------------------------------------


def test_recorded_reply_comes_back_for_our_query(servers: list[Any]) -> None:
    server = DnsReplayServer(recorded_dns("addresses"))
    servers.append(server)
    exchange = dns_exchange("127.0.0.1", server.port, build_query(NAME, 4242), 4242, 2)
    assert exchange.failure is None
    assert parse_reply(exchange.message, 4242, NAME).address_records == 2
    assert server.queries == [build_query(NAME, 4242)]


def test_silent_resolver_times_out_after_asking_twice(servers: list[Any]) -> None:
    server = DnsReplayServer(lambda query: [])
    servers.append(server)
    assert dns_exchange("127.0.0.1", server.port, build_query(NAME, 7), 7, 1) == DnsExchange("timeout")
    assert server.queries == [build_query(NAME, 7)] * 2


def test_closed_port_is_connection_refused() -> None:
    port = closed_port(socket.SOCK_DGRAM)
    assert dns_exchange("127.0.0.1", port, build_query(NAME, 7), 7, 3) == DnsExchange("connection_refused")


def test_unsendable_destination_is_a_network_error() -> None:
    # Broadcast without SO_BROADCAST: the kernel refuses to send (EACCES), nothing leaves.
    assert dns_exchange("255.255.255.255", 53, build_query(NAME, 7), 7, 1) == DnsExchange("network_error")


def test_stray_datagrams_are_skipped(servers: list[Any]) -> None:
    reply = dns_reply("nxdomain")

    def answer(query: bytes) -> list[bytes]:
        wrong_id = bytes((query[0] ^ 0xFF, query[1]))
        return [b"junk", wrong_id + reply[2:], query, query[:2] + reply[2:]]

    server = DnsReplayServer(answer)
    servers.append(server)
    exchange = dns_exchange("127.0.0.1", server.port, build_query(NAME, 300), 300, 2)
    assert parse_reply(exchange.message, 300, "missing.tecrax-lab.test").rcode == 3


def test_endless_strays_end_in_the_last_one(servers: list[Any]) -> None:
    server = DnsReplayServer(lambda query: [b"junk-%d" % n for n in range(MAX_STRAY_DATAGRAMS + 5)])
    servers.append(server)
    exchange = dns_exchange("127.0.0.1", server.port, build_query(NAME, 300), 300, 2)
    assert exchange == DnsExchange(message=b"junk-%d" % (MAX_STRAY_DATAGRAMS - 1))
    assert parse_reply(exchange.message, 300, NAME).malformed
