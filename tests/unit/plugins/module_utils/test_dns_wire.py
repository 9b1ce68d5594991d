"""The DNS query builder and the bounded reply parser of the AdGuard Home check.

Recorded replies (tests/unit/data/adguard_portainer/dns_replies.json) come from unbound 1.17.1
on a lab host, standing in for AdGuard Home's resolver (tests/integration/service_lab.py).
Replies the lab cannot produce (CNAME chains with addresses, hostile compression) are composed
here with ``compose`` and say so.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.services.dns_wire import (
    MALFORMED,
    DnsReply,
    build_query,
    encode_name,
    parse_reply,
    reply_id,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "adguard_portainer" / "dns_replies.json"
RECORDED: dict[str, dict[str, Any]] = json.loads(DATA.read_text())


def recorded(case: str) -> tuple[bytes, int, str]:
    entry = RECORDED[case]
    return bytes.fromhex(entry["reply_hex"]), entry["query_id"], entry["query_name"]


def name_bytes(name: str) -> bytes:
    return b"".join(bytes((len(label),)) + label.encode() for label in name.split(".")) + b"\x00"


def compose(txid: int, qname: str, rcode: int = 0, answers: list[tuple[bytes, int, bytes]] = (), *,
            flags: int = 0x8180, qdcount: int = 1) -> bytes:
    """A reply built here (not recorded): answers are (owner wire name, type, rdata), class IN."""
    header = struct.pack("!HHHHHH", txid, flags | rcode, qdcount, len(answers), 0, 0)
    question = name_bytes(qname) + struct.pack("!HH", 1, 1) if qdcount else b""
    records = b"".join(owner + struct.pack("!HHIH", rtype, 1, 60, len(rdata)) + rdata
                       for owner, rtype, rdata in answers)
    return header + question + records


QUESTION_POINTER = b"\xc0\x0c"  # the question's name starts right after the 12-byte header
# Where the first answer record of compose(..., "q.example") starts.
FIRST_RECORD = 12 + len(name_bytes("q.example")) + 4


# --- the query -----------------------------------------------------------------------------


def test_query_is_a_recursive_a_question() -> None:
    assert build_query("adguard-probe.example.org", 0x1234) == (
        bytes.fromhex("123401000001000000000000") + b"\x0dadguard-probe\x07example\x03org\x00" + b"\x00\x01\x00\x01"
    )


@pytest.mark.parametrize("name", ["a" * 64 + ".example", ".".join(["a" * 63] * 4), "empty..label"])
def test_names_that_do_not_fit_the_wire_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        encode_name(name)


def test_query_id_is_sixteen_bits() -> None:
    with pytest.raises(ValueError):
        build_query("example.com", 0x10000)


# --- recorded replies --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("addresses", DnsReply(False, 0, False, True, 2)),
        ("cname_without_address", DnsReply(False, 0, False, True, 0)),  # unbound returns the CNAME only
        ("nxdomain", DnsReply(False, 3, False, True, 0)),
        ("refused", DnsReply(False, 5, False, True, 0)),
        ("servfail", DnsReply(False, 2, False, True, 0)),
    ],
)
def test_recorded_replies(case: str, expected: DnsReply) -> None:
    message, txid, name = recorded(case)
    assert reply_id(message) == txid
    assert parse_reply(message, txid, name) == expected


def test_rcode_names() -> None:
    assert [parse_reply(*recorded(case)).rcode_name for case in ("addresses", "nxdomain", "refused", "servfail")] == [
        "NOERROR", "NXDOMAIN", "REFUSED", "SERVFAIL"]
    assert parse_reply(compose(7, "a.example", rcode=9, qdcount=1), 7, "a.example").rcode_name == "other"
    assert MALFORMED.rcode_name is None


def test_a_reply_to_another_query_id_or_name_is_malformed() -> None:
    message, txid, name = recorded("addresses")
    assert parse_reply(message, txid ^ 1, name) == MALFORMED
    assert parse_reply(message, txid, "other-probe.tecrax-lab.test") == MALFORMED


def test_name_case_does_not_matter() -> None:
    message, txid, name = recorded("addresses")
    assert parse_reply(message, txid, name.upper()).address_records == 2


def test_every_truncation_of_a_recorded_answer_is_malformed() -> None:
    message, txid, name = recorded("addresses")
    for length in range(len(message)):
        assert parse_reply(message[:length], txid, name) == MALFORMED, length


def test_a_query_is_not_a_reply() -> None:
    query = build_query("adguard-probe.tecrax-lab.test", 99)
    assert reply_id(query) is None
    assert parse_reply(query, 99, "adguard-probe.tecrax-lab.test") == MALFORMED


def test_non_bytes_and_oversized_messages_are_malformed() -> None:
    assert parse_reply("text", 1, "a.example") == MALFORMED  # type: ignore[arg-type]
    message, txid, name = recorded("addresses")
    assert parse_reply(message + b"\x00" * 70000, txid, name) == MALFORMED


# --- composed replies (not recorded: shapes the lab resolver does not produce) ---------------


def test_cname_chain_leads_to_the_counted_addresses() -> None:
    """Composed: www -> edge (CNAME) -> two A records, plus an A record of an unrelated name."""
    answers = [
        (QUESTION_POINTER, 5, name_bytes("edge.cdn.example")),
        (name_bytes("other.example"), 1, bytes((192, 0, 2, 9))),
        (name_bytes("EDGE.cdn.example"), 1, bytes((192, 0, 2, 1))),
        (name_bytes("edge.cdn.example"), 1, bytes((192, 0, 2, 2))),
    ]
    assert parse_reply(compose(5, "www.example.org", answers=answers), 5, "www.example.org").address_records == 2


def test_cname_chain_in_reverse_order_is_followed() -> None:
    answers = [
        (name_bytes("b.example"), 1, bytes((192, 0, 2, 1))),
        (name_bytes("a.example"), 5, name_bytes("b.example")),
        (QUESTION_POINTER, 5, name_bytes("a.example")),
    ]
    assert parse_reply(compose(5, "q.example", answers=answers), 5, "q.example").address_records == 1


def test_cname_loop_terminates_without_addresses() -> None:
    answers = [(QUESTION_POINTER, 5, name_bytes("a.example")), (name_bytes("a.example"), 5, name_bytes("q.example"))]
    assert parse_reply(compose(5, "q.example", answers=answers), 5, "q.example") == DnsReply(False, 0, False, True, 0)


def test_a_label_holding_a_dot_is_not_two_labels() -> None:
    owner = b"\x07q.example\x00"  # one label "q.example", not the question's two labels
    reply = compose(5, "q.example", answers=[(owner, 1, bytes((192, 0, 2, 1)))])
    assert parse_reply(reply, 5, "q.example").address_records == 0


def test_other_classes_and_types_are_skipped() -> None:
    answers = [(QUESTION_POINTER, 28, bytes(16)), (QUESTION_POINTER, 16, b"\x03txt")]
    assert parse_reply(compose(5, "q.example", answers=answers), 5, "q.example").address_records == 0


@pytest.mark.parametrize(
    "answers",
    [
        [(QUESTION_POINTER, 1, b"\x01\x02\x03")],  # an A record of 3 bytes
        [(struct.pack("!H", 0xC000 | FIRST_RECORD + 2), 1, bytes(4))],  # pointer forwards
        [(struct.pack("!H", 0xC000 | FIRST_RECORD), 1, bytes(4))],  # pointer to itself
        [(b"\x80\x01a\x00", 1, bytes(4))],  # extended label type
        [(QUESTION_POINTER, 5, b"\x01a\x00\x00")],  # CNAME rdata longer than its name
        [(b"\x3fabc", 1, bytes(4))],  # label longer than the message
    ],
)
def test_hostile_records_are_malformed(answers: list[tuple[bytes, int, bytes]]) -> None:
    assert parse_reply(compose(5, "q.example", answers=answers), 5, "q.example") == MALFORMED


def test_pointer_chains_are_bounded() -> None:
    """Composed: 40 pointers, each to the previous one, all backwards: too many jumps."""
    header = struct.pack("!HHHHHH", 5, 0x8180, 1, 1, 0, 0)
    question = name_bytes("q.example") + struct.pack("!HH", 1, 1)
    message = bytearray(header + question)
    previous = 12
    for _pointer in range(40):
        position = len(message)
        message += struct.pack("!H", 0xC000 | previous)
        previous = position
    owner = struct.pack("!H", 0xC000 | previous)
    message += owner + struct.pack("!HHIH", 1, 1, 60, 4) + bytes(4)
    assert parse_reply(bytes(message), 5, "q.example") == MALFORMED


def test_names_longer_than_255_bytes_are_malformed() -> None:
    long_owner = b"".join(b"\x3f" + b"a" * 63 for _label in range(4)) + b"\x00"
    reply = compose(5, "q.example", answers=[(long_owner, 1, bytes(4))])
    assert parse_reply(reply, 5, "q.example") == MALFORMED


def test_error_reply_may_omit_the_question_but_an_answer_may_not() -> None:
    assert parse_reply(compose(5, "q.example", rcode=1, qdcount=0), 5, "q.example") == DnsReply(False, 1, False, True, 0)
    assert parse_reply(compose(5, "q.example", rcode=0, qdcount=0), 5, "q.example") == MALFORMED
    two_questions = compose(5, "q.example", rcode=3)[:4] + b"\x00\x02" + compose(5, "q.example", rcode=3)[6:]
    assert parse_reply(two_questions, 5, "q.example") == MALFORMED


def test_flags_are_reported() -> None:
    reply = compose(5, "q.example", answers=[(QUESTION_POINTER, 1, bytes(4))], flags=0x8000 | 0x0200)
    assert parse_reply(reply, 5, "q.example") == DnsReply(False, 0, True, False, 1)
    assert parse_reply(compose(5, "q.example", flags=0x8000 | 0x2800), 5, "q.example") == MALFORMED  # opcode 5


def test_too_many_answer_records_are_malformed() -> None:
    reply = compose(5, "q.example", answers=[(QUESTION_POINTER, 1, bytes(4))] * 513)
    assert parse_reply(reply, 5, "q.example") == MALFORMED
    reply = compose(5, "q.example", answers=[(QUESTION_POINTER, 1, bytes(4))] * 512)
    assert parse_reply(reply, 5, "q.example").address_records == 512


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600), st.integers(0, 0xFFFF))
def test_any_bytes_give_a_reply(message: bytes, txid: int) -> None:
    assert isinstance(parse_reply(message, txid, "q.example"), DnsReply)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(RECORDED)), st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=6))
def test_mutated_recorded_replies_give_a_reply(case: str, flips: list[tuple[int, int]]) -> None:
    message, txid, name = recorded(case)
    mutated = bytearray(message)
    for position, value in flips:
        if position < len(mutated):
            mutated[position] = value
    reply = parse_reply(bytes(mutated), txid, name)
    assert isinstance(reply, DnsReply)
    assert reply.malformed or 0 <= reply.address_records <= 512


_LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
_NAME = st.lists(_LABEL, min_size=2, max_size=4).map(".".join)


@settings(max_examples=200, deadline=None)
@given(_NAME, st.integers(0, 0xFFFF), st.integers(0, 20), st.integers(0, 20), st.booleans())
def test_well_formed_replies_count_exactly_the_addresses_of_the_name(
    qname: str, txid: int, own: int, foreign: int, compressed: bool
) -> None:
    owner = QUESTION_POINTER if compressed else name_bytes(qname)
    answers = [(owner, 1, bytes((192, 0, 2, index % 256))) for index in range(own)]
    answers += [(name_bytes("x" + qname), 1, bytes(4)) for _record in range(foreign)]
    reply = parse_reply(compose(txid, qname, answers=answers), txid, qname)
    assert reply == DnsReply(False, 0, False, True, own)
