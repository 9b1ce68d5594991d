# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Normalizer of the ``tecrax.basic_host_inventory`` 1.0 facts contract, and its collection.

``normalize_host_inventory`` turns seven raw observations of a Linux host into bounded facts.
It is pure and total: any input gives schema-valid facts, and an observation that is missing
or does not parse is reported in ``scope``/``coverage`` instead of raising.
``collect_host_inventory`` makes those observations on the managed host (see ``run_host_module``
for why here).
"""

from __future__ import annotations

import copy
import os
import re
import socket
from typing import Any, Callable, Mapping

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import CommandRunner, read_bounded
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import (
    MAX_SAFE_INT,
    UNKNOWN,
    bounded_text,
    build_facts,
    collection_assessment,
    coverage_state,
    parse_float,
    parse_int,
    raw_text,
)

CONTRACT_ID = "tecrax.basic_host_inventory"

# Observation (scope name) -> key of the raw input it is parsed from, in scope order.
RAW_KEY_OF = {
    "os_release": "os_release",
    "kernel": "kernel",
    "hostname": "hostname",
    "uptime": "uptime",
    "load_average": "loadavg",
    "root_filesystem": "df",
    "memory": "meminfo",
}
REQUESTED = tuple(RAW_KEY_OF)

NON_CLAIMS = (
    "healthy means every observation was collected, not that the host is in good health",
    "values are a point-in-time sample",
    "does not assess security posture",
    "does not cover filesystems other than the one holding /",
    "memory follows procps-ng free semantics for /proc/meminfo, not cgroup limits",
    "does not inspect packages, services or processes",
)

# Text limits (characters). Their sum stays far enough below the 16 KiB facts bound that
# even all-astral text, escaped to 12 bytes a character, fits.
OS_ID_CHARS = 64
OS_VERSION_CHARS = 64
OS_PRETTY_CHARS = 128
KERNEL_NAME_CHARS = 64
KERNEL_RELEASE_CHARS = 128
KERNEL_MACHINE_CHARS = 64
HOSTNAME_CHARS = 128
DEVICE_CHARS = 128
MOUNT_CHARS = 128
MAX_LOAD = 1e6

_UPTIME = re.compile(r"([0-9]+)(?:\.[0-9]+)?\Z")
_LOAD = re.compile(r"[0-9]+(?:\.[0-9]+)?\Z")
_TASKS = re.compile(r"([0-9]+)/([0-9]+)\Z")
_DF_BLOCK_SIZES = {"1024-blocks": 1024, "1K-blocks": 1024, "1k-blocks": 1024, "512-blocks": 512}
_DF_SIZE = re.compile(r"(?:[0-9]+|-)\Z")
_DF_SIGNED = re.compile(r"(?:-?[0-9]+|-)\Z")
_DF_CAPACITY = re.compile(r"(?:[0-9]+%|-)\Z")
_DOUBLE_QUOTE_ESCAPES = "\"\\$`"
_OS_RELEASE_KEYS = ("ID", "VERSION_ID", "PRETTY_NAME")

OS_RELEASE_PATHS = ("/etc/os-release", "/usr/lib/os-release")
HOSTNAME_PATH = "/proc/sys/kernel/hostname"


def read_os_release() -> bytes | None:
    for path in OS_RELEASE_PATHS:
        data = read_bounded(path)
        if data is not None:
            return data
    return None


def read_kernel() -> str | None:
    try:
        uname = os.uname()
    except OSError:
        return None
    return "%s %s %s" % (uname.sysname, uname.release, uname.machine)


def read_hostname() -> str | bytes | None:
    try:
        name = socket.gethostname()
    except OSError:
        name = ""
    return name or read_bounded(HOSTNAME_PATH)


def read_df(commands: CommandRunner) -> bytes | None:
    df = commands.find("df")
    if not df:
        return None
    # The runner's C locale keeps the header and numbers in the format the normalizer parses.
    ended = commands.run([df, "-P", "-k", "/"])
    if ended.rc != 0:
        return None
    return ended.stdout


def collect_host_inventory(commands: CommandRunner) -> dict[str, str | bytes | None]:
    """The raw input of ``normalize_host_inventory``, read on this host."""
    return {
        "os_release": read_os_release(),
        "kernel": read_kernel(),
        "hostname": read_hostname(),
        "uptime": read_bounded("/proc/uptime"),
        "loadavg": read_bounded("/proc/loadavg"),
        "df": read_df(commands),
        "meminfo": read_bounded("/proc/meminfo"),
    }


def normalize_host_inventory(raw: Mapping[str, str | bytes | None]) -> dict[str, Any]:
    """Return ``tecrax.basic_host_inventory`` facts for raw observations.

    ``raw`` keys: ``os_release``, ``kernel`` (``uname -srm``), ``hostname``, ``uptime``
    (/proc/uptime), ``loadavg`` (/proc/loadavg), ``df`` (``df -P -k /``), ``meminfo``
    (/proc/meminfo). Missing keys, ``None`` and non-text values count as not collected.
    """
    source: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    parsed: dict[str, Any] = {}
    blockers: list[str] = []
    for name, key in RAW_KEY_OF.items():
        text = raw_text(source.get(key))
        if not text.strip():
            blockers.append(name + "_unavailable")
            parsed[name] = None
            continue
        parsed[name] = _PARSERS[name](text)
        if parsed[name] is None:
            blockers.append(name + "_unparsed")

    values = {name: copy.deepcopy(_UNOBSERVED[name]) if parsed[name] is None else parsed[name]
              for name in REQUESTED}
    payload = {
        "os": values["os_release"],
        "kernel": values["kernel"],
        "hostname": values["hostname"],
        "uptime_seconds": values["uptime"],
        "load_average": values["load_average"],
        "root_filesystem": values["root_filesystem"],
        "memory_mib": values["memory"]["mib"],
        "memory_available_basis": values["memory"]["available_basis"],
    }
    observed = [name for name in REQUESTED if parsed[name] is not None]
    return build_facts(
        CONTRACT_ID,
        requested=REQUESTED,
        observed=observed,
        blockers=blockers,
        assessment=collection_assessment(coverage_state(REQUESTED, observed, blockers)),
        non_claims=NON_CLAIMS,
        payload=payload,
    )


def parse_os_release(text: str) -> dict[str, Any] | None:
    """``{id, version_id, pretty_name}`` from os-release(5) text, or ``None``.

    Shell-style values: single quotes are literal, double quotes honour the escapes
    ``\\" \\\\ \\$ \\```, unquoted backslashes escape the next character; comments and
    blank lines are skipped; the last assignment wins. Needs ``ID`` or ``PRETTY_NAME``.
    """
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if sep and name in _OS_RELEASE_KEYS:
            values[name] = _shell_value(value)
    os_id = bounded_text(values.get("ID"), OS_ID_CHARS)
    pretty = bounded_text(values.get("PRETTY_NAME"), OS_PRETTY_CHARS)
    if os_id == UNKNOWN and pretty == UNKNOWN:
        return None
    return {
        "id": os_id,
        "version_id": bounded_text(values.get("VERSION_ID"), OS_VERSION_CHARS),
        "pretty_name": pretty,
    }


def _shell_value(text: str) -> str:
    out: list[str] = []
    quote = ""
    index = 0
    while index < len(text):
        char = text[index]
        following = text[index + 1] if index + 1 < len(text) else ""
        if quote == "'":
            if char == "'":
                quote = ""
            else:
                out.append(char)
        elif quote == '"':
            if char == '"':
                quote = ""
            elif char == "\\" and following and following in _DOUBLE_QUOTE_ESCAPES:
                out.append(following)
                index += 1
            else:
                out.append(char)
        elif char in "'\"":
            quote = char
        elif char.isspace():
            break  # an unquoted blank ends the value; what follows is not part of it
        elif char == "\\" and following:
            out.append(following)
            index += 1
        else:
            out.append(char)
        index += 1
    return "".join(out)


def parse_kernel(text: str) -> dict[str, Any] | None:
    """``{name, release, machine}`` from ``uname -srm`` text (exactly three words)."""
    line = _first_line(text)
    words = [bounded_text(word, 128, "") for word in line.split()]
    if len(words) != 3 or not all(words):
        return None
    return {
        "name": words[0][:KERNEL_NAME_CHARS],
        "release": words[1][:KERNEL_RELEASE_CHARS],
        "machine": words[2][:KERNEL_MACHINE_CHARS],
    }


def parse_hostname(text: str) -> str | None:
    """The host name: the first non-blank line, bounded."""
    return bounded_text(_first_line(text), HOSTNAME_CHARS, "") or None


def parse_uptime(text: str) -> int | None:
    """Whole seconds since boot from /proc/uptime text."""
    words = _first_line(text).split()
    match = _UPTIME.match(words[0]) if words else None
    return parse_int(match.group(1)) if match else None


def parse_loadavg(text: str) -> dict[str, Any] | None:
    """``{one, five, fifteen, runnable, total}`` from /proc/loadavg text."""
    words = _first_line(text).split()
    if len(words) < 4:
        return None
    tasks = _TASKS.match(words[3])
    if not tasks or not all(_LOAD.match(word) for word in words[:3]):
        return None
    loads = [parse_float(word, 0.0, MAX_LOAD) for word in words[:3]]
    return {
        "one": loads[0],
        "five": loads[1],
        "fifteen": loads[2],
        "runnable": parse_int(tasks.group(1)),
        "total": parse_int(tasks.group(2)),
    }


def parse_df(text: str) -> dict[str, Any] | None:
    """The filesystem row of ``df -P -k /`` output, sizes in KiB, or ``None``.

    Skips the header (a ``512-blocks`` header is converted, an unknown block size is
    refused), joins a long device name that non-POSIX ``df`` wraps onto its own line, maps
    ``-`` to ``None`` and prefers the row mounted on ``/``.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    block_size = 1024
    if lines and lines[0].split()[0].lower() == "filesystem":
        header = lines.pop(0).split()
        # Refuse a header that declares another unit (inodes, -h sizes, 1M-blocks ...).
        block_size = _DF_BLOCK_SIZES.get(header[1] if len(header) > 1 else "", 0)
        if not block_size:
            return None
    rows = []
    index = 0
    while index < len(lines):
        words = lines[index].split()
        row = _df_row(words)
        if row is None and len(words) == 1 and index + 1 < len(lines) \
                and lines[index + 1][:1].isspace():
            row = _df_row(words + lines[index + 1].split())
            if row is not None:
                index += 1
        if row is not None:
            rows.append(row)
        index += 1
    if not rows:
        return None
    device, numbers, mount = next((row for row in rows if row[2] == "/"), rows[0])
    size, used, available, capacity = numbers
    return {
        "device": bounded_text(device, DEVICE_CHARS),
        "size_kib": _kib(size, block_size, 0),
        "used_kib": _kib(used, block_size, -MAX_SAFE_INT),
        "available_kib": _kib(available, block_size, -MAX_SAFE_INT),
        "capacity_percent": parse_int(capacity[:-1]) if capacity != "-" else None,
        "mount": bounded_text(mount, MOUNT_CHARS),
    }


