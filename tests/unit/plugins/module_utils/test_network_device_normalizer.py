"""The network-device parser and its two contracts, on composed device outputs and hostile input.

Provenance of the data files: see tests/unit/data/network/README.md.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.network import network_device as nd
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import (
    MAX_FACTS_BYTES,
    UNKNOWN,
    canonical_json,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "network"
SCHEMA_DIR = Path(__file__).resolve().parents[4] / "profile" / "schemas"
INVENTORY = "network_device_inventory.v1.schema.json"
POSTURE = "network_management_posture.v1.schema.json"
TP, HP = nd.TPLINK_FAMILY, nd.HPE_FAMILY


def ok(output: bytes | str) -> dict[str, Any]:
    return {"status": "ok", "exit_code": 0, "output": output}


def device_raw(case: str) -> dict[str, Any]:
    """Wrapper results as the module gives them: ssh-status only for a supported family."""
    system_info = (DATA / case / "system-info.txt").read_bytes()
    raw: dict[str, Any] = {"system_info": ok(system_info), "ssh_status": {"status": "not_run"}}
    ssh_file = DATA / case / "ssh-status.txt"
    if nd.identify_family(system_info) is not None:
        raw["ssh_status"] = ok(ssh_file.read_bytes())
    return raw


def algorithms(basis: str, enc_on: list[str], enc_off: list[str], mac_on: list[str],
               mac_off: list[str]) -> dict[str, Any]:
    return {
        "basis": basis,
        "encryption": {"enabled": enc_on, "disabled": enc_off},
        "integrity": {"enabled": mac_on, "disabled": mac_off},
    }


NOT_REPORTED = algorithms("not_reported", [], [], [], [])
TP_DEFAULT_ALGORITHMS = algorithms(
    "configured",
    ["aes128-cbc", "aes192-cbc", "aes256-cbc", "blowfish-cbc", "cast128-cbc", "3des-cbc"], [],
    ["hmac-sha1", "hmac-md5"], [])
TP_HARDENED_ALGORITHMS = algorithms(
    "configured", ["aes128-cbc", "aes192-cbc", "aes256-cbc"],
    ["blowfish-cbc", "cast128-cbc", "3des-cbc"], ["hmac-sha1"], ["hmac-md5"])


def ssh(enabled: bool | None, v1: bool | None, v2: bool | None, idle: int | None,
        clients: int | None, algos: dict[str, Any], sessions: int | None) -> dict[str, Any]:
    return {
        "server_enabled": enabled,
        "protocol_versions": {"v1": v1, "v2": v2},
        "idle_timeout_seconds": idle,
        "max_clients": clients,
        "algorithms": algos,
        "sessions_established": sessions,
    }


def device(vendor: str, family: str, model: str, product: str, name: str, software: str,
           hardware: str, boot: str, uptime: int | None, withheld: list[str]) -> dict[str, Any]:
    return {
        "support": "supported", "vendor": vendor, "family": family, "model": model,
        "product_number": product, "system_name": name, "software_version": software,
        "hardware_version": hardware, "bootloader_version": boot, "uptime_seconds": uptime,
        "withheld": withheld,
    }


UNSUPPORTED_DEVICE = {**nd.unknown_device(), "support": "unsupported", "family": "unsupported"}
LOW = ["ssh_idle_timeout_unknown", "ssh_max_clients_unknown"]

# case -> (device, ssh, inventory blockers, posture state, finding ids in order)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], list[str], str, list[str]]] = {
    "tplink-sg2452-v1-fw102-defaults": (
        device("TP-Link", TP, "TL-SG2452", UNKNOWN, "lab-sw-01", "1.0.2 Build 20140109 Rel.46154",
               "1.0", UNKNOWN, 25 * 60 + 38, ["mac_address"]),
        ssh(True, True, True, 120, 5, TP_DEFAULT_ALGORITHMS, None),
        [], "unhealthy", ["legacy_ssh_v1_enabled", "legacy_ssh_crypto_observed"]),
    "tplink-t1600g52ts-v3-hardened": (
        device("TP-Link", TP, "T1600G-52TS", UNKNOWN, "core-sw-02",
               "3.0.1 Build 20180525 Rel.43345(s)", "3.0", "TP-LINK BOOTUTIL(v1.0.0)",
               41 * 86400 + 6 * 3600 + 7 * 60 + 55, ["serial_number", "mac_address"]),
        ssh(True, False, True, 60, 2, TP_HARDENED_ALGORITHMS, None),
        [], "healthy", []),
    "tplink-sg2452-paged": (
        device("TP-Link", TP, "TL-SG2452", UNKNOWN, "edge-sw-07", "1.0.3 Build 20151216 Rel.51702",
               "1.0", UNKNOWN, 3 * 86400 + 2 * 3600 + 60 + 9, ["mac_address"]),
        ssh(True, False, True, 120, 5, algorithms(
            "configured", ["aes128-cbc", "aes192-cbc", "aes256-cbc", "3des-cbc"],
            ["blowfish-cbc", "cast128-cbc"], ["hmac-sha1"], ["hmac-md5"]), None),
        [], "degraded", ["legacy_ssh_crypto_observed"]),
    "tplink-sg2452-compact-ssh-disabled": (
        device("TP-Link", TP, "TL-SG2452", UNKNOWN, "TL-SG2452", "1.0.0 Build 20130815 Rel.36215",
               "1.0", UNKNOWN, 124 * 86400 + 23 * 3600 + 59 * 60 + 59, ["mac_address"]),
        ssh(False, False, True, 120, 5, TP_HARDENED_ALGORITHMS, None),
        [], "degraded", ["ssh_server_disabled"]),
    "tplink-sg2452-v2-disabled": (
        device("TP-Link", TP, "TL-SG2452", UNKNOWN, "lab-sw-05", "1.0.2 Build 20140109 Rel.46154",
               "1.0", UNKNOWN, 3600, []),
        ssh(True, True, False, 120, 5, algorithms(
            "configured", ["aes128-cbc"],
            ["aes192-cbc", "aes256-cbc", "blowfish-cbc", "cast128-cbc", "3des-cbc"],
            ["hmac-sha1"], ["hmac-md5"]), None),
        [], "unhealthy", ["ssh_protocol_v2_disabled", "legacy_ssh_v1_enabled"]),
    "tplink-sg2452-truncated": (
        device("TP-Link", TP, "TL-SG2452", UNKNOWN, "lab-sw-06", "1.0.2 Build 20140109 Rel.46154",
               "1.0", UNKNOWN, 7 * 86400 + 3, ["mac_address"]),
        ssh(True, False, None, None, None, NOT_REPORTED, None),
        ["ssh_protocol_versions_unparsed"], "unknown", []),
    "hpe-v1910-48g-r1519p03": (
        device("HPE", HP, "V1910-48G", "JE009A", "core-sw-01", "5.20.99 Release 1519P03", "REV.B",
               "167", 7 * 86400 + 2 * 86400 + 3 * 3600 + 14 * 60, ["serial_number", "mac_address"]),
        ssh(True, False, True, None, None, algorithms("negotiated", ["aes128"], [], [], []), 1),
        [], "healthy", LOW),
    "hpe-v1910-24g-r1513p81-ssh1": (
        device("HPE", HP, "V1910-24G", "JE006A", "Access-2", "5.20 Release 1513P81", "REV.B", "161",
               5 * 3600 + 2 * 60, ["serial_number", "mac_address"]),
        ssh(True, True, True, None, None, algorithms("negotiated", ["aes128", "3des"], [], [], []), 2),
        [], "unhealthy", ["legacy_ssh_v1_enabled", "legacy_ssh_crypto_observed", *LOW]),
    "hpe-v1910-16g-ssh-disabled": (
        device("HPE", HP, "V1910-16G", "JE005A", "Lab-16", "5.20.99 Release 1519P01", "REV.C", "167",
               52 * 604800 + 86400 + 60, ["serial_number", "mac_address"]),
        ssh(False, True, True, None, None, NOT_REPORTED, 0),
        [], "unhealthy", ["legacy_ssh_v1_enabled", "ssh_server_disabled", *LOW]),
    "hpe-v1910-truncated": (
        device("HPE", HP, "V1910-24G-PoE (365W)", "JE007A", "core-sw-09", "5.20.99 Release 1519P03",
               UNKNOWN, UNKNOWN, 7 * 60, []),
        ssh(True, False, True, None, None, NOT_REPORTED, 0),
        ["hardware_version_unparsed"], "healthy", LOW),
}
UNSUPPORTED = ("unsupported-cisco-ios", "unsupported-comware7-5130", "unsupported-tplink-t2600g",
               "unsupported-h3c-s5120")


@pytest.mark.parametrize("case", sorted(CASES))
def test_supported_devices_give_exact_inventory(case: str, facts_schema_errors: Any) -> None:
    expected_device, expected_ssh, blockers, _state, _findings = CASES[case]
    facts = nd.normalize_inventory(device_raw(case))
    assert facts_schema_errors(facts, INVENTORY) == []
    assert facts["device"] == expected_device
    assert facts["ssh"] == expected_ssh
    assert facts["coverage"] == {"state": "partial" if blockers else "complete", "blockers": blockers}
    assert facts["assessment"] == {"state": "unknown" if blockers else "healthy"}
    assert facts["wrapper"]["system_info"]["status"] == "ok"
    assert facts["wrapper"]["ssh_status"]["status"] == "ok"


@pytest.mark.parametrize("case", sorted(CASES))
def test_supported_devices_give_exact_posture(case: str, facts_schema_errors: Any) -> None:
    _device, expected_ssh, _blockers, state, finding_ids = CASES[case]
    facts = nd.assess_posture(device_raw(case))
    assert facts_schema_errors(facts, POSTURE) == []
    assert facts["ssh"] == expected_ssh
    assert [item["id"] for item in facts["findings"]] == finding_ids
    assert all(item["severity"] == nd.FINDINGS[item["id"]] for item in facts["findings"])
    assert facts["assessment"]["state"] == state
    assert facts["assessment"].get("reasons", []) == [
        name for name in finding_ids if nd.FINDINGS[name] != "low"]
    counts = facts["finding_counts"]
    assert sum(counts.values()) == len(finding_ids)


def test_legacy_crypto_details_name_the_enabled_algorithms_only() -> None:
    defaults = nd.assess_posture(device_raw("tplink-sg2452-v1-fw102-defaults"))
    crypto = [item for item in defaults["findings"] if item["id"] == "legacy_ssh_crypto_observed"]
    assert crypto == [{"id": "legacy_ssh_crypto_observed", "severity": "medium",
                       "detail": "enabled: blowfish-cbc, cast128-cbc, 3des-cbc, hmac-md5"}]
    assert defaults["legacy_algorithms_enabled"] == ["blowfish-cbc", "cast128-cbc", "3des-cbc",
                                                     "hmac-md5"]
    negotiated = nd.assess_posture(device_raw("hpe-v1910-24g-r1513p81-ssh1"))
    assert negotiated["legacy_algorithms_enabled"] == ["3des"]
    assert "negotiated: 3des" in [item["detail"] for item in negotiated["findings"]]


def test_legacy_algorithms_named_but_disabled_are_no_finding() -> None:
    # Blowfish, CAST-128, 3DES and HMAC-MD5 are all listed, all disabled.
    facts = nd.assess_posture(device_raw("tplink-t1600g52ts-v3-hardened"))
    assert facts["findings"] == []
    assert facts["legacy_algorithms_enabled"] == []
    assert facts["ssh"]["algorithms"]["encryption"]["disabled"] == ["blowfish-cbc", "cast128-cbc",
                                                                    "3des-cbc"]
    assert facts["assessment"] == {"state": "healthy"}
    assert facts["finding_counts"] == {"high": 0, "medium": 0, "low": 0}


def test_a_session_that_is_not_established_does_not_count() -> None:
    # The Auth-request session of guest is neither counted nor taken as negotiated crypto.
    facts = nd.normalize_inventory(device_raw("hpe-v1910-24g-r1513p81-ssh1"))
    assert facts["ssh"]["sessions_established"] == 2


def test_sftp_idle_timeout_is_not_taken_for_the_ssh_idle_timeout() -> None:
    facts = nd.normalize_inventory(device_raw("hpe-v1910-48g-r1519p03"))
    assert facts["ssh"]["idle_timeout_seconds"] is None


def test_paging_prompts_are_counted() -> None:
    facts = nd.normalize_inventory(device_raw("tplink-sg2452-paged"))
    assert facts["wrapper"]["system_info"]["paging_prompts_removed"] == 2
    assert facts["wrapper"]["ssh_status"]["paging_prompts_removed"] == 2
    comware = nd.normalize_inventory(device_raw("hpe-v1910-24g-r1513p81-ssh1"))
    assert comware["wrapper"]["system_info"]["paging_prompts_removed"] == 1


@pytest.mark.parametrize("case", UNSUPPORTED)
def test_unsupported_devices_are_never_parsed(case: str, facts_schema_errors: Any) -> None:
    raw = device_raw(case)
    assert raw["ssh_status"] == {"status": "not_run"}
    inventory = nd.normalize_inventory(raw)
    posture = nd.assess_posture(raw)
    assert facts_schema_errors(inventory, INVENTORY) == []
    assert facts_schema_errors(posture, POSTURE) == []
    assert inventory["device"] == UNSUPPORTED_DEVICE
    assert inventory["ssh"] == nd.empty_ssh()
    assert inventory["scope"]["observed"] == ["device_family"]
    assert inventory["coverage"] == {"state": "partial", "blockers": ["device_family_unsupported"]}
    assert inventory["assessment"] == {"state": "unknown"}
    assert posture["coverage"] == {"state": "partial", "blockers": ["device_family_unsupported"]}
    assert posture["assessment"] == {"state": "unknown"}
    assert posture["findings"] == []


def test_unsupported_device_even_when_ssh_status_is_given() -> None:
    raw = device_raw("unsupported-tplink-t2600g")
    raw["ssh_status"] = ok((DATA / "tplink-sg2452-v1-fw102-defaults" / "ssh-status.txt").read_bytes())
    facts = nd.assess_posture(raw)
    assert facts["ssh"] == nd.empty_ssh()
    assert facts["findings"] == []


def test_output_of_both_families_at_once_is_unsupported() -> None:
    mixed = b"".join((DATA / case / "system-info.txt").read_bytes()
                     for case in ("tplink-sg2452-v1-fw102-defaults", "hpe-v1910-48g-r1519p03"))
    assert nd.identify_family(mixed) is None


@pytest.mark.parametrize("status", ["failed", "timeout", "output_limit_exceeded", "empty", "missing",
                                    "not_run"])
def test_system_info_wrapper_failure_is_unavailable(status: str, facts_schema_errors: Any) -> None:
    raw = {"system_info": {"status": status, "exit_code": 69 if status == "failed" else None,
                           "output": b""},
           "ssh_status": {"status": "not_run"}}
    for normalize, schema in ((nd.normalize_inventory, INVENTORY), (nd.assess_posture, POSTURE)):
        facts = normalize(raw)
        assert facts_schema_errors(facts, schema) == []
        assert facts["coverage"] == {"state": "blocked", "blockers": ["system_info_" + status]}
        assert facts["assessment"] == {"state": "unavailable"}
        assert facts["device"]["support"] == UNKNOWN
        assert facts["wrapper"]["system_info"]["status"] == status
    assert nd.normalize_inventory(raw)["wrapper"]["system_info"]["exit_code"] == (
        69 if status == "failed" else None)


def test_ok_with_blank_output_is_empty() -> None:
    facts = nd.normalize_inventory({"system_info": ok(b" \r\n\r\n\t")})
    assert facts["coverage"]["blockers"] == ["system_info_empty"]
    assert facts["wrapper"]["system_info"]["status"] == "empty"


@pytest.mark.parametrize("status", ["failed", "timeout", "output_limit_exceeded"])
def test_ssh_status_failure_leaves_identity_and_no_verdict(status: str) -> None:
    raw = device_raw("hpe-v1910-48g-r1519p03")
    raw["ssh_status"] = {"status": status, "exit_code": 1 if status == "failed" else None}
    inventory = nd.normalize_inventory(raw)
    assert inventory["device"]["model"] == "V1910-48G"
    assert inventory["coverage"] == {"state": "partial", "blockers": ["ssh_status_" + status]}
    assert inventory["scope"]["not_observed"] == ["ssh_server", "ssh_protocol_versions"]
    posture = nd.assess_posture(raw)
    assert posture["assessment"] == {"state": "unknown"}
    assert posture["findings"] == []


@pytest.mark.parametrize(("case", "other"), [("hpe-v1910-48g-r1519p03", "tplink-sg2452-v1-fw102-defaults"),
                                             ("tplink-sg2452-v1-fw102-defaults", "hpe-v1910-48g-r1519p03")])
def test_ssh_status_of_the_other_family_gives_no_verdict(case: str, other: str) -> None:
    # Both families print an "SSH server: Enable" line, but the protocol lines differ.
    raw = device_raw(case)
    raw["ssh_status"] = ok((DATA / other / "ssh-status.txt").read_bytes())
    facts = nd.assess_posture(raw)
    assert facts["coverage"] == {"state": "partial", "blockers": ["ssh_protocol_versions_unparsed"]}
    assert facts["ssh"]["protocol_versions"] == {"v1": None, "v2": None}
    assert facts["assessment"] == {"state": "unknown"}
    assert facts["findings"] == []


# --- the terminal replay -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("abc\bX", ["abX"]),
        ("abc\rX", ["Xbc"]),
        ("  ---- More ----\x1b[16D" + " " * 16 + "\x1b[16DHardware", ["Hardware"]),
        ("Press any key to continue (Q to quit)\x1b[2K\rnext", ["next"]),
        ("keep\x1b[K", ["keep"]),
        ("abcdef\x1b[3D\x1b[K", ["abc"]),
        ("abcdef\x1b[3D\x1b[1K", ["    ef"]),
        ("ab\x1b[2CZ", ["ab  Z"]),
        ("abc\x1b[1GZ", ["Zbc"]),
        ("x\x1b[31mred\x1b[0m", ["xred"]),
        ("a\x1bcb", ["ab"]),
        ("a\tb", ["a       b"]),
        ("text ---- More ---- more", ["text  more"]),
        ("<sw>display version\nline\n<sw>", ["line"]),
        ("[sw]display ssh server status\nline", ["line"]),
        ("sw-1#show ip ssh\nsw-1(config)#\nline", ["line"]),
        ("sw-1#not a command\n", ["sw-1#not a command", ""]),
        ("\x00\x07bell\x7f", ["bell"]),
    ],
)
def test_screen_replays_terminal_output(text: str, lines: list[str]) -> None:
    assert nd.screen_lines(text).lines == lines


def test_screen_keeps_echoed_commands_and_prompt_names() -> None:
    screen = nd.screen_lines("<Core>screen-length disable\n<Core>display  SSH server session\nx")
    assert screen.commands == ["screen-length disable", "display ssh server session"]
    assert screen.prompt_names == ["Core", "Core"]


# --- hostile and garbage input ---------------------------------------------------------------

GARBAGE = [
    b"",
    b"\x00" * 4096,
    bytes(range(256)) * 64,
    b"\xff\xfe" + "Hardware Version - TL-SG2452 1.0".encode("utf-16-le"),
    b"% Unrecognized command found at '^' position.\r\n",
    b"Error: Bad command\r\n",
    b"<sw>\n" * 10000,
    b" Hardware Version - TL-SG2452\n",
    b" Hardware Version - TL-SG2452 1.0\n Firmware Version - " + b"A" * 100000,
    b"Comware Software, Version 5.20.99, Release 1519P03\nHPE V1910-48G Switch uptime is "
    + b"9" * 5000 + b" weeks\n",
    b"Comware Software, Version 5.20, Release 1\nHPE V1910-48G Switch uptime is forever\n",
    b"\x1b[" * 30000,
    b"\b" * 70000,
    ("Hardware Version - TL-SG2452 1.0\n Firmware Version - \u202e\u0000\U0001f600" * 50).encode(),
]


@pytest.mark.parametrize("garbage", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_gives_valid_bounded_facts(garbage: bytes, facts_schema_errors: Any) -> None:
    for ssh_output in (garbage, (DATA / "hpe-v1910-48g-r1519p03" / "ssh-status.txt").read_bytes()):
        raw = {"system_info": ok(garbage), "ssh_status": ok(ssh_output)}
        inventory = nd.normalize_inventory(raw)
        posture = nd.assess_posture(raw)
        assert facts_schema_errors(inventory, INVENTORY) == []
        assert facts_schema_errors(posture, POSTURE) == []
        assert len(canonical_json(inventory)) <= MAX_FACTS_BYTES
        assert inventory["coverage"]["state"] != "complete"


def test_supported_identity_with_hostile_values_stays_bounded(facts_schema_errors: Any) -> None:
    text = (" Hardware Version - TL-SG2452 " + "R" * 5000 + "\n"
            " Firmware Version - " + "\x1b[31m1.0\x1b[0m " + "\u00e9" * 5000 + "\n"
            " System Name - " + "n" * 5000 + "\n"
            " Running Time - 99999999 day - 0 hour - 0 min - 0 sec\n")
    facts = nd.normalize_inventory({"system_info": ok(text), "ssh_status": ok(
        " SSH Server: Enable Protocol V1: Disable Protocol V2: Enable\n"
        " Idle Timeout: 99999999999999999999 Max Clients: -3\n"
        " Encryption Algorithm:\n" + "".join(" ALG%d-CBC : Enable\n" % n for n in range(40))
        + " " + "x" * 100 + " : Enable\n")})
    assert facts_schema_errors(facts, INVENTORY) == []
    identity = facts["device"]
    assert identity["model"] == "TL-SG2452"
    assert len(identity["hardware_version"]) == nd.VERSION_CHARS
    assert identity["software_version"].startswith("1.0 \u00e9")
    assert len(identity["system_name"]) == nd.NAME_CHARS
    assert identity["uptime_seconds"] == nd.MAX_UPTIME_SECONDS
    assert facts["ssh"]["idle_timeout_seconds"] == nd.MAX_IDLE_TIMEOUT_SECONDS
    assert facts["ssh"]["max_clients"] is None
    assert facts["ssh"]["algorithms"]["encryption"]["enabled"] == [
        "alg%d-cbc" % n for n in range(nd.MAX_ALGORITHMS)]


@pytest.mark.parametrize("raw", [None, [], "text", {"system_info": "text"},
                                 {"system_info": {"status": "ok", "output": 42}},
                                 {"system_info": {"status": "bogus", "output": b"x"}},
                                 {"system_info": {"status": "ok", "exit_code": True,
                                                  "output_bytes": -4, "output": b"x"}}])
def test_malformed_raw_input_is_not_run_or_unavailable(raw: Any, facts_schema_errors: Any) -> None:
    facts = nd.normalize_inventory(raw)
    assert facts_schema_errors(facts, INVENTORY) == []
    assert facts["assessment"]["state"] in ("unavailable", "unknown")
    assert facts["wrapper"]["system_info"]["exit_code"] is None


_FRAGMENTS = [
    "Hardware Version - TL-SG2452 1.0\n", " Firmware Version - 1.0.2 Build 1\n",
    " Running Time - 1 day - 2 hour - 3 min - 4 sec\n", "SSH Server : Enable\n",
    "Protocol V1: Disable  Protocol V2 : Enable\n", "Idle Timeout : 60\n", "Max Clients : 5\n",
    "Encryption Algorithm:\n", " 3DES-CBC : Enable\n", "Data Integrity Algorithm:\n",
    "HMAC-MD5 : Disable\n", "Comware Software, Version 5.20.99, Release 1519P03\n",
    "HPE V1910-48G Switch JE009A uptime is 1 week, 2 days\n", "Hardware Version is REV.B\n",
    " SSH server: Disable\n", " SSH version : 1.99\n",
    " Conn Ver Encry State Retry SerType Username\n", " VTY 0 2.0 DES Established 0 Stelnet u\n",
    "<sw>display ssh server session\n", "  ---- More ----\x1b[16D", "\b", "\r", "\x1b[K", ":", "-",
]
_TEXT = st.one_of(
    st.binary(max_size=2048),
    st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join),
    st.text(max_size=512),
)
_CALL = st.fixed_dictionaries({
    "status": st.sampled_from(nd.WRAPPER_STATUSES + ("bogus",)),
    "exit_code": st.one_of(st.none(), st.integers(-1000, 1000)),
    "output": _TEXT,
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(system_info=_CALL, ssh_status=_CALL)
def test_any_wrapper_result_gives_valid_consistent_facts(
    system_info: dict[str, Any], ssh_status: dict[str, Any], facts_schema_errors: Any
) -> None:
    raw = {"system_info": system_info, "ssh_status": ssh_status}
    inventory = nd.normalize_inventory(raw)
    posture = nd.assess_posture(raw)
    assert facts_schema_errors(inventory, INVENTORY) == []
    assert facts_schema_errors(posture, POSTURE) == []
    support = inventory["device"]["support"]
    assert posture["device"] == {key: inventory["device"][key] for key in posture["device"]}
    assert posture["ssh"] == inventory["ssh"]
    if system_info["status"] != "ok" or not nd.raw_text(system_info["output"]).strip():
        assert inventory["assessment"] == {"state": "unavailable"}
        assert posture["assessment"] == {"state": "unavailable"}
    if support != "supported":
        assert posture["findings"] == [] and inventory["ssh"] == nd.empty_ssh()
    if posture["findings"]:
        assert posture["coverage"]["state"] == "complete"
    json.dumps(inventory, allow_nan=False)


def test_posture_and_inventory_schemas_share_ssh_and_wrapper() -> None:
    inventory = json.loads((SCHEMA_DIR / INVENTORY).read_text())
    posture = json.loads((SCHEMA_DIR / POSTURE).read_text())
    for key in ("ssh", "wrapper"):
        assert posture["properties"][key] == {"$ref": f"{INVENTORY}#/properties/{key}"}
    finding_schema = posture["properties"]["findings"]["items"]
    assert {entry["properties"]["id"]["const"]: entry["properties"]["severity"]["const"]
            for entry in finding_schema["oneOf"]} == nd.FINDINGS
    statuses = inventory["properties"]["wrapper"]["properties"]["system_info"]["properties"]["status"]
    assert tuple(statuses["enum"]) == nd.WRAPPER_STATUSES
    assert inventory["properties"]["scope"]["properties"]["requested"]["const"] == list(nd.INVENTORY_SCOPE)
    assert posture["properties"]["scope"]["properties"]["requested"]["const"] == list(nd.POSTURE_SCOPE)


# --- long lines (the parsers are linear; bench/bench_normalizers.py times them) ---------------

KIB_64 = 64 * 1024
MIB = 1024 * 1024


def unguarded_paging() -> Any:
    """The pager-prompt pattern before its lookbehind: same matches, quadratic on dash runs."""
    return re.compile(r"-{2,}\s*More\s*-{2,}|Press any key to continue \(Q to quit\)", re.I)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="-- More\t(Q)x", max_size=40))
def test_pager_prompts_are_found_as_the_unguarded_pattern_found_them(line: str) -> None:
    assert nd._PAGING.findall(line) == unguarded_paging().findall(line)
    assert nd._PAGING.sub("", line) == unguarded_paging().sub("", line)


@pytest.mark.parametrize("size", [KIB_64, MIB])
def test_lines_of_dashes_are_bounded_lines_without_pager_prompts(size: int) -> None:
    line = "-" * (nd.MAX_LINE_CHARS * 4 + 100)
    screen = nd.screen_lines((line + "\n") * (size // len(line)))
    assert screen.paging_prompts == 0
    assert screen.lines[0] == "-" * nd.MAX_LINE_CHARS
    assert all(len(kept) <= nd.MAX_LINE_CHARS for kept in screen.lines)


def test_a_pager_prompt_inside_a_long_dash_run_is_counted_and_removed() -> None:
    line = "-" * 250 + " More " + "-" * 250
    assert len(line) <= nd.MAX_LINE_CHARS
    screen = nd.screen_lines((line + "\n") * 30)
    assert screen.paging_prompts == 30
    assert screen.lines[:30] == [""] * 30


@pytest.mark.parametrize("case", ["tplink-sg2452-v1-fw102-defaults", "hpe-v1910-48g-r1519p03"])
@pytest.mark.parametrize("size", [KIB_64, MIB])
@pytest.mark.parametrize("filler", ["-", "- ", " ", "a ", "x" + " " * 500 + ":"])
def test_recorded_devices_followed_by_long_hostile_lines_are_read_the_same(
    case: str, size: int, filler: str, facts_schema_errors: Any
) -> None:
    raw = device_raw(case)
    expected = nd.normalize_inventory(raw)
    line = (filler * (nd.MAX_LINE_CHARS * 4 // len(filler)) + "x").encode()
    padding = (line + b"\n") * (size // len(line))
    padded = {key: dict(call, output=call["output"] + b"\n" + padding) for key, call in raw.items()}
    facts = nd.normalize_inventory(padded)
    assert facts_schema_errors(facts, INVENTORY) == []
    assert (facts["device"], facts["ssh"]) == (expected["device"], expected["ssh"])


def test_long_blank_runs_inside_fields_are_read_as_single_blanks() -> None:
    gap = " " * 100
    system_info = (" Hardware Version" + gap + "- TL-SG2452" + gap + "1.0\n"
                   " Running Time - 1 day" + gap + "- 2 hour - 3 min - 4 sec" + gap + "\n")
    ssh_status = " SSH Server" + gap + ":" + gap + "Enable" + gap + "Protocol V1: Disable\n"
    facts = nd.normalize_inventory({"system_info": ok(system_info), "ssh_status": ok(ssh_status)})
    assert facts["device"]["model"] == "TL-SG2452"
    assert facts["device"]["hardware_version"] == "1.0"
    assert facts["device"]["uptime_seconds"] == 86400 + 2 * 3600 + 3 * 60 + 4
    assert facts["ssh"]["server_enabled"] is True
    assert facts["ssh"]["protocol_versions"]["v1"] is False
    comware = ("Comware Software, Version 5.20.99, Release 1519P03\n"
               "HPE V1910-48G" + gap + "Switch JE009A uptime is" + gap + "1 week, 2 days" + gap + "\n")
    identity = nd.parse_system_info(HP, comware)
    assert identity is not None
    assert (identity["model"], identity["product_number"]) == ("V1910-48G", "JE009A")
    assert identity["uptime_seconds"] == 9 * 86400
