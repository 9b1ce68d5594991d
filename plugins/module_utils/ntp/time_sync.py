# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Parsers shared by the NTP normalizers (``ntp_local_health``, ``ntp_server_health``), and
their common bookkeeping of what was observed (``DaemonObservations``).

Pure and total: every parser takes text and returns a value or ``None`` (did not parse);
nothing here raises on input. Raw observations reach the normalizers as *command results*,
mappings ``{"rc": int | None, "output": str | bytes}`` where ``rc`` ``None`` means the
program is not installed; a missing key means the command was not run.

Peer identities never leave this module: the chrony reference ID, the ntpd refid and the
timesyncd server name/address are read only to classify the reference (``reference_kind``)
or to tell whether a server was contacted.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import (
    UNKNOWN,
    build_facts,
    parse_float,
    parse_int,
    raw_text,
)
from ansible_collections.tecrax.ops.plugins.module_utils.common.socket_table import has_listener
from ansible_collections.tecrax.ops.plugins.module_utils.common.systemd_show import parse_unit_properties

# Daemon -> systemd units that run it, in the order they are preferred. On Debian and
# Ubuntu chronyd.service is an alias of chrony.service (other distributions ship only
# chronyd.service); ntpsec.service carries the aliases ntp.service and ntpd.service, and
# the classic ntp package ships ntp.service.
DAEMON_UNITS: dict[str, tuple[str, ...]] = {
    "chrony": ("chrony.service", "chronyd.service"),
    "ntpd": ("ntpsec.service", "ntp.service", "ntpd.service"),
    "systemd_timesyncd": ("systemd-timesyncd.service",),
}
UNIT_PROPERTIES = ("LoadState", "ActiveState", "SubState", "UnitFileState")
# ActiveState values of a unit whose daemon runs.
RUNNING_STATES = frozenset(("active", "reloading"))

LEAP_STATES = ("normal", "insert_second", "delete_second", "unsynchronized", UNKNOWN)
SYNCHRONIZED_LEAP = frozenset(("normal", "insert_second", "delete_second"))
REFERENCE_KINDS = ("ntp_source", "local_clock", "refclock", "none", UNKNOWN)

MAX_STRATUM = 16
# Offsets, delays and dispersions in seconds: nanosecond resolution, clamped to about
# three centuries either way (a clock reset to 1970 still fits).
SECONDS_LIMIT = 1e10
SECONDS_DIGITS = 9
COUNTER_LIMIT = 2 ** 53 - 1
# The longest line the parsers read; real ones are under 400 characters. A longer line is
# garbage: its value is never parsed, so it costs one length check, and what it would have
# given counts as missing (a ``Key=Value`` property as present but unparsed, see
# parse_key_values).
MAX_LINE_CHARS = 4096
# chrony's reference ID of its own clock (`local` directive): 127.127.1.1.
_CHRONY_LOCAL_REFID = 0x7F7F0101

_STATE_TOKEN = re.compile(r"[a-z][a-z0-9-]{0,31}\Z")
_CHRONY_REFERENCE = re.compile(r"([0-9A-Fa-f]{8})\s*\((.*)\)\Z")
_CHRONY_SYSTEM_TIME = re.compile(r"([0-9]+(?:\.[0-9]+)?) seconds (fast|slow) of NTP time\Z")
_CHRONY_SECONDS = re.compile(r"([+-]?[0-9]+(?:\.[0-9]+)?) seconds\Z")
_CHRONY_LEAP = {
    "Normal": "normal",
    "Insert second": "insert_second",
    "Delete second": "delete_second",
    "Not synchronised": "unsynchronized",
    "Not synchronized": "unsynchronized",
}
_NTP_LEAP_BITS = {"00": "normal", "01": "insert_second", "10": "delete_second", "11": "unsynchronized"}
_NTP_LEAP_NUMBERS = {"0": "normal", "1": "insert_second", "2": "delete_second", "3": "unsynchronized"}
# A name starts only where no name character precedes it: without the lookbehind a run of
# name characters not followed by "=" is rescanned from each of its positions (quadratic).
_NTPQ_PAIR = re.compile(r"(?<![a-z_])([a-z_]+)=([^,\s]*)")