def _df_row(words: list[str]) -> tuple[str, list[str], str] | None:
    # Device names and mount points may contain blanks, so the four numeric columns are
    # located first: the leftmost position where they match and a path follows.
    for start in range(1, len(words) - 4):
        size, used, available, capacity, mount = words[start:start + 5]
        if (_DF_SIZE.match(size) and _DF_SIGNED.match(used) and _DF_SIGNED.match(available)
                and _DF_CAPACITY.match(capacity) and mount.startswith("/")):
            return " ".join(words[:start]), words[start:start + 4], " ".join(words[start + 4:])
    return None


def _kib(token: str, block_size: int, minimum: int) -> int | None:
    value = parse_int(token, minimum)
    if value is None or block_size == 1024:
        return value
    return value * block_size // 1024


def parse_meminfo(text: str) -> dict[str, Any] | None:
    """``{mib, available_basis}`` from /proc/meminfo text, the way procps-ng 4 ``free -m`` does.

    used = MemTotal - MemAvailable; buff_cache = Buffers + Cached + SReclaimable;
    shared = Shmem; each value is KiB // 1024 (``free`` truncates). Without a usable
    MemAvailable (missing, zero, or above MemTotal as in some containers) ``free`` falls
    back to MemFree, and so does this; ``available_basis`` says which one was used. Absent
    counters other than MemTotal and MemFree count as zero, as in ``free``.
    """
    kib: dict[str, int] = {}
    for line in text.splitlines():
        name, sep, rest = line.partition(":")
        words = rest.split()
        if not sep or not 1 <= len(words) <= 2 or words[1:] not in ([], ["kB"]):
            continue
        value = parse_int(words[0])
        if value is not None:
            kib[name.strip()] = value
    total = kib.get("MemTotal")
    free = kib.get("MemFree")
    if not total or free is None:
        return None
    available = kib.get("MemAvailable", 0)
    basis = "mem_available"
    if available == 0 or available > total:
        available, basis = free, "mem_free"
    used = total - available
    if used < 0:
        used = total - free
    buff_cache = kib.get("Buffers", 0) + kib.get("Cached", 0) + kib.get("SReclaimable", 0)
    mib = {
        "total": total,
        "used": max(used, 0),
        "free": free,
        "shared": kib.get("Shmem", 0),
        "buff_cache": buff_cache,
        "available": available,
    }
    return {
        "mib": {key: min(value, MAX_SAFE_INT) // 1024 for key, value in mib.items()},
        "available_basis": basis,
    }


def _first_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "")


# Payload of an observation that was not made: text is "unknown", numbers are null.
_UNOBSERVED: dict[str, Any] = {
    "os_release": dict.fromkeys(("id", "version_id", "pretty_name"), UNKNOWN),
    "kernel": dict.fromkeys(("name", "release", "machine"), UNKNOWN),
    "hostname": UNKNOWN,
    "uptime": None,
    "load_average": dict.fromkeys(("one", "five", "fifteen", "runnable", "total")),
    "root_filesystem": {
        "device": UNKNOWN,
        "size_kib": None,
        "used_kib": None,
        "available_kib": None,
        "capacity_percent": None,
        "mount": UNKNOWN,
    },
    "memory": {
        "mib": dict.fromkeys(("total", "used", "free", "shared", "buff_cache", "available")),
        "available_basis": UNKNOWN,
    },
}

_PARSERS: dict[str, Callable[[str], Any]] = {
    "os_release": parse_os_release,
    "kernel": parse_kernel,
    "hostname": parse_hostname,
    "uptime": parse_uptime,
    "load_average": parse_loadavg,
    "root_filesystem": parse_df,
    "memory": parse_meminfo,
}
