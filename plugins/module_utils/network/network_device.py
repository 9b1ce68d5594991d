# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Parsers and normalizers of the network-device slice.

Two facts contracts come from the same two wrapper observations and the same parser:

* ``tecrax.network_device_inventory`` 1.0 (``normalize_inventory``): what the device is and
  how its SSH server is configured.
* ``tecrax.network_management_posture`` 1.0 (``assess_posture``): findings about the
  management plane, derived from that inventory.

The raw input is what the operator-owned wrapper ``tecrax-network-cli-readonly`` printed for
its two fixed subcommands, ``system-info`` and ``ssh-status``, plus how each call ended.
Supported families, recognised only from ``system-info``:

* ``tplink_jetstream_sg2452``: TP-Link TL-SG2452 (sold later as T1600G-52TS), JetStream CLI
  ``show system-info`` and ``show ip ssh``.
* ``hpe_v1910_comware5``: HPE/HP V1910 on Comware 5, ``display version`` and
  ``display device manuinfo``; ``display ssh server status`` and ``display ssh server session``.

Anything else is ``unsupported``: nothing is parsed from it, so no value is ever guessed from
an output format that merely looks similar.

Terminal noise is removed first: carriage returns, backspaces and ANSI cursor movements are
replayed the way a terminal draws them, and paging prompts (``---- More ----``,
``Press any key to continue (Q to quit)``) and command prompts with their echoed commands
are dropped.

Pure standard library, no AnsibleModule; total: any input gives valid facts.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import (
    MAX_RAW_BYTES,
    UNKNOWN,
    bounded_text,
    build_facts,
    collection_assessment,
    coverage_state,
    parse_int,
    raw_text,
)

INVENTORY_CONTRACT_ID = "tecrax.network_device_inventory"
POSTURE_CONTRACT_ID = "tecrax.network_management_posture"

WRAPPER_NAME = "tecrax-network-cli-readonly"
SUBCOMMANDS = ("system-info", "ssh-status")
# Raw keys of the two observations, in the order the wrapper is called.
OBSERVATION_KEYS = ("system_info", "ssh_status")
WRAPPER_STATUSES = ("ok", "failed", "timeout", "output_limit_exceeded", "empty", "missing",
                    "not_run")

TPLINK_FAMILY = "tplink_jetstream_sg2452"
HPE_FAMILY = "hpe_v1910_comware5"
FAMILIES = (TPLINK_FAMILY, HPE_FAMILY)
# TP-Link renamed the TL-SG2452 to T1600G-52TS ("T1600G-52TS (TL-SG2452)"); same CLI.
TPLINK_MODELS = ("TL-SG2452", "T1600G-52TS")

INVENTORY_SCOPE = ("device_family", "model", "software_version", "hardware_version", "uptime",
                   "ssh_server", "ssh_protocol_versions")
POSTURE_SCOPE = ("device_family", "ssh_server", "ssh_protocol_versions")

SEVERITIES = ("high", "medium", "low")
FINDINGS = {
    "ssh_server_disabled": "medium",
    "ssh_protocol_v2_disabled": "high",
    "legacy_ssh_v1_enabled": "high",
    "legacy_ssh_crypto_observed": "medium",
    "ssh_idle_timeout_unknown": "low",
    "ssh_max_clients_unknown": "low",
}

# Algorithms counted as legacy when the device reports them enabled (or a session negotiated
# them): single/triple DES, Blowfish, CAST-128, RC4 (RFC 8758) and MD5-based MACs. CBC modes
# of AES and HMAC-SHA1 are weaker than their successors but not legacy here; see
# docs/facts/network_management_posture.md.
LEGACY_ALGORITHMS = frozenset((
    "des", "des-cbc", "3des", "3des-cbc", "blowfish", "blowfish-cbc", "cast128-cbc",
    "arcfour", "arcfour128", "arcfour256", "rc4", "hmac-md5", "hmac-md5-96",
))

INVENTORY_NON_CLAIMS = (
    "reports only what the operator-owned wrapper printed; the wrapper's device access is not verified",
    "supports TP-Link TL-SG2452 (JetStream) and HPE V1910 (Comware 5); other devices are unsupported, not parsed",
    "serial numbers and MAC addresses are withheld by design, never recorded",
    "does not read the running configuration, interfaces, VLANs or users",
    "SSH settings are as the device reports them, not tested by connecting",
    "values are a point-in-time sample",
)
POSTURE_NON_CLAIMS = (
    "judges only SSH management settings the device reports; not a full security audit",
    "legacy crypto is reported only when an algorithm is enabled or negotiated, never when merely named",
    "a device that does not list its algorithms gets no crypto finding",
    "does not check telnet, HTTP or SNMP management, ACLs or user accounts",
    "supports TP-Link TL-SG2452 (JetStream) and HPE V1910 (Comware 5); other devices get no verdict",
    "values are a point-in-time sample",
)