# --- command results -------------------------------------------------------------------

def command_status(result: object) -> str:
    """``not_collected`` (not run), ``not_installed``, ``failed`` (non-zero exit) or ``ok``."""
    if not isinstance(result, Mapping):
        return "not_collected"
    rc = result.get("rc")
    if rc is None:
        return "not_installed"
    if isinstance(rc, bool) or not isinstance(rc, int):
        return "not_collected"
    return "ok" if rc == 0 else "failed"


def command_output(result: object) -> str:
    if not isinstance(result, Mapping):
        return ""
    return raw_text(result.get("output"))


def blocker(observation: str, status: str) -> str:
    """Blocker name for an observation that failed with ``status`` (or ``unparsed``)."""
    return observation + "_" + status


# --- systemd units ---------------------------------------------------------------------

def parse_key_values(text: str) -> dict[str, str | None]:
    """``Key=Value`` lines (timedatectl show); the last assignment wins.

    The value of a line longer than ``MAX_LINE_CHARS`` is ``None``: the property is present
    but not parsed.
    """
    values: dict[str, str | None] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        key = key.strip()
        if sep and key and len(key) <= 64:
            values[key] = value.strip() if len(line) <= MAX_LINE_CHARS else None
    return values


def _bounded_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if len(line) <= MAX_LINE_CHARS]


def state_token(value: object) -> str:
    """A systemd state word (``active``, ``not-found`` ...) or ``unknown``."""
    if isinstance(value, str) and _STATE_TOKEN.match(value):
        return value
    return UNKNOWN


def parse_unit_show(text: str) -> dict[str, str] | None:
    """``{load_state, active_state, sub_state, unit_file_state}`` from ``systemctl show``.

    Needs ``LoadState`` and ``ActiveState``; an empty ``UnitFileState`` (unit not found)
    becomes ``unknown``.
    """
    values = parse_unit_properties(text, UNIT_PROPERTIES)
    load, active = state_token(values.get("LoadState")), state_token(values.get("ActiveState"))
    if UNKNOWN in (load, active):
        return None
    return {
        "load_state": load,
        "active_state": active,
        "sub_state": state_token(values.get("SubState")),
        "unit_file_state": state_token(values.get("UnitFileState")),
    }


def unknown_unit(unit: str) -> dict[str, Any]:
    return {
        "unit": unit,
        "load_state": UNKNOWN,
        "active_state": UNKNOWN,
        "sub_state": UNKNOWN,
        "unit_file_state": UNKNOWN,
        "active": None,
    }


def _unit_rank(unit: Mapping[str, Any]) -> int:
    if unit["active"]:
        return 3
    return {"loaded": 2, "masked": 1}.get(unit["load_state"], 0)


def observe_daemon_units(units: object, daemons: tuple[str, ...]) -> tuple[dict[str, Any], list[str]]:
    """Per daemon, the state of its most relevant unit, and the blockers met.

    ``units`` maps unit names to command results of ``systemctl show``. The unit reported
    for a daemon is the first of its candidates that runs, else the first that is loaded,
    else the first that is masked, else the first one. A daemon none of whose units could
    be read has every field ``unknown`` and ``active`` ``None``.
    """
    source = units if isinstance(units, Mapping) else {}
    states: dict[str, Any] = {}
    problems: list[str] = []
    for daemon in daemons:
        candidates = []
        for unit in DAEMON_UNITS[daemon]:
            result = source.get(unit)
            status = command_status(result)
            parsed = parse_unit_show(command_output(result)) if status == "ok" else None
            if parsed is None:
                problems.append(status if status != "ok" else "unparsed")
                continue
            candidates.append({"unit": unit, **parsed, "active": parsed["active_state"] in RUNNING_STATES})
        if candidates:
            states[daemon] = max(candidates, key=_unit_rank)  # max keeps the first of equals
        else:
            states[daemon] = unknown_unit(DAEMON_UNITS[daemon][0])
    blockers = [blocker("unit_states", problems[0])] if problems else []
    return states, blockers


