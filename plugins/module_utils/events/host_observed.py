# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The strict shape of a ``network.host_observed`` event handed to ``rexecop trigger``.

One validator for both ends of the Event-Driven Ansible path: the event source
``tecrax.ops.host_observed`` (which runs inside ansible-rulebook, without Ansible's module
machinery) checks every line it reads, and the module ``tecrax.ops.rexecop_trigger`` checks
the event again before it builds the trigger document. It therefore stays pure standard
library and imports nothing from the collection.

An event is one JSON object of at most ``MAX_EVENT_BYTES`` bytes with exactly the fields
``id``, ``source``, ``type`` (``network.host_observed``), ``subject`` (the catalog target id),
``occurred_at`` (ISO 8601 with a time zone) and ``payload`` (``known``: a boolean,
``target_kind``: an identifier, optionally ``address``: an IP address). Every text field has
a pattern of letters, digits and a few separators, so no event text can carry a template,
a quote, whitespace or a shell metacharacter into Ansible. Anything else is refused with a
:class:`EventRefused` whose message names the field and the rule; refused values are never
echoed.
"""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import datetime
from typing import Any, Dict, List, Mapping, Tuple

EVENT_TYPE = "network.host_observed"
MAX_EVENT_BYTES = 4096
TRIGGER_PROFILE = "tecrax"
TRIGGER_SOURCE = "ansible-rulebook"

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z")
_SOURCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
# A catalog target id, a host name or an address literal.
_SUBJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z")
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})\Z")
_TARGET_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}\Z")
_ADDRESS = re.compile(r"[0-9A-Fa-f.:]{2,45}\Z")

_TEXT_RULES = (
    ("id", _ID, "1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit"),
    ("source", _SOURCE, "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"),
    ("subject", _SUBJECT, "a catalog target id: 1 to 128 letters, digits, '.', '_', ':' or '-', "
                          "starting with a letter or digit"),
)
EVENT_FIELDS = ("id", "source", "type", "subject", "occurred_at", "payload")
PAYLOAD_REQUIRED = ("known", "target_kind")
PAYLOAD_FIELDS = PAYLOAD_REQUIRED + ("address",)


class EventRefused(ValueError):
    """An event is refused; ``field`` names the part that breaks the shape."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__("%s: %s" % (field, problem))
        self.field = field


def parse_event_line(line: bytes) -> Dict[str, Any]:
    """Parse and check one line of an event stream (without its newline)."""
    if len(line) > MAX_EVENT_BYTES:
        raise EventRefused("event", "longer than %d bytes" % MAX_EVENT_BYTES)
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise EventRefused("event", "not UTF-8 text")
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except EventRefused:
        raise
    except (ValueError, RecursionError):
        raise EventRefused("event", "not a JSON object")
    return check_event(value)


def check_event(value: Any) -> Dict[str, Any]:
    """The event rebuilt from its checked fields, or :class:`EventRefused`."""
    if not isinstance(value, Mapping):
        raise EventRefused("event", "must be a JSON object, not %s" % _kind(value))
    _check_fields("event", value, EVENT_FIELDS, EVENT_FIELDS)
    event: Dict[str, Any] = {}
    for field, pattern, rule in _TEXT_RULES:
        event[field] = _text(field, value[field], pattern, rule)
    if value["type"] != EVENT_TYPE:
        raise EventRefused("type", "must be %s" % EVENT_TYPE)
    event["type"] = EVENT_TYPE
    event["occurred_at"] = _timestamp(value["occurred_at"])
    event["payload"] = _payload(value["payload"])
    if len(canonical_json(event).encode("utf-8")) > MAX_EVENT_BYTES:
        raise EventRefused("event", "longer than %d bytes" % MAX_EVENT_BYTES)
    return event


def trigger_document(event: Mapping[str, Any], catalog: str) -> Dict[str, Any]:
    """The standard input of ``rexecop trigger`` for a checked event and the operator's catalog.

    The profile is always ``tecrax``. The dedupe key is the event's source and id, so RExecOp
    drops an event id it has seen from that source even when the rest of the event differs.
    """
    trigger_event = dict(check_event(event))
    trigger_event["dedupe_key"] = "%s:%s:%s" % (EVENT_TYPE, trigger_event["source"], trigger_event["id"])
    return {"profile": TRIGGER_PROFILE, "catalog": catalog, "source": TRIGGER_SOURCE,
            "trigger_event": trigger_event}


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _check_fields(where: str, value: Mapping[str, Any], required: Tuple[str, ...], allowed: Tuple[str, ...]) -> None:
    unknown = [key for key in value if key not in allowed]
    if unknown:
        # Only names that are plain identifiers are repeated in the message.
        names = [key for key in unknown if isinstance(key, str) and _SOURCE.match(key)]
        listed = ": " + ", ".join(sorted(names)) if len(names) == len(unknown) <= 4 else " (%d)" % len(unknown)
        raise EventRefused(where, "has unknown fields%s; allowed: %s" % (listed, ", ".join(allowed)))
    for key in required:
        if key not in value:
            raise EventRefused(key if where == "event" else "%s.%s" % (where, key), "missing")


def _text(field: str, value: Any, pattern: "re.Pattern[str]", rule: str) -> str:
    if not isinstance(value, str):
        raise EventRefused(field, "must be a string, not %s" % _kind(value))
    if not pattern.match(value):
        raise EventRefused(field, "must be " + rule)
    return value


def _timestamp(value: Any) -> str:
    rule = "an ISO 8601 time with seconds and a time zone, for example 2026-01-31T12:00:00Z"
    text = _text("occurred_at", value, _TIMESTAMP, rule)
    try:
        datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise EventRefused("occurred_at", "is not a valid date and time")
    return text


def _payload(value: Any) -> Dict[str, Any]:
    if not isinstance(value, Mapping):
        raise EventRefused("payload", "must be a JSON object, not %s" % _kind(value))
    _check_fields("payload", value, PAYLOAD_REQUIRED, PAYLOAD_FIELDS)
    if not isinstance(value["known"], bool):
        raise EventRefused("payload.known", "must be true or false, not %s" % _kind(value["known"]))
    payload: Dict[str, Any] = {
        "known": value["known"],
        "target_kind": _text("payload.target_kind", value["target_kind"], _TARGET_KIND,
                             "an identifier of at most 32 lower-case letters, digits or '_'"),
    }
    if "address" in value:
        address = _text("payload.address", value["address"], _ADDRESS, "an IPv4 or IPv6 address")
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise EventRefused("payload.address", "must be an IPv4 or IPv6 address")
        payload["address"] = address
    return payload


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _unique_keys(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    keys = [key for key, _value in pairs]
    if len(set(keys)) != len(keys):
        raise EventRefused("event", "a field appears twice")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise EventRefused("event", "NaN and Infinity are not JSON")
