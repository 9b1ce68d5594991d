# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Parse ``systemctl show --property=... UNIT...`` output into per-unit unit states.

``systemctl show`` prints one block of ``Key=Value`` lines per unit, blocks separated by an
empty line, properties in systemd's own order (not the order asked for). A unit systemd
does not know still gets a block (``LoadState=not-found``), so every requested unit can be
found by its ``Id``. Exit status is 0 for inactive, failed and unknown units alike; it is
non-zero only when systemd itself could not be asked (not booted with systemd, no bus).

Pure standard library, no AnsibleModule: importable on the target and on the controller.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

# The properties every caller asks for; ``Id`` maps a block back to its unit.
UNIT_PROPERTIES = ("Id", "LoadState", "ActiveState", "SubState", "UnitFileState", "Result")
STATE_FIELDS = ("load_state", "active_state", "sub_state", "unit_file_state", "result")
_FIELD_OF = dict(zip(UNIT_PROPERTIES[1:], STATE_FIELDS))
# Properties that must carry a value for a block to count as an observation of its unit;
# the others may be empty (UnitFileState is empty for a unit that is not found).
_REQUIRED = ("LoadState", "ActiveState")

# systemd state names: lower-case words joined by '-' ("enabled-runtime", "start-limit-hit").
_STATE = re.compile(r"[a-z][a-z0-9-]{0,47}\Z")
_UNIT_NAME = re.compile(r"[A-Za-z0-9:_.@\\-]{1,255}\Z")
MAX_UNITS = 16
MAX_LINE_CHARS = 512


def show_args(units: Sequence[str], properties: Sequence[str] = UNIT_PROPERTIES) -> list[str]:
    """The arguments of ``systemctl`` that print ``properties`` of each of ``units``."""
    for unit in units:
        if not _UNIT_NAME.match(unit):
            raise ValueError("not a systemd unit name: %r" % (unit,))
    return ["show", "--no-pager", "--property=" + ",".join(properties), *units]


def show_argv(systemctl: str, units: Sequence[str], properties: Sequence[str] = UNIT_PROPERTIES) -> list[str]:
    """The argument vector that produces the output :func:`parse_unit_states` reads."""
    return [systemctl, *show_args(units, properties)]


def parse_unit_states(text: str, units: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Map each of ``units`` that has a well-formed block in ``text`` to its state fields.

    A state field is a systemd state name or ``None`` (empty in the output). A block counts
    only if its ``Id`` is one of ``units`` and LoadState and ActiveState are state names;
    lines without ``=``, unknown properties and over-long lines are ignored. When a unit
    appears twice, the first block wins. Units without such a block are absent from the
    result, so callers report them as not observed.
    """
    wanted = set(units)
    states: dict[str, dict[str, Any]] = {}
    for block in parse_blocks(text):
        unit = block.get("Id")
        if unit not in wanted or unit in states:
            continue
        state = _unit_state(block)
        if state is not None:
            states[unit] = state
        if len(states) >= MAX_UNITS:
            break
    return states


def parse_blocks(text: str, properties: Sequence[str] = UNIT_PROPERTIES) -> list[dict[str, str]]:
    """The blocks of ``text`` as ``{property: value}`` of the names in ``properties``.

    Lines without ``=``, other properties and lines over ``MAX_LINE_CHARS`` are ignored.
    """
    wanted = set(properties)
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        name, sep, value = line.partition("=")
        # setdefault: a repeated property inside one block is malformed; keep the first.
        if sep and len(line) <= MAX_LINE_CHARS and name in wanted:
            current.setdefault(name, value.strip())
    if current:
        blocks.append(current)
    return blocks


def parse_unit_properties(text: str, properties: Sequence[str]) -> dict[str, str]:
    """``{property: value}`` of the first block: the output for one unit."""
    blocks = parse_blocks(text, properties)
    return blocks[0] if blocks else {}


def _unit_state(block: Mapping[str, str]) -> dict[str, Any] | None:
    state: dict[str, Any] = {}
    for prop, field in _FIELD_OF.items():
        value = block.get(prop, "")
        if value and not _STATE.match(value):
            return None
        if not value and prop in _REQUIRED:
            return None
        state[field] = value or None
    return state


def unknown_unit_state() -> dict[str, Any]:
    """The state fields of a unit that was not observed."""
    return dict.fromkeys(STATE_FIELDS)
