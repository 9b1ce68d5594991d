"""The network.host_observed event shape shared by the event source and the rexecop_trigger module."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.events.host_observed import (
    MAX_EVENT_BYTES,
    EventRefused,
    check_event,
    parse_event_line,
    trigger_document,
)
from unit.mutations import FUZZ


PAYLOAD = {"known": True, "target_kind": "host", "address": "192.0.2.10"}
EVENT = {"id": "netwatch-0001", "source": "netwatch", "type": "network.host_observed",
         "subject": "monitoring-host-01", "occurred_at": "2026-01-31T12:00:00Z", "payload": PAYLOAD}


def changed(document: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``document`` with ``changes`` applied; a change to ``None`` removes the field."""
    return {key: value for key, value in {**document, **changes}.items() if value is not None}


def event(**changes: Any) -> dict[str, Any]:
    return changed(EVENT, changes)


def payload(**changes: Any) -> dict[str, Any]:
    return changed(PAYLOAD, changes)


def line(document: Any) -> bytes:
    return json.dumps(document).encode()


def test_a_well_formed_event_comes_back_field_for_field() -> None:
    assert parse_event_line(line(event())) == event()
    unknown_host = event(subject="198.51.100.77", occurred_at="2026-01-31T13:00:00.250+01:00",
                         payload={"known": False, "target_kind": "host"})
    assert check_event(unknown_host) == unknown_host
    assert check_event(event(subject="2001:db8::7", payload=payload(address="2001:db8::7"))) == \
        event(subject="2001:db8::7", payload=payload(address="2001:db8::7"))


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (event(subject=None), "subject: missing"),
        (event(id=None), "id: missing"),
        (event(payload=None), "payload: missing"),
        (event(payload=payload(known=None)), "payload.known: missing"),
        (event(payload=payload(target_kind=None)), "payload.target_kind: missing"),
        (event(dedupe_key="x"), "event: has unknown fields: dedupe_key; allowed: id, source, type, subject, occurred_at, payload"),
        (event(payload=payload(hostname="h")), "payload: has unknown fields: hostname; allowed: known, target_kind, address"),
        ({**event(), "{{ x }}": 1}, "event: has unknown fields (1); allowed:"),
        (event(id=7), "id: must be a string, not a number"),
        (event(subject=["monitoring-host-01"]), "subject: must be a string, not a list"),
        (event(payload=payload(known="yes")), "payload.known: must be true or false, not a string"),
        (event(payload=payload(known=1)), "payload.known: must be true or false, not a number"),
        (event(payload="known"), "payload: must be a JSON object, not a string"),
        (event(type="network.link_down"), "type: must be network.host_observed"),
        (event(subject="{{ lookup('pipe', 'id') }}"), "subject: must be a catalog target id"),
        (event(subject="host 01"), "subject: must be a catalog target id"),
        (event(subject="h" * 129), "subject: must be a catalog target id"),
        (event(subject=""), "subject: must be a catalog target id"),
        (event(source="net/watch"), "source: must be 1 to 64 letters"),
        (event(id="-leading"), "id: must be 1 to 128 letters"),
        (event(occurred_at="2026-01-31 12:00:00"), "occurred_at: must be an ISO 8601 time"),
        (event(occurred_at="2026-01-31T12:00:00"), "occurred_at: must be an ISO 8601 time"),
        (event(occurred_at="2026-02-30T12:00:00Z"), "occurred_at: is not a valid date and time"),
        (event(payload=payload(target_kind="Host")), "payload.target_kind: must be an identifier"),
        (event(payload=payload(address="192.0.2.300")), "payload.address: must be an IPv4 or IPv6 address"),
        (event(payload=payload(address="example.org")), "payload.address: must be an IPv4 or IPv6 address"),
        ([event()], "event: must be a JSON object, not a list"),
    ],
)
def test_a_malformed_event_is_refused_naming_the_field(document: Any, message: str) -> None:
    with pytest.raises(EventRefused) as refused:
        parse_event_line(line(document))
    assert str(refused.value).startswith(message)
    assert "lookup" not in str(refused.value), "a refused value is never echoed"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "event: not a JSON object"),
        (b"", "event: not a JSON object"),
        (b"\xff\xfe{}", "event: not UTF-8 text"),
        (b'{"id": "a", "id": "b"}', "event: a field appears twice"),
        (b'{"id": NaN}', "event: NaN and Infinity are not JSON"),
        (b"[" * 5000, "event: longer than 4096 bytes"),
        (b"[" * 4000, "event: not a JSON object"),
        (line(event(id="x" * 100, payload={**payload(), "pad": "y" * MAX_EVENT_BYTES})), "event: longer than 4096 bytes"),
    ],
)
def test_a_line_that_is_no_event_is_refused(raw: bytes, message: str) -> None:
    with pytest.raises(EventRefused) as refused:
        parse_event_line(raw)
    assert str(refused.value) == message


def test_the_trigger_document_fixes_the_profile_and_keys_duplicates_by_id() -> None:
    document = trigger_document(event(), "/etc/tecrax/targets.yaml")
    assert document == {
        "profile": "tecrax", "catalog": "/etc/tecrax/targets.yaml", "source": "ansible-rulebook",
        "trigger_event": {**event(), "dedupe_key": "network.host_observed:netwatch:netwatch-0001"},
    }
    other_payload = trigger_document(event(payload={"known": False, "target_kind": "host"}), "/c.yaml")
    assert other_payload["trigger_event"]["dedupe_key"] == document["trigger_event"]["dedupe_key"]
    with pytest.raises(EventRefused, match="subject: missing"):
        trigger_document(event(subject=None), "/c.yaml")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=20,
)


@FUZZ
@given(st.binary(max_size=MAX_EVENT_BYTES + 64))
def test_any_bytes_give_an_event_or_a_refusal(raw: bytes) -> None:
    try:
        parsed = parse_event_line(raw)
    except EventRefused as refused:
        assert "\n" not in str(refused)
    else:
        assert check_event(parsed) == parsed


@FUZZ
@given(st.fixed_dictionaries({key: JSON | st.just(value) for key, value in event().items()}))
def test_any_mix_of_fields_gives_an_event_or_a_refusal(document: dict[str, Any]) -> None:
    try:
        checked = check_event(document)
    except EventRefused as refused:
        assert refused.field.split(".")[0] in {"event", *event()}
    else:
        assert checked == document
        assert not any(mark in json.dumps(checked) for mark in ("{{", "{%", "{#"))
