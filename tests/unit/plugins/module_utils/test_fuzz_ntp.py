"""Fuzz: the NTP normalizers, the time_sync parsers, the chrony NTP server facts and the
client subnet validator, on mutated recordings. No exception but the documented one,
schema-valid facts.

Inputs of the time_sync parsers are cut to 8 KiB here: two of its patterns are still
quadratic (a 64 KiB ``ntpq`` or ``NTPMessage`` line takes seconds).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.ntp import chrony_ntp_server as chrony
from ansible_collections.tecrax.ops.plugins.module_utils.ntp import time_sync
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_local_health import normalize_ntp_local_health
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_server_health import normalize_ntp_server_observation
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_subnets import (
    SubnetError,
    parse_subnet,
    validate_allowed_subnets,
)
from unit.conftest import DATA_DIR
from unit.mutations import FUZZ, facts_fuzz, mutated, mutated_text

TIME_SYNC_LIMIT = 8 * 1024
NTP_DIRS = sorted(path for path in (DATA_DIR / "ntp").iterdir() if path.is_dir())
# Recorded file -> the raw key the NTP modules put its command result under.
RAW_KEY_OF_FILE = {"timedatectl_show": "timedatectl", "chronyc_tracking": "chrony_tracking",
                   "chronyc_serverstats": "chrony_serverstats", "ntpq_rv": "ntpq", "timesync_show": "timesync",
                   "proc_net_udp": "udp_sockets"}


def _command_result(path: Any) -> dict[str, Any]:
    rc_path = path.with_name(path.name + ".rc")
    rc = int(rc_path.read_text()) if rc_path.exists() else 0
    return {"rc": None if rc == 127 else rc, "output": path.read_text(encoding="utf-8")}


def _ntp_raw(directory: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"units": {}}
    for path in sorted(directory.iterdir()):
        if path.suffix == ".rc":
            continue
        if path.name.startswith("unit."):
            raw["units"][path.name[len("unit."):]] = _command_result(path)
        else:
            raw[RAW_KEY_OF_FILE[path.name]] = _command_result(path)
    return raw


NTP_SEEDS = [_ntp_raw(directory) for directory in NTP_DIRS]


def _ntp_input(seed: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return mutated(seed, TIME_SYNC_LIMIT)


test_ntp_facts_of_mutated_recordings = facts_fuzz({
    "ntp_local_health": (normalize_ntp_local_health, st.sampled_from(NTP_SEEDS).flatmap(_ntp_input),
                         "ntp_local_health.v1.schema.json"),
    "ntp_server_observation": (normalize_ntp_server_observation, st.sampled_from(NTP_SEEDS).flatmap(_ntp_input),
                               "ntp_server_observation.v1.schema.json"),
})


PARSER_OF_FILE = {
    "chronyc_tracking": time_sync.parse_chrony_tracking,
    "chronyc_serverstats": time_sync.parse_chrony_serverstats,
    "ntpq_rv": time_sync.parse_ntpq_variables,
    "timedatectl_show": time_sync.parse_timedatectl_show,
    "timesync_show": time_sync.parse_timesync_show,
    "proc_net_udp": time_sync.parse_udp_listening,
}
PARSER_SEEDS = sorted(
    {(path.name, path.read_text(encoding="utf-8")) for directory in NTP_DIRS for path in directory.iterdir()
     if path.name in PARSER_OF_FILE or (path.name.startswith("unit.") and path.suffix != ".rc")})


@FUZZ
@given(st.sampled_from(PARSER_SEEDS).flatmap(lambda seed: mutated(seed, TIME_SYNC_LIMIT, paths=[(1,)])))
def test_time_sync_parsers_of_mutated_recordings(seed: tuple[str, str]) -> None:
    name, text = seed
    parsed = PARSER_OF_FILE.get(name, time_sync.parse_unit_show)(text)
    assert parsed is None or isinstance(parsed, (bool, dict))
    for key, value in (parsed if isinstance(parsed, dict) else {}).items():
        if key == "stratum":
            assert 0 <= value <= time_sync.MAX_STRATUM
        elif key.endswith("_seconds") and value is not None:
            assert abs(value) <= time_sync.SECONDS_LIMIT
        elif key == "leap_status":
            assert value in time_sync.LEAP_STATES
        elif key == "reference_kind":
            assert value in time_sync.REFERENCE_KINDS


# --- the chrony NTP server mutation ------------------------------------------------------------

SUBNETS = ["10.20.0.0/16", "192.168.40.0/24"]
SERVER_DIR = DATA_DIR / "ntp" / "chrony-server-local-stratum"
# One observation of a host serving SUBNETS, built from recordings and from what ChronyHost
# itself writes (the managed file, the backup record) and chrony 4.3 prints.
CHRONY_SEED: dict[str, Any] = {
    "file": chrony.render(SUBNETS),
    "record": json.dumps({"format": 1, "generation": 2, "phase": "applied", "previous_present": True,
                          "previous_sha256": chrony.sha256(b"allow 10.0.0.0/8\n"),
                          "applied_sha256": chrony.sha256(chrony.render(SUBNETS))}, sort_keys=True).encode() + b"\n",
    "config": "driftfile /var/lib/chrony/chrony.drift\n" + chrony.render(SUBNETS).decode(),
    "service": (SERVER_DIR / "unit.chrony.service").read_text(encoding="utf-8") + "MainPID=812\n",
    "tables": [(SERVER_DIR / "proc_net_udp").read_text(encoding="utf-8")],
    "links": ["/dev/null", "socket:[244179]", "anon_inode:[eventpoll]"],
    "accheck": "208 Access allowed\n",
}
CHRONY_TEXT_PATHS = [("file",), ("record",), ("config",), ("service",), ("tables", 0), ("links", 1), ("accheck",)]


def _observation(raw: dict[str, Any], config_rc: int | None) -> chrony.Observation:
    return chrony.Observation(
        file_content=raw["file"], record=raw["record"], chronyd_installed=True, config_rc=config_rc,
        config_text=raw["config"], service=chrony.parse_systemctl_show(raw["service"]) or None,
        udp_tables=raw["tables"], chrony_fd_links=raw["links"],
        accheck={subnet: raw["accheck"] for subnet in SUBNETS})


@FUZZ
@given(mutated(CHRONY_SEED, paths=CHRONY_TEXT_PATHS, keep_types=True, json=True), st.sampled_from([0, 1, None]),
       st.sampled_from(chrony.ACTIONS), st.sampled_from(chrony.DESIRED_STATES))
def test_chrony_server_facts_of_mutated_observations(facts_schema_errors: Any, raw: dict[str, Any],
                                                     config_rc: int | None, action: str, desired: str) -> None:
    seen = _observation(raw, config_rc)
    state = chrony.file_state(seen.file_content)
    outcome = chrony.Outcome(action, False, desired, SUBNETS if desired == "present" else [], state, state)
    facts = chrony.build_facts_from(outcome, seen)
    assert facts_schema_errors(facts, "chrony_ntp_server_mutation.v1.schema.json") == []


@FUZZ
@given(mutated(CHRONY_SEED["record"], limit=8192, keep_types=True, json=True))
def test_chrony_backup_record_parser_of_mutated_records(record: bytes) -> None:
    parsed = chrony.parse_record(record)
    assert parsed["phase"] in chrony.PHASES


@pytest.mark.parametrize("nested", [b"[" * 4000, b'{"format": 1, "generation": ' + b"[" * 4000])
def test_deeply_nested_backup_record_is_invalid_not_a_crash(nested: bytes) -> None:
    """Regression: json.loads raised RecursionError past about a thousand levels."""
    assert chrony.parse_record(nested)["phase"] == "invalid"
    seen = _observation(dict(CHRONY_SEED, record=nested), 0)
    state = chrony.file_state(seen.file_content)
    facts = chrony.build_facts_from(chrony.Outcome("read", False, "present", SUBNETS, state, state), seen)
    assert facts["backup"] == {"generation": 0, "phase": "invalid", "previous_present": None}


# --- client subnets ----------------------------------------------------------------------------

SUBNET_SEEDS = [SUBNETS, ["172.16.0.0/30", "fd00:1:2::/48"], ["fd12:3456:789a:1::/64"]]


@FUZZ
@given(st.sampled_from(SUBNET_SEEDS).flatmap(mutated))
def test_subnet_validator_of_mutated_lists(subnets: list[Any]) -> None:
    try:
        accepted = validate_allowed_subnets(subnets)
    except SubnetError as error:
        assert str(error).startswith("allowed_subnets")
        return
    assert accepted == [str(parse_subnet(subnet)) for subnet in accepted]
    assert len(accepted) == len(subnets)


@FUZZ
@given(mutated_text([subnet for seed in SUBNET_SEEDS for subnet in seed], limit=256))
def test_subnet_parser_of_mutated_entries(subnet: str) -> None:
    try:
        network = parse_subnet(subnet)
    except SubnetError as error:
        assert str(error)
        return
    assert parse_subnet(str(network)) == network