def first_active_daemon(units: object, daemons: tuple[str, ...]) -> str | None:
    """The first of ``daemons`` (in their order of precedence) whose unit is active."""
    states, _blockers = observe_daemon_units(units, daemons)
    return next((daemon for daemon in daemons if states[daemon]["active"]), None)


def active_daemons(units: object, daemons: tuple[str, ...]) -> list[str]:
    """Daemons with a running unit, in the order of ``daemons`` (used by the modules to
    decide which status commands to run)."""
    states, _blockers = observe_daemon_units(units, daemons)
    return [daemon for daemon in daemons if states[daemon]["active"]]


# --- chrony ----------------------------------------------------------------------------

def _colon_fields(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in _bounded_lines(text):
        name, sep, value = line.partition(":")
        if sep and len(name) <= 64:
            fields[" ".join(name.split())] = " ".join(value.split())
    return fields


def _seconds(token: str, minimum: float = -SECONDS_LIMIT) -> float | None:
    return parse_float(token, minimum, SECONDS_LIMIT, SECONDS_DIGITS)


def classify_chrony_reference(value: str) -> str:
    """Kind of the ``Reference ID`` line of ``chronyc -n tracking`` (never the ID itself)."""
    match = _CHRONY_REFERENCE.match(value)
    if not match:
        return UNKNOWN
    refid, name = int(match.group(1), 16), match.group(2).strip()
    if refid == 0:
        return "none"
    if refid == _CHRONY_LOCAL_REFID:
        return "local_clock"
    if not name:
        return UNKNOWN
    try:
        ipaddress.ip_address(name)
    except ValueError:
        # With -n an NTP source is shown by address; anything else is a reference clock's
        # refid such as GPS or PPS.
        return "refclock" if name.isascii() and name.isalnum() and len(name) <= 4 else UNKNOWN
    return "ntp_source"


def parse_chrony_tracking(text: str) -> dict[str, Any] | None:
    """Bounded fields of ``chronyc -n tracking``, or ``None`` without the required lines.

    ``offset_seconds`` is the ``System time`` line, positive when the local clock is ahead
    of NTP time ("fast"). Requires ``Reference ID``, ``Stratum`` and ``Leap status``.
    """
    fields = _colon_fields(text)
    leap = _CHRONY_LEAP.get(fields.get("Leap status", ""))
    stratum = parse_int(fields.get("Stratum", ""), 0, MAX_STRATUM)
    reference = fields.get("Reference ID")
    if leap is None or stratum is None or reference is None:
        return None
    system_time = _CHRONY_SYSTEM_TIME.match(fields.get("System time", ""))
    offset = None
    if system_time:
        offset = _seconds(system_time.group(1), 0.0)
        if offset is not None and system_time.group(2) == "slow":
            offset = -offset
    return {
        "leap_status": leap,
        "stratum": stratum,
        "reference_kind": classify_chrony_reference(reference),
        "offset_seconds": offset,
        "root_delay_seconds": _chrony_seconds(fields.get("Root delay", "")),
        "root_dispersion_seconds": _chrony_seconds(fields.get("Root dispersion", "")),
    }


def _chrony_seconds(value: str) -> float | None:
    match = _CHRONY_SECONDS.match(value)
    return _seconds(match.group(1), 0.0) if match else None


def parse_chrony_serverstats(text: str) -> dict[str, Any] | None:
    """``{ntp_packets_received, ntp_packets_dropped}`` of ``chronyc -n serverstats``."""
    fields = _colon_fields(text)
    received = parse_int(fields.get("NTP packets received", ""), 0, COUNTER_LIMIT)
    if received is None:
        return None
    return {
        "ntp_packets_received": received,
        "ntp_packets_dropped": parse_int(fields.get("NTP packets dropped", ""), 0, COUNTER_LIMIT),
    }


# --- ntpd (ntpq) -----------------------------------------------------------------------

def parse_ntpq_variables(text: str) -> dict[str, Any] | None:
    """Fields of ``ntpq -c 'rv 0 leap,stratum,offset,rootdelay,rootdisp'``.

    ntpq prints offsets, delays and dispersions in milliseconds; they are returned in
    seconds. ntpd's ``offset`` is the server's offset relative to this host, so the local
    clock is ahead when it is negative: ``offset_seconds`` flips the sign to match
    chrony's "fast is positive". Requires ``leap`` and ``stratum``.
    """
    values: dict[str, str] = {}
    for line in _bounded_lines(text):
        for key, value in _NTPQ_PAIR.findall(line):
            values.setdefault(key, value)
    leap = _NTP_LEAP_BITS.get(values.get("leap", "")) or _NTP_LEAP_NUMBERS.get(values.get("leap", ""))
    stratum = parse_int(values.get("stratum", ""), 0, MAX_STRATUM)
    if leap is None or stratum is None:
        return None
    offset = _milliseconds(values.get("offset", ""), -SECONDS_LIMIT)
    return {
        "leap_status": leap,
        "stratum": stratum,
        "offset_seconds": -offset if offset else offset,
        "root_delay_seconds": _milliseconds(values.get("rootdelay", ""), 0.0),
        "root_dispersion_seconds": _milliseconds(values.get("rootdisp", ""), 0.0),
    }


def _milliseconds(token: str, minimum: float) -> float | None:
    value = parse_float(token, minimum * 1000, SECONDS_LIMIT * 1000, SECONDS_DIGITS + 3)
    return None if value is None else round(value / 1000, SECONDS_DIGITS)


# --- timedatectl -----------------------------------------------------------------------

def _yes_no(value: object) -> bool | None:
    return {"yes": True, "no": False}.get(value) if isinstance(value, str) else None


def parse_timedatectl_show(text: str) -> dict[str, Any] | None:
    """``{ntp_enabled, ntp_synchronized, can_ntp}`` of ``timedatectl show``.

    ``NTPSynchronized`` is the kernel's "clock synchronized" flag; requires it.
    """
    values = parse_key_values(text)
    synchronized = _yes_no(values.get("NTPSynchronized"))
    if synchronized is None:
        return None
    return {
        "ntp_enabled": _yes_no(values.get("NTP")),
        "ntp_synchronized": synchronized,
        "can_ntp": _yes_no(values.get("CanNTP")),
    }


def parse_timesync_show(text: str) -> dict[str, Any] | None:
    """``{reference_kind, leap_status}`` of systemd-timesyncd from
    ``timedatectl show-timesync --all``.

    The reference is an ``ntp_source`` once a server answered (``NTPMessage`` carries a
    stratum), else ``none``; ``leap_status`` is that answer's leap indicator. The server's
    name and address are not kept. Requires the ``ServerAddress`` property (printed,
    possibly empty, with ``--all``); an over-long ``ServerAddress`` or ``NTPMessage`` line
    is unparsed too.
    """
    values = parse_key_values(text)
    server, message = values.get("ServerAddress"), values.get("NTPMessage", "")
    if server is None or message is None:
        return None
    fields = _timesync_message_fields(message)
    answered = bool(server) and parse_int(fields.get("Stratum", "")) is not None
    return {
        "reference_kind": "ntp_source" if answered else "none",
        "leap_status": _NTP_LEAP_NUMBERS.get(fields.get("Leap", ""), UNKNOWN) if answered else UNKNOWN,
    }


def _timesync_message_fields(message: str) -> dict[str, str]:
    """``Key=Value`` items between the first ``{`` and the last ``}`` of ``NTPMessage``."""
    start, end = message.find("{"), message.rfind("}")
    fields: dict[str, str] = {}
    if start < 0 or end < start:
        return fields
    for item in message[start + 1:end].split(","):
        key, sep, value = item.partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


# --- UDP sockets -----------------------------------------------------------------------

def parse_udp_listening(text: str, port: int = 123) -> bool | None:
    """Whether /proc/net/udp{,6} text has an unconnected socket bound to ``port``.

    ``None`` when no table header was found (not the expected file).
    """
    return has_listener(text, port)


# --- one observation -------------------------------------------------------------------

def observe(result: object, observation: str, parser: Any) -> tuple[Any, str | None]:
    """Parse one command result: ``(value, None)`` or ``(None, blocker)``."""
    status = command_status(result)
    if status != "ok":
        return None, blocker(observation, status)
    value = parser(command_output(result))
    if value is None:
        return None, blocker(observation, "unparsed")
    return value, None


@dataclass(frozen=True)
class DaemonStatus:
    """One observation of a daemon's own status: its name, the raw key its command result is
    kept under, the command that reads it on the host (from ``time_sync_collect``) and the
    parser of that result's output."""

    observation: str
    key: str
    command: Callable[[Any], Any]
    parser: Callable[[str], Any]


# Daemon -> the observations of its own status, in the order they are made.
StatusTable = Mapping[str, Sequence[DaemonStatus]]


class DaemonObservations:
    """What an NTP normalizer observed of one host, starting with the unit states of
    ``daemons`` (in their order of precedence): every observation asked for, in that order,
    is either observed or named by a blocker."""

    def __init__(self, source: Mapping[str, Any], daemons: tuple[str, ...]) -> None:
        self.source = source
        self.names = daemons
        self.daemons, self.blockers = observe_daemon_units(source.get("units"), daemons)
        self.requested: list[str] = ["unit_states"]
        self.observed: list[str] = [] if self.blockers else ["unit_states"]
        self.active = [daemon for daemon in daemons if self.daemons[daemon]["active"]]

    @property
    def in_charge(self) -> str | None:
        """The running daemon that comes first, or ``None``."""
        return self.active[0] if self.active else None

    def read(self, key: str, observation: str, parser: Callable[[str], Any]) -> Any:
        """Ask for ``observation``: the command result ``source[key]`` parsed by ``parser``,
        or ``None`` (and a blocker kept)."""
        self.requested.append(observation)
        value, problem = observe(self.source.get(key), observation, parser)
        if problem:
            self.blockers.append(problem)
        else:
            self.observed.append(observation)
        return value

    def read_status(self, table: StatusTable) -> dict[str, Any]:
        """Ask for the status observations ``table`` names for the daemon in charge (none when
        no daemon runs): observation name -> parsed value or ``None``."""
        return {status.observation: self.read(status.key, status.observation, status.parser)
                for status in table.get(self.in_charge or "", ())}

    def verdict_without_daemon(self, unobserved: str, none_active: str) -> tuple[str, list[str]] | None:
        """The assessment and reasons when no daemon runs (``None`` when one does):
        ``unavailable`` when no daemon's state was read, ``unknown`` (``unobserved``) when some
        were not, else ``unhealthy`` (``none_active``)."""
        if self.active:
            return None
        unread = [name for name in self.names if self.daemons[name]["active"] is None]
        if len(unread) == len(self.names):
            return "unavailable", [unobserved]
        if unread:
            return "unknown", [unobserved]
        return "unhealthy", [none_active]

    def facts(self, contract_id: str, daemon_key: str, assessment: str, reasons: list[str],
              non_claims: tuple[str, ...], payload: Mapping[str, Any]) -> dict[str, Any]:
        """The facts object: ``payload`` after the daemons' fields (``daemon_key`` names the
        daemon in charge, ``unknown`` when some daemon's state is unread, else ``none``).
        Fragments without one whole observation give no verdict: ``unavailable``."""
        if self.in_charge is not None:
            daemon = self.in_charge
        elif any(self.daemons[name]["active"] is None for name in self.names):
            daemon = UNKNOWN
        else:
            daemon = "none"
        fields = {daemon_key: daemon, "active_daemons": self.active, "daemons": self.daemons, **payload}
        return build_facts(contract_id, requested=self.requested, observed=self.observed, blockers=self.blockers,
                           assessment=assessment if self.observed else "unavailable", reasons=reasons,
                           non_claims=non_claims, payload=fields)