VERSION_CHARS = 96
NAME_CHARS = 64
ALGORITHM_CHARS = 32
MAX_ALGORITHMS = 16
MAX_LINES = 4096
MAX_LINE_CHARS = 512
MAX_UPTIME_SECONDS = 100 * 366 * 86400
MAX_IDLE_TIMEOUT_SECONDS = 7 * 86400
MAX_CLIENTS = 1024
MAX_SESSIONS = 1024

_CSI = re.compile(r"\x1b\[([0-9;?]*)([@-~])")
_OTHER_ESCAPE = re.compile(r"\x1b(?:[()*+,\-./][ -~]|[ -~])")
# The lookbehind starts a pager prompt only at the first dash of a run: otherwise a line of
# dashes is rescanned from each of its dashes (quadratic in the line length).
_PAGING = re.compile(r"(?<!-)-{2,}\s*More\s*-{2,}|Press any key to continue \(Q to quit\)", re.I)
_COMWARE_PROMPT = re.compile(r"^\s*[<\[]([A-Za-z0-9][A-Za-z0-9._/-]{0,63})[>\]]\s*(.*)$")
_JETSTREAM_PROMPT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]{0,63})(?:\([a-z-]+\))?[#>]\s*(.*)$")
_CLI_COMMANDS = re.compile(
    r"^(?:show|display|dis|screen-length|terminal|enable|quit|exit|logout|end)\b", re.I)
_ALGORITHM_NAME = re.compile(r"[a-z0-9][a-z0-9@._+-]*\Z")
_ENABLED = frozenset(("enable", "enabled", "on", "yes", "true"))
_DISABLED = frozenset(("disable", "disabled", "off", "no", "false"))

# JetStream "Key - Value" (some firmware: "Key : Value") lines of show system-info. This and
# _JS_SSH_PAIR and _CW_UPTIME are applied to single-spaced lines (_single_spaced): their lazy
# groups are followed by \s, which on a long run of blanks would be retried at every blank.
_JS_FIELD = re.compile(r"^\s*([A-Za-z][A-Za-z ]{1,40}?)\s+[-:]\s+(\S.*?)\s*$")
_JS_KEYS = {
    "system name": "system_name",
    "device name": "system_name",
    "hardware version": "hardware",
    "firmware version": "software_version",
    "software version": "software_version",
    "boot loader version": "bootloader_version",
    "bootloader version": "bootloader_version",
    "running time": "uptime",
    "mac address": "mac_address",
    "serial number": "serial_number",
}
_JS_UPTIME = re.compile(
    r"^(\d{1,9})\s*days?\s*-\s*(\d{1,9})\s*hours?\s*-\s*(\d{1,9})\s*min(?:ute)?s?"
    r"\s*-\s*(\d{1,9})\s*sec(?:ond)?s?$", re.I)
_JS_SSH_PAIR = re.compile(r"([A-Za-z0-9][A-Za-z0-9 ._()/+-]{0,40}?)\s*:\s*([^\s:]+)")
_JS_SSH_SECTIONS = {
    "global config": "global",
    "encryption algorithm": "encryption",
    "data integrity algorithm": "integrity",
    "key type": "key",
    "key data": "key",
}
_JS_SSH_SECTION = re.compile(
    r"^\s*(global config|encryption algorithm|data integrity algorithm|key type|key data)\s*:\s*(.*)$",
    re.I)

_CW_VERSION = re.compile(
    r"^\s*Comware Software,\s*Version\s+(\d{1,3})\.(\d{1,3}(?:\.\d{1,4})?)\s*,\s*"
    r"(Release|Feature)\s+([A-Za-z0-9._-]{1,32})", re.I)
_CW_UPTIME = re.compile(r"^\s*(HPE?)\s+(V1910-\S.*?)\s+uptime is\s+(.+?)\s*$")
_CW_MODEL = re.compile(r"^(V1910-[0-9]{1,3}G(?:-PoE\+?)?(?:\s*\(\d{2,4}W\))?)(?:\s+Switch)?"
                       r"(?:\s+(J[A-Z][0-9]{3}[A-Z]))?\s*$")
_CW_UPTIME_PART = re.compile(r"(\d{1,9})\s*(week|day|hour|minute|second)s?\b", re.I)
_CW_HARDWARE = re.compile(r"^\s*Hardware Version is\s+(\S{1,32})\s*$")
_CW_BOOTROM = re.compile(r"^\s*Bootrom Version is\s+(\S{1,32})\s*$")
_CW_MANUINFO = re.compile(r"^\s*(DEVICE_SERIAL_NUMBER|MAC_ADDRESS)\s*:\s*\S")
_CW_SSH_FIELD = re.compile(r"^\s*(SSH server|SSH version)\s*:\s*(\S+)\s*$", re.I)
_CW_SESSION_HEADER = re.compile(r"^\s*Conn\s+Ver\s+Encry\s+State\b", re.I)
_CW_SESSION_ROW = re.compile(
    r"^\s*(?:VTY|AUX|TTY)\s*\d{1,3}\s+(\d(?:\.\d{1,2})?)\s+(\S{1,32})\s+([A-Za-z-]{1,32})\b", re.I)
_CW_NO_SESSION = re.compile(r"\bno\s+ssh\s+server\s+session", re.I)
_UNIT_SECONDS = {"week": 604800, "day": 86400, "hour": 3600, "minute": 60, "second": 1}


class Screen:
    """Terminal output replayed into lines, with the prompts and echoed commands it held."""

    def __init__(self, lines: list[str], commands: list[str], prompt_names: list[str],
                 paging_prompts: int) -> None:
        self.lines = lines
        self.commands = commands
        self.prompt_names = prompt_names
        self.paging_prompts = paging_prompts


def screen_lines(text: str) -> Screen:
    """Replay ``text`` like a terminal and split it into content lines.

    ``\\r`` returns to the line start, ``\\b`` and ``ESC[nD`` move left, ``ESC[K`` erases to the
    end of the line; later characters overwrite earlier ones. Paging prompts are removed;
    lines that are a CLI prompt (``<name>``, ``[name]``, ``name#``, ``name>``), alone or with
    an echoed command, are dropped and the commands are kept for reference.
    """
    lines: list[str] = []
    commands: list[str] = []
    names: list[str] = []
    paging = 0
    for physical in text.split("\n")[:MAX_LINES]:
        physical = physical[: MAX_LINE_CHARS * 4]
        # Counted in the raw text: a device usually erases its pager prompt once answered.
        paging += len(_PAGING.findall(physical))
        line = _PAGING.sub("", _replay(physical)).rstrip()
        prompt = _prompt(line)
        if prompt is not None:
            name, command = prompt
            names.append(name)
            if command:
                commands.append(" ".join(command.split()).lower())
            continue
        lines.append(line)
    return Screen(lines, commands, names, paging)


def _replay(physical: str) -> str:
    cells: list[str] = []
    column = 0
    position = 0
    while position < len(physical):
        char = physical[position]
        if char == "\x1b":
            match = _CSI.match(physical, position)
            if match:
                column = _csi(match, cells, column)
                position = match.end()
                continue
            other = _OTHER_ESCAPE.match(physical, position)
            position = other.end() if other else position + 1
            continue
        position += 1
        if char == "\r":
            column = 0
        elif char == "\b":
            column = max(0, column - 1)
        elif char == "\t":
            column = min(MAX_LINE_CHARS, (column // 8 + 1) * 8)
        elif char.isprintable() and column < MAX_LINE_CHARS:
            while len(cells) < column:
                cells.append(" ")
            if column < len(cells):
                cells[column] = char
            else:
                cells.append(char)
            column += 1
    return "".join(cells)


def _csi(match: re.Match[str], cells: list[str], column: int) -> int:
    params, final = match.group(1), match.group(2)
    first = params.split(";")[0]
    count = int(first) if first.isdigit() and len(first) < 5 else 1
    if final == "D":
        return max(0, column - max(count, 1))
    if final == "C":
        return min(MAX_LINE_CHARS, column + max(count, 1))
    if final == "G":
        return min(MAX_LINE_CHARS, max(count, 1) - 1)
    if final == "K":
        mode = first if first else "0"
        if mode == "0":
            del cells[column:]
        elif mode == "1":
            cells[:column + 1] = [" "] * min(column + 1, len(cells))
        elif mode == "2":
            cells.clear()
    return column


def _single_spaced(line: str) -> str:
    return " ".join(line.split())


def _prompt(line: str) -> tuple[str, str] | None:
    for pattern in (_COMWARE_PROMPT, _JETSTREAM_PROMPT):
        match = pattern.match(line)
        if match:
            command = match.group(2).strip()
            if not command or _CLI_COMMANDS.match(command):
                return match.group(1), command
    return None


# --- family recognition and system-info ---------------------------------------------------

def identify_family(system_info: object) -> str | None:
    """The supported family that printed ``system_info``, or ``None`` (never a guess)."""
    return _identify(screen_lines(raw_text(system_info)))


def _identify(screen: Screen) -> str | None:
    matches = [family for family, parse in ((TPLINK_FAMILY, _tplink_system_info),
                                            (HPE_FAMILY, _hpe_system_info))
               if parse(screen.lines) is not None]
    # Output that looks like both families is not trusted as either.
    return matches[0] if len(matches) == 1 else None


def parse_system_info(family: str, text: str) -> dict[str, Any] | None:
    """Device identity of a supported ``family`` from its system-info output, or ``None``."""
    return _system_info(family, screen_lines(text))


def _system_info(family: str, screen: Screen) -> dict[str, Any] | None:
    if family == TPLINK_FAMILY:
        return _tplink_system_info(screen.lines)
    if family == HPE_FAMILY:
        parsed = _hpe_system_info(screen.lines)
        if parsed is not None and screen.prompt_names:
            parsed["system_name"] = bounded_text(screen.prompt_names[0], NAME_CHARS)
        return parsed
    return None


def _tplink_system_info(lines: Sequence[str]) -> dict[str, Any] | None:
    fields: dict[str, str] = {}
    for line in lines:
        match = _JS_FIELD.match(_single_spaced(line))
        if not match:
            continue
        key = _JS_KEYS.get(" ".join(match.group(1).lower().split()))
        if key and key not in fields:
            fields[key] = match.group(2)
    hardware = fields.get("hardware", "").split()
    if not hardware or hardware[0] not in TPLINK_MODELS:
        return None
    revision = " ".join(hardware[1:])
    return {
        "vendor": "TP-Link",
        "model": hardware[0],
        "product_number": UNKNOWN,
        "system_name": bounded_text(fields.get("system_name"), NAME_CHARS),
        "software_version": bounded_text(fields.get("software_version"), VERSION_CHARS),
        "hardware_version": bounded_text(revision, VERSION_CHARS),
        "bootloader_version": bounded_text(fields.get("bootloader_version"), VERSION_CHARS),
        "uptime_seconds": _tplink_uptime(fields.get("uptime", "")),
        "withheld": [name for name in ("serial_number", "mac_address") if name in fields],
    }


def _tplink_uptime(value: str) -> int | None:
    match = _JS_UPTIME.match(value.strip())
    if not match:
        return None
    days, hours, minutes, seconds = (int(group) for group in match.groups())
    return min(days * 86400 + hours * 3600 + minutes * 60 + seconds, MAX_UPTIME_SECONDS)


def _hpe_system_info(lines: Sequence[str]) -> dict[str, Any] | None:
    version = uptime = hardware = bootrom = None
    withheld: list[str] = []
    for line in lines:
        if version is None:
            version = _CW_VERSION.match(line)
        if uptime is None:
            uptime = _CW_UPTIME.match(_single_spaced(line))
        if hardware is None:
            hardware = _CW_HARDWARE.match(line)
        if bootrom is None:
            bootrom = _CW_BOOTROM.match(line)
        manuinfo = _CW_MANUINFO.match(line)
        if manuinfo:
            name = "serial_number" if manuinfo.group(1) == "DEVICE_SERIAL_NUMBER" else "mac_address"
            if name not in withheld:
                withheld.append(name)
    if version is None or uptime is None or version.group(1) != "5":
        return None
    model = _CW_MODEL.match(" ".join(uptime.group(2).split()))
    if model is None:
        return None
    return {
        "vendor": "HPE",
        "model": model.group(1),
        "product_number": model.group(2) or UNKNOWN,
        "system_name": UNKNOWN,
        "software_version": bounded_text(
            "%s.%s %s %s" % (version.group(1), version.group(2), version.group(3).capitalize(),
                             version.group(4)), VERSION_CHARS),
        "hardware_version": hardware.group(1) if hardware else UNKNOWN,
        "bootloader_version": bootrom.group(1) if bootrom else UNKNOWN,
        "uptime_seconds": _comware_uptime(uptime.group(3)),
        "withheld": sorted(withheld, key=("serial_number", "mac_address").index),
    }


def _comware_uptime(value: str) -> int | None:
    parts = _CW_UPTIME_PART.findall(value)
    if not parts:
        return None
    total = sum(int(number) * _UNIT_SECONDS[unit.lower()] for number, unit in parts)
    return min(total, MAX_UPTIME_SECONDS)


# --- ssh-status ---------------------------------------------------------------------------

def parse_ssh_status(family: str, text: str) -> dict[str, Any]:
    """SSH server facts of a supported ``family``; unparsed values are ``None``."""
    return _ssh(family, screen_lines(text))


def _ssh(family: str, screen: Screen) -> dict[str, Any]:
    if family == TPLINK_FAMILY:
        return _tplink_ssh(screen.lines)
    if family == HPE_FAMILY:
        return _hpe_ssh(screen)
    return empty_ssh()


def empty_ssh() -> dict[str, Any]:
    return {
        "server_enabled": None,
        "protocol_versions": {"v1": None, "v2": None},
        "idle_timeout_seconds": None,
        "max_clients": None,
        "algorithms": {
            "basis": "not_reported",
            "encryption": {"enabled": [], "disabled": []},
            "integrity": {"enabled": [], "disabled": []},
        },
        "sessions_established": None,
    }


def _tplink_ssh(lines: Sequence[str]) -> dict[str, Any]:
    ssh = empty_ssh()
    section = "global"
    reported_algorithms = False
    for line in lines:
        header = _JS_SSH_SECTION.match(line)
        if header:
            section = _JS_SSH_SECTIONS[" ".join(header.group(1).lower().split())]
            line = header.group(2)
        for key, value in _JS_SSH_PAIR.findall(_single_spaced(line)):
            name = " ".join(key.lower().split())
            state = _switch(value)
            if name == "ssh server":
                ssh["server_enabled"] = _first(ssh["server_enabled"], state)
            elif name in ("protocol v1", "protocol v2"):
                versions = ssh["protocol_versions"]
                versions[name[-2:]] = _first(versions[name[-2:]], state)
            elif name == "idle timeout":
                ssh["idle_timeout_seconds"] = _first(
                    ssh["idle_timeout_seconds"], _natural(value, MAX_IDLE_TIMEOUT_SECONDS))
            elif name in ("max clients", "max client", "max connect", "max connections"):
                ssh["max_clients"] = _first(ssh["max_clients"], _natural(value, MAX_CLIENTS))
            elif section in ("encryption", "integrity") and state is not None:
                reported_algorithms |= _add_algorithm(ssh["algorithms"][section], name, state)
    if reported_algorithms:
        ssh["algorithms"]["basis"] = "configured"
    return ssh


def _hpe_ssh(screen: Screen) -> dict[str, Any]:
    ssh = empty_ssh()
    sessions = None
    if "display ssh server session" in screen.commands:
        sessions = 0
    negotiated = ssh["algorithms"]["encryption"]
    for line in screen.lines:
        field = _CW_SSH_FIELD.match(line)
        if field:
            name = field.group(1).lower()
            if name == "ssh server":
                ssh["server_enabled"] = _first(ssh["server_enabled"], _switch(field.group(2)))
            elif ssh["protocol_versions"]["v2"] is None:
                # Comware prints 1.99 while SSH1 compatibility is on, 2.0 otherwise.
                ssh["protocol_versions"] = {"1.99": {"v1": True, "v2": True},
                                            "2.0": {"v1": False, "v2": True}}.get(
                                                field.group(2), {"v1": None, "v2": None})
            continue
        if _CW_SESSION_HEADER.match(line) or _CW_NO_SESSION.search(line):
            sessions = sessions or 0
            continue
        row = _CW_SESSION_ROW.match(line)
        if row and row.group(3).lower() == "established":
            sessions = min((sessions or 0) + 1, MAX_SESSIONS)
            _add_algorithm(negotiated, row.group(2).lower(), True)
    ssh["sessions_established"] = sessions
    if negotiated["enabled"]:
        ssh["algorithms"]["basis"] = "negotiated"
    return ssh


def _switch(value: str) -> bool | None:
    word = value.lower()
    if word in _ENABLED:
        return True
    if word in _DISABLED:
        return False
    return None


def _natural(value: str, maximum: int) -> int | None:
    """A plain count or number of seconds; signs and anything else are not a value."""
    return parse_int(value, 0, maximum) if value.isascii() and value.isdigit() else None


def _first(current: Any, new: Any) -> Any:
    return current if current is not None else new


def _add_algorithm(lists: dict[str, list[str]], name: str, enabled: bool) -> bool:
    if len(name) > ALGORITHM_CHARS or not _ALGORITHM_NAME.match(name):
        return False
    if name in lists["enabled"] or name in lists["disabled"]:
        return True
    target = lists["enabled" if enabled else "disabled"]
    if len(lists["enabled"]) + len(lists["disabled"]) < MAX_ALGORITHMS:
        target.append(name)
    return True


# --- facts --------------------------------------------------------------------------------

def observe(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Parse both wrapper results once; the two normalizers share this."""
    source: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    calls = {key: _wrapper_call(source.get(key)) for key in OBSERVATION_KEYS}
    blockers: list[str] = []
    observed: list[str] = []
    device = unknown_device()
    ssh = empty_ssh()
    system_call = calls["system_info"]
    if system_call["status"] != "ok":
        blockers.append("system_info_" + system_call["status"])
    else:
        family = _identify(system_call["screen"])
        observed.append("device_family")
        if family is None:
            device["support"] = "unsupported"
            device["family"] = "unsupported"
            blockers.append("device_family_unsupported")
        else:
            identity = _system_info(family, system_call["screen"]) or {}
            device.update(identity)
            device["support"] = "supported"
            device["family"] = family
            for name, present in (("model", device["model"] != UNKNOWN),
                                  ("software_version", device["software_version"] != UNKNOWN),
                                  ("hardware_version", device["hardware_version"] != UNKNOWN),
                                  ("uptime", device["uptime_seconds"] is not None)):
                (observed if present else blockers).append(name if present else name + "_unparsed")
    ssh_call = calls["ssh_status"]
    if device["support"] == "supported":
        if ssh_call["status"] != "ok":
            blockers.append("ssh_status_" + ssh_call["status"])
        else:
            ssh = _ssh(device["family"], ssh_call["screen"])
            versions = ssh["protocol_versions"]
            for name, present in (("ssh_server", ssh["server_enabled"] is not None),
                                  ("ssh_protocol_versions",
                                   versions["v1"] is not None and versions["v2"] is not None)):
                (observed if present else blockers).append(name if present else name + "_unparsed")
    wrapper = {key: {name: calls[key][name] for name in ("status", "exit_code", "output_bytes")}
               for key in OBSERVATION_KEYS}
    for key in OBSERVATION_KEYS:
        wrapper[key]["paging_prompts_removed"] = calls[key]["paging"]
    return {"device": device, "ssh": ssh, "wrapper": wrapper, "observed": observed,
            "blockers": blockers}


def unknown_device() -> dict[str, Any]:
    return {
        "support": UNKNOWN,
        "vendor": UNKNOWN,
        "family": UNKNOWN,
        "model": UNKNOWN,
        "product_number": UNKNOWN,
        "system_name": UNKNOWN,
        "software_version": UNKNOWN,
        "hardware_version": UNKNOWN,
        "bootloader_version": UNKNOWN,
        "uptime_seconds": None,
        "withheld": [],
    }


def _wrapper_call(value: Any) -> dict[str, Any]:
    call: Mapping[str, Any] = value if isinstance(value, Mapping) else {}
    status = call.get("status")
    if status not in WRAPPER_STATUSES:
        status = "not_run"
    text = raw_text(call.get("output"), MAX_RAW_BYTES)
    exit_code = call.get("exit_code")
    if isinstance(exit_code, bool) or not isinstance(exit_code, int):
        exit_code = None
    else:
        exit_code = max(-255, min(255, exit_code))
    size = call.get("output_bytes")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        size = len(text.encode("utf-8", "replace"))
    if status == "ok" and not text.strip():
        status = "empty"
    screen = screen_lines(text if status == "ok" else "")
    return {"status": status, "exit_code": exit_code, "output_bytes": min(size, MAX_RAW_BYTES * 16),
            "screen": screen, "paging": min(screen.paging_prompts, MAX_LINES)}


def normalize_inventory(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``tecrax.network_device_inventory`` facts for the two wrapper results in ``raw``.

    ``raw`` maps ``system_info`` and ``ssh_status`` to ``{status, exit_code, output,
    output_bytes}`` (see ``WRAPPER_STATUSES``); anything missing counts as not run.
    """
    seen = observe(raw)
    coverage = coverage_state(INVENTORY_SCOPE, seen["observed"], seen["blockers"])
    return build_facts(
        INVENTORY_CONTRACT_ID,
        requested=INVENTORY_SCOPE,
        observed=seen["observed"],
        blockers=seen["blockers"],
        assessment=collection_assessment(coverage),
        non_claims=INVENTORY_NON_CLAIMS,
        payload={"device": seen["device"], "ssh": seen["ssh"], "wrapper": seen["wrapper"]},
    )


def posture_findings(ssh: Mapping[str, Any]) -> list[dict[str, str]]:
    """Findings for parsed SSH facts, most severe first."""
    found: list[dict[str, str]] = []
    versions = ssh["protocol_versions"]
    if ssh["server_enabled"] is False:
        found.append(_finding("ssh_server_disabled", "the SSH server is disabled"))
    if versions["v2"] is False:
        found.append(_finding("ssh_protocol_v2_disabled", "SSH protocol version 2 is disabled"))
    if versions["v1"] is True:
        found.append(_finding("legacy_ssh_v1_enabled", "SSH protocol version 1 is enabled"))
    legacy = legacy_algorithms(ssh)
    if legacy:
        how = "negotiated" if ssh["algorithms"]["basis"] == "negotiated" else "enabled"
        found.append(_finding("legacy_ssh_crypto_observed",
                              "%s: %s" % (how, ", ".join(legacy))))
    if ssh["idle_timeout_seconds"] is None:
        found.append(_finding("ssh_idle_timeout_unknown", "the device does not report an SSH idle timeout"))
    if ssh["max_clients"] is None:
        found.append(_finding("ssh_max_clients_unknown", "the device does not report an SSH client limit"))
    found.sort(key=lambda item: SEVERITIES.index(item["severity"]))
    return found


def legacy_algorithms(ssh: Mapping[str, Any]) -> list[str]:
    algorithms = ssh["algorithms"]
    enabled = algorithms["encryption"]["enabled"] + algorithms["integrity"]["enabled"]
    return [name for name in enabled if name in LEGACY_ALGORITHMS]


def _finding(finding_id: str, detail: str) -> dict[str, str]:
    return {"id": finding_id, "severity": FINDINGS[finding_id], "detail": bounded_text(detail, 160)}


def assess_posture(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``tecrax.network_management_posture`` facts for the two wrapper results in ``raw``.

    A verdict needs the device family and the SSH server and protocol states: then any high
    finding is ``unhealthy``, any medium ``degraded``, otherwise ``healthy`` (low findings say
    what the device does not report). Without them: ``unknown``, or ``unavailable`` when the
    wrapper gave nothing.
    """
    seen = observe(raw)
    observed = [name for name in seen["observed"] if name in POSTURE_SCOPE]
    blockers = [name for name in seen["blockers"]
                if not name.startswith(("model_", "software_version_", "hardware_version_", "uptime_"))]
    coverage = coverage_state(POSTURE_SCOPE, observed, blockers)
    findings: list[dict[str, str]] = []
    if coverage == "complete":
        findings = posture_findings(seen["ssh"])
        severities = {item["severity"] for item in findings}
        assessment = ("unhealthy" if "high" in severities
                      else "degraded" if "medium" in severities else "healthy")
    else:
        assessment = "unavailable" if coverage == "blocked" else "unknown"
    device = {key: seen["device"][key]
              for key in ("support", "vendor", "family", "model", "software_version")}
    counts = {severity: sum(1 for item in findings if item["severity"] == severity)
              for severity in SEVERITIES}
    return build_facts(
        POSTURE_CONTRACT_ID,
        requested=POSTURE_SCOPE,
        observed=observed,
        blockers=blockers,
        assessment=assessment,
        reasons=[item["id"] for item in findings if item["severity"] != "low"],
        non_claims=POSTURE_NON_CLAIMS,
        payload={
            "device": device,
            "ssh": seen["ssh"],
            "findings": findings,
            "finding_counts": counts,
            "legacy_algorithms_enabled": legacy_algorithms(seen["ssh"]) if findings else [],
            "wrapper": seen["wrapper"],
        },
    )
