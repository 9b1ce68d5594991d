"""The tecrax.basic_host_inventory normalizer, on recorded outputs and on hostile input.

Provenance of the data files: see tests/unit/data/host_inventory/README.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.host import host_inventory as hi
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import (
    MAX_FACTS_BYTES,
    MAX_SAFE_INT,
    UNKNOWN,
    canonical_json,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "host_inventory"
SCHEMA = "basic_host_inventory.v1.schema.json"
RAW_KEYS = ("os_release", "kernel", "hostname", "uptime", "loadavg", "df", "meminfo")
OBSERVATION_OF = {key: name for name, key in hi.RAW_KEY_OF.items()}


def read(*parts: str) -> str:
    return DATA.joinpath(*parts).read_text(encoding="utf-8")


def recorded_host() -> dict[str, str]:
    return {key: read("hosts", "debian-12", key) for key in RAW_KEYS}


def free_m(name: str) -> dict[str, int]:
    """The Mem: row of a recorded `free -m` run against the same /proc/meminfo."""
    header, mem = read("meminfo", name + ".free-m").splitlines()[:2]
    assert header.split() == ["total", "used", "free", "shared", "buff/cache", "available"]
    values = [int(word) for word in mem.split()[1:]]
    return dict(zip(("total", "used", "free", "shared", "buff_cache", "available"), values))


# --- os-release ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("debian-12", ("debian", "12", "Debian GNU/Linux 12 (bookworm)")),
        ("debian-sid", ("debian", UNKNOWN, "Debian GNU/Linux trixie/sid")),
        ("ubuntu-22.04", ("ubuntu", "22.04", "Ubuntu 22.04.4 LTS")),
        ("ubuntu-24.04", ("ubuntu", "24.04", "Ubuntu 24.04.1 LTS")),
        ("alpine-3.20", ("alpine", "3.20.3", "Alpine Linux v3.20")),
        ("rocky-9.4", ("rocky", "9.4", "Rocky Linux 9.4 (Blue Onyx)")),
        ("rhel-9.4", ("rhel", "9.4", "Red Hat Enterprise Linux 9.4 (Plow)")),
        ("arch", ("arch", UNKNOWN, "Arch Linux")),
    ],
)
def test_os_release_files(name: str, expected: tuple[str, str, str]) -> None:
    parsed = hi.parse_os_release(read("os_release", name))
    assert parsed == dict(zip(("id", "version_id", "pretty_name"), expected))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('PRETTY_NAME="Edge \\"Lab\\" \\$HOME \\\\ \\`x\\` \\n"', 'Edge "Lab" $HOME \\ `x` \\n'),
        ("PRETTY_NAME='single $HOME \\\"'", 'single $HOME \\"'),
        ("PRETTY_NAME=plain\\ words", "plain words"),
        ('PRETTY_NAME="multi"\'part\'', "multipart"),
        ("PRETTY_NAME=word # a trailing comment", "word"),
        ('PRETTY_NAME="unterminated value', "unterminated value"),
        ('PRETTY_NAME="a\x1b[2Jb\tc"', "a[2Jb c"),
        ("# PRETTY_NAME=commented\n\n   PRETTY_NAME=indented  \n", "indented"),
        ("PRETTY_NAME=first\nPRETTY_NAME=second", "second"),
        ("PRETTY_NAME=crlf\r\nID=x\r\n", "crlf"),
    ],
)
def test_os_release_quoting(text: str, expected: str) -> None:
    parsed = hi.parse_os_release(text)
    assert parsed is not None and parsed["pretty_name"] == expected


@pytest.mark.parametrize(
    "text",
    ["", "garbage without assignments", 'VERSION_ID="12"', "ID=\nPRETTY_NAME=''", "export ID=debian",
     "ID =debian", "id=debian", "ID=\x00\x01"],
)
def test_os_release_without_id_or_pretty_name_is_unparsed(text: str) -> None:
    assert hi.parse_os_release(text) is None


def test_os_release_values_are_bounded() -> None:
    parsed = hi.parse_os_release("ID=" + "a" * 500 + "\nPRETTY_NAME=" + "b" * 500)
    assert parsed == {"id": "a" * hi.OS_ID_CHARS, "version_id": UNKNOWN, "pretty_name": "b" * hi.OS_PRETTY_CHARS}


# --- kernel, hostname, uptime, loadavg ----------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Linux 6.1.0-18-amd64 x86_64\n", ("Linux", "6.1.0-18-amd64", "x86_64")),
        ("\n  Linux 5.14.0-427.13.1.el9_4.x86_64 x86_64", ("Linux", "5.14.0-427.13.1.el9_4.x86_64", "x86_64")),
        ("Linux 6.1.0", None),
        ("Linux 6.1.0 x86_64 GNU/Linux", None),
        ("Linux \x00 x86_64", None),
        ("", None),
    ],
)
def test_kernel(text: str, expected: tuple[str, str, str] | None) -> None:
    parsed = hi.parse_kernel(text)
    assert parsed == (dict(zip(("name", "release", "machine"), expected)) if expected else None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("web01\n", "web01"),
        ("\n\nweb01.example.org\nsecond line", "web01.example.org"),
        ("\x1b]0;title\x07host", "]0;titlehost"),
        ("\x00\x01\n", None),
        ("h" * 300, "h" * hi.HOSTNAME_CHARS),
    ],
)
def test_hostname(text: str, expected: str | None) -> None:
    assert hi.parse_hostname(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("300.05 514.64\n", 300),
        ("12345", 12345),
        ("9" * 400 + ".5 1.0", MAX_SAFE_INT),
        ("-5.0 1.0", None),
        ("1e5 1.0", None),
        ("abc", None),
    ],
)
def test_uptime(text: str, expected: int | None) -> None:
    assert hi.parse_uptime(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.10 0.20 0.30 1/123 4567\n", (0.1, 0.2, 0.3, 1, 123)),
        ("12.50 8.00 4.25 7/2048", (12.5, 8.0, 4.25, 7, 2048)),
        ("99999999.00 0.00 0.00 1/1 1", (1e6, 0.0, 0.0, 1, 1)),
        ("0.10 0.20", None),
        ("a b c 1/2 3", None),
        ("0.1 0.2 0.3 x 3", None),
        ("0.1 0.2 -0.3 1/2 3", None),
    ],
)
def test_loadavg(text: str, expected: tuple[float, float, float, int, int] | None) -> None:
    parsed = hi.parse_loadavg(text)
    assert parsed == (dict(zip(("one", "five", "fifteen", "runnable", "total"), expected)) if expected else None)


# --- df --------------------------------------------------------------------------------------

LONG_DEVICE = "/dev/mapper/vg_tecrax_lab-root_filesystem_with_a_long_name"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("debian12-vda.txt", ("/dev/vda", 264212084, 23396132, 82994780, 22, "/")),
        ("overlay-root.txt", ("overlay", 264212084, 23268552, 83122360, 22, "/")),
        ("busybox-overlay-root.txt", ("overlay", 264212084, 23269316, 83121596, 22, "/")),
        ("tmpfs-root.txt", ("tmpfs", 131072, 2196, 128876, 2, "/")),
        ("tmpfs-long-device.txt", (LONG_DEVICE, 65536, 2952, 62584, 5, "/")),
        ("busybox-wrapped.txt", (LONG_DEVICE, 65536, 3012, 62524, 5, "/")),
        ("busybox-posix-long-device.txt", (LONG_DEVICE, 65536, 3012, 62524, 5, "/")),
        ("gnu-nonposix-long-device.txt", (LONG_DEVICE, 65536, 3012, 62524, 5, "/")),
        ("posix-512-blocks.txt", ("/dev/vda", 264212084, 23404260, 82986652, 22, "/")),
        ("proc-dash-values.txt", ("proc", 0, 0, 0, None, "/proc")),
        ("blanks-in-names.txt", ("backup volume", 8192, 0, 8192, 0, "/mnt/backup disk")),
    ],
)
def test_df_files(name: str, expected: tuple[Any, ...]) -> None:
    keys = ("device", "size_kib", "used_kib", "available_kib", "capacity_percent", "mount")
    assert hi.parse_df(read("df", name)) == dict(zip(keys, expected))


HEADER = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Reserved blocks in use: GNU df prints a negative Available and a capacity above 100%.
        (HEADER + "/dev/sda1 1000 990 -40 105% /", {"available_kib": -40, "capacity_percent": 105}),
        (HEADER + "- - - - - /", {"device": "-", "size_kib": None, "used_kib": None, "capacity_percent": None}),
        (HEADER + "/dev/sdb1 10 1 9 10% /srv\n/dev/sda1 20 2 18 10% /\n", {"device": "/dev/sda1", "mount": "/"}),
        (HEADER + "lonely\n/dev/sda1 20 2 18 10% /\n", {"device": "/dev/sda1"}),
        (HEADER + "/dev/sda1 " + "9" * 40 + " 1 1 1% /", {"size_kib": MAX_SAFE_INT}),
        ("Dateisystem 1024-Bl\u00f6cke Benutzt Verf\u00fcgbar Kapazit\u00e4t Eingeh\u00e4ngt auf\n"
         "/dev/sda1 1000 500 500 50% /\n", {"size_kib": 1000, "capacity_percent": 50}),
        ("/dev/sda1 1000 500 500 50% /", {"device": "/dev/sda1"}),
    ],
)
def test_df_variants(text: str, expected: dict[str, Any]) -> None:
    parsed = hi.parse_df(text)
    assert parsed is not None
    assert {key: parsed[key] for key in expected} == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        HEADER,
        "df: /: No such file or directory",
        "Filesystem Inodes IUsed IFree IUse% Mounted on\n/dev/sda1 655360 81234 574126 13% /\n",
        "Filesystem Size Used Avail Use% Mounted on\n/dev/sda1 20G 5.0G 14G 27% /\n",
        "Filesystem 1M-blocks Used Available Capacity Mounted on\n/dev/sda1 20 5 14 27% /\n",
        HEADER + "/dev/sda1 1000 500 500 50% relative/mount",
        HEADER + "/dev/sda1 1000 500 500 50 /",
        HEADER + "1000 500 500 50% /",
        "\x00" * 100,
    ],
)
def test_df_unparsable(text: str) -> None:
    assert hi.parse_df(text) is None


# --- meminfo ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "basis"),
    [
        ("debian-12-host", "mem_available"),
        ("legacy-no-memavailable", "mem_free"),
        ("container-available-above-total", "mem_free"),
    ],
)
def test_meminfo_matches_recorded_free(name: str, basis: str) -> None:
    parsed = hi.parse_meminfo(read("meminfo", name + ".txt"))
    assert parsed == {"mib": free_m(name), "available_basis": basis}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MemTotal: 2048 kB\nMemFree: 1024 kB\n", {"total": 2, "used": 1, "free": 1, "shared": 0,
                                                   "buff_cache": 0, "available": 1}),
        ("MemTotal: 4096 kB\nMemFree: 1024 kB\nMemAvailable: 0 kB\n", {"used": 3, "available": 1}),
        ("MemTotal: 1023 kB\nMemFree: 10 kB\nMemAvailable: 1000 kB\n", {"total": 0, "used": 0}),
        ("MemTotal: 4096 kB\nMemFree: 9999 kB\n", {"used": 0, "free": 9}),
        ("MemTotal: 4096 kB\nMemTotal: 8192 kB\nMemFree: 0 kB\n", {"total": 8}),
        ("MemTotal: " + "9" * 30 + " kB\nMemFree: 0 kB\nCached: " + "9" * 30 + " kB\n",
         {"total": MAX_SAFE_INT // 1024, "buff_cache": MAX_SAFE_INT // 1024}),
    ],
)
def test_meminfo_edges(text: str, expected: dict[str, int]) -> None:
    parsed = hi.parse_meminfo(text)
    assert parsed is not None
    assert {key: parsed["mib"][key] for key in expected} == expected


@pytest.mark.parametrize(
    "text",
    ["", "MemFree: 1 kB", "MemTotal: 0 kB\nMemFree: 0 kB", "MemTotal: 10 MB\nMemFree: 1 kB",
     "MemTotal: -10 kB\nMemFree: 1 kB", "MemTotal 10 kB\nMemFree 1 kB", "\xff\xfe garbage"],
)
def test_meminfo_unparsable(text: str) -> None:
    assert hi.parse_meminfo(text) is None


# --- whole facts -----------------------------------------------------------------------------

def test_recorded_debian_host_gives_complete_facts(facts_schema_errors: Any) -> None:
    facts = hi.normalize_host_inventory(recorded_host())
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["contract"] == {"id": "tecrax.basic_host_inventory", "version": "1.0"}
    assert facts["scope"]["observed"] == facts["scope"]["requested"] == list(hi.REQUESTED)
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    assert facts["assessment"] == {"state": "healthy"}
    assert facts["os"] == {"id": "debian", "version_id": "12", "pretty_name": "Debian GNU/Linux 12 (bookworm)"}
    assert facts["kernel"] == {"name": "Linux", "release": "6.18.44-fc-v595", "machine": "x86_64"}
    assert facts["hostname"] == "vm"
    assert facts["uptime_seconds"] == 697
    assert facts["load_average"] == {"one": 0.53, "five": 0.31, "fifteen": 0.17, "runnable": 1, "total": 86}
    assert facts["root_filesystem"] == {"device": "/dev/vda", "size_kib": 264212084, "used_kib": 23487864,
                                        "available_kib": 82903048, "capacity_percent": 23, "mount": "/"}
    assert facts["memory_mib"] == free_m("debian-12-host")
    assert facts["memory_available_basis"] == "mem_available"


@pytest.mark.parametrize("key", RAW_KEYS)
@pytest.mark.parametrize(("value", "suffix"), [(None, "unavailable"), ("  \n", "unavailable"), ("\x00\x01\x02", "unparsed")])
def test_one_missing_observation_makes_partial_unknown(key: str, value: Any, suffix: str,
                                                       facts_schema_errors: Any) -> None:
    raw: dict[str, Any] = recorded_host()
    raw[key] = value
    facts = hi.normalize_host_inventory(raw)
    name = OBSERVATION_OF[key]
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["scope"]["not_observed"] == [name]
    assert facts["coverage"] == {"state": "partial", "blockers": [name + "_" + suffix]}
    assert facts["assessment"] == {"state": "unknown"}


def test_memory_fallback_is_stated_in_the_facts() -> None:
    raw = recorded_host()
    raw["meminfo"] = read("meminfo", "legacy-no-memavailable.txt")
    facts = hi.normalize_host_inventory(raw)
    assert facts["coverage"]["state"] == "complete"
    assert facts["memory_available_basis"] == "mem_free"
    assert facts["memory_mib"]["available"] == facts["memory_mib"]["free"] == 176


UNOBSERVED_PAYLOAD = {
    "os": {"id": UNKNOWN, "version_id": UNKNOWN, "pretty_name": UNKNOWN},
    "kernel": {"name": UNKNOWN, "release": UNKNOWN, "machine": UNKNOWN},
    "hostname": UNKNOWN,
    "uptime_seconds": None,
    "load_average": {"one": None, "five": None, "fifteen": None, "runnable": None, "total": None},
    "root_filesystem": {"device": UNKNOWN, "size_kib": None, "used_kib": None, "available_kib": None,
                        "capacity_percent": None, "mount": UNKNOWN},
    "memory_mib": {"total": None, "used": None, "free": None, "shared": None, "buff_cache": None,
                   "available": None},
    "memory_available_basis": UNKNOWN,
}


@pytest.mark.parametrize("raw", [None, {}, [], "os_release", 42, {"unrelated": "x"},
                                 dict.fromkeys(RAW_KEYS, 7), dict.fromkeys(RAW_KEYS, ["list"])])
def test_nothing_observable_is_blocked_unavailable(raw: Any, facts_schema_errors: Any) -> None:
    facts = hi.normalize_host_inventory(raw)
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["scope"]["observed"] == []
    assert facts["coverage"]["state"] == "blocked"
    assert facts["coverage"]["blockers"] == [name + "_unavailable" for name in hi.REQUESTED]
    assert facts["assessment"] == {"state": "unavailable"}
    assert {key: facts[key] for key in UNOBSERVED_PAYLOAD} == UNOBSERVED_PAYLOAD


def test_binary_garbage_is_unparsed(facts_schema_errors: Any) -> None:
    garbage = bytes(range(256)) * 64
    facts = hi.normalize_host_inventory(dict.fromkeys(RAW_KEYS, garbage))
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["coverage"]["state"] == "blocked"
    assert facts["coverage"]["blockers"] == [name + "_unparsed" for name in hi.REQUESTED]


@pytest.mark.parametrize("kind", [str, bytes])
def test_ten_megabytes_per_key_is_bounded(kind: type, facts_schema_errors: Any, raw_prefix: Any) -> None:
    chunk = "Filesystem 1024-blocks " + " " * 4000 + "MemTotal: 9 kB ID=x\n"
    big = (chunk * (10 * 1024 * 1024 // len(chunk)))
    raw = {key: (big.encode() if kind is bytes else big) for key in RAW_KEYS}
    facts = hi.normalize_host_inventory(raw)
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts == hi.normalize_host_inventory(raw_prefix(raw))  # nothing past the bound is read


def test_longest_astral_text_everywhere_still_fits(facts_schema_errors: Any) -> None:
    wide = "\U0001f600" * 5000
    raw = recorded_host()
    raw.update(
        os_release="ID=%s\nVERSION_ID=%s\nPRETTY_NAME=%s\n" % (wide, wide, wide),
        kernel="%s %s %s" % (wide, wide, wide),
        hostname=wide,
        df=HEADER + "%s 1 1 0 100%% /%s\n" % (wide, wide),
    )
    facts = hi.normalize_host_inventory(raw)
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["coverage"]["state"] == "complete"
    assert len(facts["root_filesystem"]["device"]) == hi.DEVICE_CHARS
    assert len(canonical_json(facts)) < MAX_FACTS_BYTES


def test_hostile_text_never_leaks_control_characters(facts_schema_errors: Any) -> None:
    raw = {
        "os_release": 'ID="deb\nian"\nPRETTY_NAME="\x1b[31mred\x1b[0m\u202e"\n',
        "kernel": "Linux\x07 6.1\x00 x86_64",
        "hostname": "\ud800host\x7f",
        "uptime": "1\x00.0 2",
        "loadavg": "0.1 0.2 0.3 1/2 3\x00",
        "df": HEADER + "/dev/\x1bsda 1 1 0 100% /\x00\n",
        "meminfo": "MemTotal: 10240 kB\x00\nMemFree: 1024 kB\n",
    }
    facts = hi.normalize_host_inventory(raw)
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["os"]["pretty_name"] == "[31mred[0m"
    assert facts["kernel"] == {"name": "Linux", "release": "6.1", "machine": "x86_64"}
    assert facts["hostname"] == "host"
    assert facts["root_filesystem"]["device"] == "/dev/sda"


# --- properties ------------------------------------------------------------------------------

def check_invariants(facts: dict[str, Any]) -> None:
    scope = facts["scope"]
    assert scope["requested"] == list(hi.REQUESTED)
    assert sorted(scope["observed"] + scope["not_observed"]) == sorted(scope["requested"])
    blocked = {blocker.rsplit("_", 1)[0] for blocker in facts["coverage"]["blockers"]}
    assert blocked == set(scope["not_observed"])
    assert len(canonical_json(facts)) <= MAX_FACTS_BYTES


RAW_VALUE = st.one_of(st.none(), st.binary(max_size=4096), st.text(max_size=4096))

# Structured near-misses: mostly well-formed lines with hostile tokens mixed in, so that the
# deeper branches of every parser run, not only the "unparsed" exits.
PLAIN_NUMBER = st.integers(0, 10 ** 13).map(str)
NUMBER = st.one_of(
    PLAIN_NUMBER,
    PLAIN_NUMBER,
    st.integers(-(10 ** 20), 10 ** 20).map(str),
    st.sampled_from(["-", "0", "007", "17%", "1.5", "0.25", "1e3", "9" * 40, "\u0663", "", "\x00"]),
)
LOAD = st.one_of(st.floats(0, 1e7).map("{:.2f}".format), NUMBER)
WORD = st.one_of(st.sampled_from(["/dev/sda1", "overlay", "a b", "-", "/", LONG_DEVICE, "\u202e", "'", '"']),
                 st.text(max_size=12))
DF_NUMBER = st.one_of(PLAIN_NUMBER, PLAIN_NUMBER, PLAIN_NUMBER, NUMBER)
PERCENT = st.integers(0, 300).map("{}%".format)
DF_ROW = st.tuples(WORD, DF_NUMBER, DF_NUMBER, DF_NUMBER, st.one_of(PERCENT, PERCENT, NUMBER),
                   st.sampled_from(["/", "/", "/srv", "/mnt/x y", "relative"])).map(" ".join)
DF_TEXT = st.tuples(
    st.sampled_from([HEADER.strip(), HEADER.strip(), "Filesystem 512-blocks x", "Filesystem Inodes", ""]),
    st.lists(st.one_of(DF_ROW, DF_ROW, WORD, DF_ROW.map("   ".__add__)), max_size=4).map("\n".join),
).map("\n".join)
MEMINFO_LINES = st.lists(
    st.tuples(st.sampled_from(["MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SReclaimable",
                               "Shmem", "HugePages_Total", "Other"]),
              NUMBER, st.sampled_from([" kB", " kB", "", " MB", " kB extra"])).map("{0[0]}: {0[1]}{0[2]}".format),
    max_size=10,
)
MEMINFO_TEXT = st.tuples(
    st.sampled_from(["", "MemTotal: 2048 kB\nMemFree: 1024 kB"]), MEMINFO_LINES.map("\n".join)
).map("\n".join)
LOADAVG_TEXT = st.tuples(LOAD, LOAD, LOAD, st.tuples(NUMBER, NUMBER).map("/".join), NUMBER).map(" ".join)
WORDS = st.lists(st.one_of(NUMBER, WORD, st.tuples(NUMBER, NUMBER).map("/".join)), max_size=6).map(" ".join)
OS_RELEASE_TEXT = st.lists(
    st.tuples(st.sampled_from(["ID", "VERSION_ID", "PRETTY_NAME", "NAME", "#ID", " ID"]), WORD)
    .map("{0[0]}={0[1]}".format),
    max_size=6,
).map("\n".join)
STRUCTURED = st.fixed_dictionaries({
    "os_release": st.one_of(OS_RELEASE_TEXT, OS_RELEASE_TEXT, RAW_VALUE),
    "kernel": WORDS,
    "hostname": st.one_of(WORD, RAW_VALUE),
    "uptime": WORDS,
    "loadavg": st.one_of(LOADAVG_TEXT, LOADAVG_TEXT, WORDS),
    "df": st.one_of(DF_TEXT, DF_TEXT, DF_TEXT, RAW_VALUE),
    "meminfo": st.one_of(MEMINFO_TEXT, MEMINFO_TEXT, RAW_VALUE),
})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(RAW_KEYS), RAW_VALUE))
def test_arbitrary_bytes_give_schema_valid_facts(facts_schema_errors: Any, raw: dict[str, Any]) -> None:
    facts = hi.normalize_host_inventory(raw)
    assert facts_schema_errors(facts, SCHEMA) == []
    check_invariants(facts)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STRUCTURED)
def test_near_miss_text_gives_schema_valid_facts(facts_schema_errors: Any, raw: dict[str, Any]) -> None:
    facts = hi.normalize_host_inventory(raw)
    assert facts_schema_errors(facts, SCHEMA) == []
    check_invariants(facts)
