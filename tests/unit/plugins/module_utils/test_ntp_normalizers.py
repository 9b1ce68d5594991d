"""The NTP normalizers (tecrax.ntp_local_health, tecrax.ntp_server_observation) on outputs
recorded from lab hosts in each state, on parser edge cases, and on hostile input.

Provenance of the data files: tests/unit/data/ntp/README.md.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.ntp import time_sync as ts
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import (
    MAX_FACTS_BYTES,
    UNKNOWN,
    canonical_json,
)
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_local_health import DAEMONS as LOCAL_DAEMONS
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_local_health import (
    NON_CLAIMS as LOCAL_NON_CLAIMS,
)
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_local_health import normalize_ntp_local_health
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_server_health import DAEMONS as SERVER_DAEMONS
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_server_health import (
    NON_CLAIMS as SERVER_NON_CLAIMS,
)
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_server_health import normalize_ntp_server_observation
from unit.recorded_states import NTP_DATA, NTP_UNITS
from unit.recorded_states import ntp_command as command
from unit.recorded_states import ntp_recorded as recorded

DATA = NTP_DATA
LOCAL_SCHEMA = "ntp_local_health.v1.schema.json"
SERVER_SCHEMA = "ntp_server_observation.v1.schema.json"
# Raw key -> recorded file name.
SERVER_ADDRESS = "192.0.2.10"
SERVER_REFID = "C000020A"


def unit(name: str, load: str, active: str, sub: str, file_state: str) -> dict[str, Any]:
    return {
        "unit": name,
        "load_state": load,
        "active_state": active,
        "sub_state": sub,
        "unit_file_state": file_state,
        "active": active in ("active", "reloading"),
    }


CHRONY_RUNNING = unit("chrony.service", "loaded", "active", "running", "enabled")
CHRONY_STOPPED = unit("chrony.service", "loaded", "inactive", "dead", "enabled")
CHRONY_MASKED = unit("chrony.service", "masked", "inactive", "dead", "masked")
CHRONY_ABSENT = unit("chrony.service", "not-found", "inactive", "dead", UNKNOWN)
NTPD_ABSENT = unit("ntpsec.service", "not-found", "inactive", "dead", UNKNOWN)
NTPD_RUNNING = unit("ntpsec.service", "loaded", "active", "running", "enabled")
TIMESYNCD_ABSENT = unit("systemd-timesyncd.service", "not-found", "inactive", "dead", UNKNOWN)
TIMESYNCD_RUNNING = unit("systemd-timesyncd.service", "loaded", "active", "running", "enabled")
TIMESYNCD_STOPPED = unit("systemd-timesyncd.service", "loaded", "inactive", "dead", "enabled")
NO_SYNC = {"basis": "none", "synchronized": None, "leap_status": UNKNOWN, "reference_kind": "none",
           "stratum": None, "offset_seconds": None}


def envelope(contract: str, requested: list[str], assessment: dict[str, Any], non_claims: Any) -> dict[str, Any]:
    return {
        "contract": {"id": contract, "version": "1.0"},
        "scope": {"requested": requested, "observed": requested, "not_observed": []},
        "coverage": {"state": "complete", "blockers": []},
        "assessment": assessment,
        "non_claims": list(non_claims),
    }


def local(requested_status: str | None, assessment: dict[str, Any], **payload: Any) -> dict[str, Any]:
    requested = ["unit_states", "timedatectl"] + ([requested_status] if requested_status else [])
    return {**envelope("tecrax.ntp_local_health", requested, assessment, LOCAL_NON_CLAIMS), **payload}


def server(requested: list[str], assessment: dict[str, Any], **payload: Any) -> dict[str, Any]:
    return {**envelope("tecrax.ntp_server_observation", ["unit_states", "udp_sockets"] + requested,
                       assessment, SERVER_NON_CLAIMS), **payload}


CLOCK_CHRONY = {"ntp_enabled": True, "ntp_synchronized": False, "can_ntp": True}

LOCAL_EXPECTED = {
    "chrony-client-synchronized": local(
        "chrony_tracking", {"state": "healthy"},
        time_daemon="chrony", active_daemons=["chrony"],
        daemons={"chrony": CHRONY_RUNNING, "ntpd": NTPD_ABSENT, "systemd_timesyncd": TIMESYNCD_ABSENT},
        # chronyd -x never sets the kernel flag: synchronized comes from chrony itself.
        kernel_clock=CLOCK_CHRONY,
        synchronization={"basis": "chronyc_tracking", "synchronized": True, "leap_status": "normal",
                         "reference_kind": "ntp_source", "stratum": 9, "offset_seconds": -8.92e-07},
    ),
    "chrony-client-no-source": local(
        "chrony_tracking", {"state": "unhealthy", "reasons": ["clock_not_synchronized"]},
        time_daemon="chrony", active_daemons=["chrony"],
        daemons={"chrony": CHRONY_RUNNING, "ntpd": NTPD_ABSENT, "systemd_timesyncd": TIMESYNCD_ABSENT},
        kernel_clock=CLOCK_CHRONY,
        synchronization={"basis": "chronyc_tracking", "synchronized": False, "leap_status": "unsynchronized",
                         "reference_kind": "none", "stratum": 0, "offset_seconds": 0.0},
    ),
    "chrony-server-local-stratum": local(
        "chrony_tracking", {"state": "degraded", "reasons": ["synchronized_to_local_clock_only"]},
        time_daemon="chrony", active_daemons=["chrony"],
        daemons={"chrony": CHRONY_RUNNING, "ntpd": NTPD_ABSENT, "systemd_timesyncd": TIMESYNCD_ABSENT},
        kernel_clock=CLOCK_CHRONY,
        synchronization={"basis": "chronyc_tracking", "synchronized": True, "leap_status": "normal",
                         "reference_kind": "local_clock", "stratum": 8, "offset_seconds": 0.0},
    ),
    "chrony-stopped": local(
        None, {"state": "unhealthy", "reasons": ["no_time_daemon_active"]},
        time_daemon="none", active_daemons=[],
        daemons={"chrony": CHRONY_STOPPED, "ntpd": NTPD_ABSENT, "systemd_timesyncd": TIMESYNCD_ABSENT},
        kernel_clock={"ntp_enabled": False, "ntp_synchronized": False, "can_ntp": True},
        synchronization=NO_SYNC,
    ),
    "chrony-masked": local(
        None, {"state": "unhealthy", "reasons": ["no_time_daemon_active"]},
        time_daemon="none", active_daemons=[],
        # chronyd.service (LoadState=error, the alias of a masked unit) loses to chrony.service.
        daemons={"chrony": CHRONY_MASKED, "ntpd": NTPD_ABSENT, "systemd_timesyncd": TIMESYNCD_ABSENT},
        kernel_clock={"ntp_enabled": False, "ntp_synchronized": False, "can_ntp": False},
        synchronization=NO_SYNC,
    ),
    "timesyncd-active": local(
        "timesyncd_status", {"state": "unhealthy", "reasons": ["clock_not_synchronized"]},
        time_daemon="systemd_timesyncd", active_daemons=["systemd_timesyncd"],
        daemons={"chrony": CHRONY_ABSENT, "ntpd": NTPD_ABSENT, "systemd_timesyncd": TIMESYNCD_RUNNING},
        kernel_clock=CLOCK_CHRONY,
        synchronization={"basis": "timedatectl", "synchronized": False, "leap_status": "normal",
                         "reference_kind": "ntp_source", "stratum": None, "offset_seconds": None},
    ),
    "timesyncd-stopped": local(
        None, {"state": "unhealthy", "reasons": ["no_time_daemon_active"]},
        time_daemon="none", active_daemons=[],
        daemons={"chrony": CHRONY_ABSENT, "ntpd": NTPD_ABSENT, "systemd_timesyncd": TIMESYNCD_STOPPED},
        kernel_clock={"ntp_enabled": False, "ntp_synchronized": False, "can_ntp": True},
        synchronization=NO_SYNC,
    ),
    "ntpsec-synchronized": local(
        "ntpq_system_variables", {"state": "healthy"},
        time_daemon="ntpd", active_daemons=["ntpd"],
        daemons={"chrony": CHRONY_ABSENT, "ntpd": NTPD_RUNNING, "systemd_timesyncd": TIMESYNCD_ABSENT},
        kernel_clock={"ntp_enabled": False, "ntp_synchronized": False, "can_ntp": False},
        # ntpq offset=0.011997 ms (server relative to host) -> local clock 1.1997e-05 s behind.
        synchronization={"basis": "ntpq", "synchronized": True, "leap_status": "normal",
                         "reference_kind": UNKNOWN, "stratum": 9, "offset_seconds": -1.1997e-05},
    ),
    "ntpsec-unsynchronized": local(
        "ntpq_system_variables", {"state": "unhealthy", "reasons": ["clock_not_synchronized"]},
        time_daemon="ntpd", active_daemons=["ntpd"],
        daemons={"chrony": CHRONY_ABSENT, "ntpd": NTPD_RUNNING, "systemd_timesyncd": TIMESYNCD_ABSENT},
        kernel_clock={"ntp_enabled": False, "ntp_synchronized": False, "can_ntp": False},
        synchronization={"basis": "ntpq", "synchronized": False, "leap_status": "unsynchronized",
                         "reference_kind": "none", "stratum": 16, "offset_seconds": 0.0},
    ),
}

NO_SERVER_TIME = {"stratum": None, "leap_status": UNKNOWN, "reference_kind": "none", "offset_seconds": None,
                  "root_delay_seconds": None, "root_dispersion_seconds": None}
NOT_SERVING = {"state": "not_serving", "udp_123_listening": False, "ntp_packets_received": None,
               "ntp_packets_dropped": None}
CHRONY_STATUS = ["chrony_tracking", "chrony_serverstats"]

SERVER_EXPECTED = {
    "chrony-server-local-stratum": server(
        CHRONY_STATUS, {"state": "healthy"},
        ntp_daemon="chrony", active_daemons=["chrony"], daemons={"chrony": CHRONY_RUNNING, "ntpd": NTPD_ABSENT},
        stratum=8, leap_status="normal", reference_kind="local_clock", offset_seconds=0.0,
        root_delay_seconds=0.0, root_dispersion_seconds=0.0,
        serving={"state": "serving", "udp_123_listening": True, "ntp_packets_received": 4, "ntp_packets_dropped": 0},
    ),
    "chrony-client-synchronized": server(
        CHRONY_STATUS, {"state": "unhealthy", "reasons": ["not_serving"]},
        ntp_daemon="chrony", active_daemons=["chrony"], daemons={"chrony": CHRONY_RUNNING, "ntpd": NTPD_ABSENT},
        stratum=9, leap_status="normal", reference_kind="ntp_source", offset_seconds=-8.92e-07,
        root_delay_seconds=2.1691e-05, root_dispersion_seconds=0.000122313,
        serving={"state": "not_serving", "udp_123_listening": False, "ntp_packets_received": 0,
                 "ntp_packets_dropped": 0},
    ),
    "chrony-client-no-source": server(
        CHRONY_STATUS, {"state": "unhealthy", "reasons": ["not_synchronized", "stratum_out_of_range", "not_serving"]},
        ntp_daemon="chrony", active_daemons=["chrony"], daemons={"chrony": CHRONY_RUNNING, "ntpd": NTPD_ABSENT},
        stratum=0, leap_status="unsynchronized", reference_kind="none", offset_seconds=0.0,
        root_delay_seconds=1.0, root_dispersion_seconds=1.0,
        serving={"state": "not_serving", "udp_123_listening": False, "ntp_packets_received": 0,
                 "ntp_packets_dropped": 0},
    ),
    "chrony-stopped": server(
        [], {"state": "unhealthy", "reasons": ["no_ntp_daemon_active"]},
        ntp_daemon="none", active_daemons=[], daemons={"chrony": CHRONY_STOPPED, "ntpd": NTPD_ABSENT},
        **NO_SERVER_TIME, serving=NOT_SERVING,
    ),
    "timesyncd-active": server(
        [], {"state": "unhealthy", "reasons": ["no_ntp_daemon_active"]},
        ntp_daemon="none", active_daemons=[], daemons={"chrony": CHRONY_ABSENT, "ntpd": NTPD_ABSENT},
        **NO_SERVER_TIME, serving=NOT_SERVING,
    ),
    "ntpsec-synchronized": server(
        ["ntpq_system_variables"], {"state": "healthy"},
        ntp_daemon="ntpd", active_daemons=["ntpd"], daemons={"chrony": CHRONY_ABSENT, "ntpd": NTPD_RUNNING},
        stratum=9, leap_status="normal", reference_kind=UNKNOWN, offset_seconds=-1.1997e-05,
        root_delay_seconds=4.4e-05, root_dispersion_seconds=0.937533,
        serving={"state": "serving", "udp_123_listening": True, "ntp_packets_received": None,
                 "ntp_packets_dropped": None},
    ),
    "ntpsec-unsynchronized": server(
        ["ntpq_system_variables"], {"state": "unhealthy", "reasons": ["not_synchronized", "stratum_out_of_range"]},
        ntp_daemon="ntpd", active_daemons=["ntpd"], daemons={"chrony": CHRONY_ABSENT, "ntpd": NTPD_RUNNING},
        stratum=16, leap_status="unsynchronized", reference_kind="none", offset_seconds=0.0,
        root_delay_seconds=0.0, root_dispersion_seconds=0.0,
        serving={"state": "serving", "udp_123_listening": True, "ntp_packets_received": None,
                 "ntp_packets_dropped": None},
    ),
}


# --- recorded hosts --------------------------------------------------------------------

@pytest.mark.parametrize("state", sorted(LOCAL_EXPECTED))
def test_recorded_local_health(state: str, facts_schema_errors: Any) -> None:
    facts = normalize_ntp_local_health(recorded(state))
    assert facts == LOCAL_EXPECTED[state]
    assert facts_schema_errors(facts, LOCAL_SCHEMA) == []


@pytest.mark.parametrize("state", sorted(SERVER_EXPECTED))
def test_recorded_server_observation(state: str, facts_schema_errors: Any) -> None:
    facts = normalize_ntp_server_observation(recorded(state))
    assert facts == SERVER_EXPECTED[state]
    assert facts_schema_errors(facts, SERVER_SCHEMA) == []


@pytest.mark.parametrize("state", sorted(set(LOCAL_EXPECTED) | set(SERVER_EXPECTED)))
def test_recorded_facts_keep_no_peer_identity(state: str) -> None:
    raw = recorded(state)
    for facts in (normalize_ntp_local_health(raw), normalize_ntp_server_observation(raw)):
        text = canonical_json(facts)
        for identity in (SERVER_ADDRESS, SERVER_REFID, "7F7F0101", "192.0.2.", "pool.ntp.org"):
            assert identity not in text


def test_decisions_of_the_modules_follow_the_unit_states() -> None:
    """The daemon whose status the modules collect (time_sync_collect.collect_daemons)."""
    def in_charge(units: object) -> str | None:
        return ts.first_active_daemon(units, LOCAL_DAEMONS)

    def serving(units: object) -> str | None:
        return ts.first_active_daemon(units, SERVER_DAEMONS)

    assert in_charge(recorded("chrony-client-synchronized")["units"]) == "chrony"
    assert in_charge(recorded("timesyncd-active")["units"]) == "systemd_timesyncd"
    assert in_charge(recorded("ntpsec-synchronized")["units"]) == "ntpd"
    assert in_charge(recorded("chrony-masked")["units"]) is None
    assert serving(recorded("timesyncd-active")["units"]) is None
    assert serving(recorded("chrony-server-local-stratum")["units"]) == "chrony"
    assert in_charge({}) is None and serving("garbage") is None


def test_ntpq_without_a_daemon_prints_nothing_and_is_unparsed() -> None:
    raw = recorded("ntpsec-synchronized")
    raw["ntpq"] = command(DATA / "ntpsec-stopped", "ntpq_rv")
    assert raw["ntpq"] == {"rc": 0, "output": ""}
    facts = normalize_ntp_local_health(raw)
    assert facts["coverage"] == {"state": "partial", "blockers": ["ntpq_system_variables_unparsed"]}
    assert facts["assessment"] == {"state": "unknown", "reasons": ["synchronization_unobserved"]}
    assert facts["synchronization"]["basis"] == "ntpq"
    assert facts["synchronization"]["synchronized"] is None


# --- missing programs and failed commands ------------------------------------------------

def test_missing_systemctl_is_unavailable(facts_schema_errors: Any) -> None:
    raw = {"units": {unit: {"rc": None, "output": ""} for unit in NTP_UNITS},
           "timedatectl": {"rc": None, "output": ""}}
    facts = normalize_ntp_local_health(raw)
    assert facts["coverage"] == {"state": "blocked",
                                 "blockers": ["unit_states_not_installed", "timedatectl_not_installed"]}
    assert facts["assessment"] == {"state": "unavailable", "reasons": ["time_daemon_states_unobserved"]}
    assert facts["time_daemon"] == UNKNOWN
    assert facts["daemons"]["chrony"] == {**ts.unknown_unit("chrony.service")}
    assert facts_schema_errors(facts, LOCAL_SCHEMA) == []
    server_facts = normalize_ntp_server_observation({"units": raw["units"], "udp_sockets": {"rc": 1, "output": ""}})
    assert server_facts["coverage"] == {"state": "blocked",
                                        "blockers": ["unit_states_not_installed", "udp_sockets_failed"]}
    assert server_facts["assessment"] == {"state": "unavailable", "reasons": ["ntp_daemon_states_unobserved"]}
    assert server_facts["ntp_daemon"] == UNKNOWN
    assert server_facts["serving"]["state"] == "not_serving"  # no daemon is known to run
    assert facts_schema_errors(server_facts, SERVER_SCHEMA) == []


def test_chrony_running_without_chronyc_is_unknown_not_unhealthy(facts_schema_errors: Any) -> None:
    raw = recorded("chrony-client-synchronized")
    raw["chrony_tracking"] = {"rc": None, "output": ""}
    facts = normalize_ntp_local_health(raw)
    assert facts["scope"]["not_observed"] == ["chrony_tracking"]
    assert facts["coverage"] == {"state": "partial", "blockers": ["chrony_tracking_not_installed"]}
    assert facts["assessment"] == {"state": "unknown", "reasons": ["synchronization_unobserved"]}
    assert facts["time_daemon"] == "chrony"
    assert facts_schema_errors(facts, LOCAL_SCHEMA) == []


def test_chronyc_that_cannot_talk_to_chronyd_is_a_failed_observation() -> None:
    raw = recorded("chrony-client-synchronized")
    raw["chrony_tracking"] = command(DATA / "chrony-stopped", "chronyc_tracking")
    assert raw["chrony_tracking"]["rc"] == 1 and "506 Cannot talk to daemon" in raw["chrony_tracking"]["output"]
    facts = normalize_ntp_local_health(raw)
    assert facts["coverage"]["blockers"] == ["chrony_tracking_failed"]
    assert facts["assessment"]["state"] == "unknown"
    server_raw = recorded("chrony-server-local-stratum")
    server_raw["chrony_serverstats"] = raw["chrony_tracking"]
    server_facts = normalize_ntp_server_observation(server_raw)
    # The counters are evidence only: without them the server is still judged.
    assert server_facts["coverage"]["blockers"] == ["chrony_serverstats_failed"]
    assert server_facts["assessment"] == {"state": "healthy"}
    assert server_facts["serving"] == {"state": "serving", "udp_123_listening": True,
                                       "ntp_packets_received": None, "ntp_packets_dropped": None}


def test_unreadable_sockets_leave_serving_unknown() -> None:
    raw = recorded("chrony-server-local-stratum")
    raw["udp_sockets"] = {"rc": 1, "output": ""}
    facts = normalize_ntp_server_observation(raw)
    assert facts["serving"]["state"] == UNKNOWN
    assert facts["assessment"] == {"state": "unknown", "reasons": ["serving_state_unobserved"]}
    raw["udp_sockets"] = {"rc": 0, "output": "not a socket table\n"}
    assert normalize_ntp_server_observation(raw)["coverage"]["blockers"] == ["udp_sockets_unparsed"]


def test_timesyncd_without_timedatectl_is_unknown() -> None:
    raw = recorded("timesyncd-active")
    raw["timedatectl"] = {"rc": 1, "output": "Failed to connect to bus"}
    facts = normalize_ntp_local_health(raw)
    assert facts["assessment"] == {"state": "unknown", "reasons": ["synchronization_unobserved"]}
    assert facts["kernel_clock"] == {"ntp_enabled": None, "ntp_synchronized": None, "can_ntp": None}
    assert facts["synchronization"]["leap_status"] == "normal"  # from show-timesync still


def test_timesyncd_with_the_kernel_flag_set_is_healthy() -> None:
    raw = recorded("timesyncd-active")
    raw["timedatectl"] = {"rc": 0, "output": raw["timedatectl"]["output"].replace(
        "NTPSynchronized=no", "NTPSynchronized=yes")}
    facts = normalize_ntp_local_health(raw)
    assert facts["assessment"] == {"state": "healthy"}
    assert facts["synchronization"]["synchronized"] is True


def test_chrony_is_judged_by_itself_even_when_the_kernel_flag_is_set() -> None:
    raw = recorded("chrony-client-no-source")
    raw["timedatectl"] = {"rc": 0, "output": "NTP=yes\nNTPSynchronized=yes\nCanNTP=yes\n"}
    facts = normalize_ntp_local_health(raw)
    assert facts["kernel_clock"]["ntp_synchronized"] is True
    assert facts["assessment"] == {"state": "unhealthy", "reasons": ["clock_not_synchronized"]}


def test_two_running_daemons_are_degraded_and_chrony_decides() -> None:
    raw = recorded("chrony-client-synchronized")
    raw["units"]["systemd-timesyncd.service"] = command(DATA / "timesyncd-active", "unit.systemd-timesyncd.service")
    facts = normalize_ntp_local_health(raw)
    assert facts["time_daemon"] == "chrony"
    assert facts["active_daemons"] == ["chrony", "systemd_timesyncd"]
    assert facts["assessment"] == {"state": "degraded", "reasons": ["multiple_time_daemons_active"]}
    raw["chrony_tracking"] = command(DATA / "chrony-client-no-source", "chronyc_tracking")
    assert normalize_ntp_local_health(raw)["assessment"] == {
        "state": "unhealthy", "reasons": ["multiple_time_daemons_active", "clock_not_synchronized"]}


def test_one_unreadable_unit_with_none_running_is_unknown() -> None:
    raw = recorded("chrony-stopped")
    for unit in ts.DAEMON_UNITS["ntpd"]:
        raw["units"][unit] = {"rc": 1, "output": ""}
    facts = normalize_ntp_local_health(raw)
    assert facts["time_daemon"] == UNKNOWN
    assert facts["daemons"]["ntpd"] == ts.unknown_unit("ntpsec.service")
    assert facts["assessment"] == {"state": "unknown", "reasons": ["time_daemon_states_unobserved"]}
    assert facts["coverage"]["blockers"] == ["unit_states_failed"]


# --- parsers ---------------------------------------------------------------------------

TRACKING = (DATA / "chrony-client-synchronized" / "chronyc_tracking").read_text()


@pytest.mark.parametrize(
    ("reference", "kind"),
    [
        ("C000020A (192.0.2.10)", "ntp_source"),
        ("A1B2C3D4 (2001:db8::123)", "ntp_source"),  # IPv6 source: the ID is a hash
        ("47505300 (GPS)", "refclock"),
        ("50505300 (PPS)", "refclock"),
        ("7F7F0101 ()", "local_clock"),
        ("00000000 ()", "none"),
        ("C000020A ()", UNKNOWN),
        ("C000020A (ntp1.example.net)", UNKNOWN),  # a name (chronyc without -n) is not classified
        ("zz (1.2.3.4)", UNKNOWN),
        ("", UNKNOWN),
    ],
)
def test_chrony_reference_kinds(reference: str, kind: str) -> None:
    assert ts.classify_chrony_reference(reference) == kind


@pytest.mark.parametrize(
    ("line", "leap"),
    [("Normal", "normal"), ("Insert second", "insert_second"), ("Delete second", "delete_second"),
     ("Not synchronised", "unsynchronized")],
)
def test_chrony_leap_states(line: str, leap: str) -> None:
    parsed = ts.parse_chrony_tracking(TRACKING.replace("Leap status     : Normal", "Leap status     : " + line))
    assert parsed is not None and parsed["leap_status"] == leap


@pytest.mark.parametrize(
    ("system_time", "offset"),
    [("0.000000892 seconds slow of NTP time", -8.92e-07), ("1.500000000 seconds fast of NTP time", 1.5),
     ("31536000000.0 seconds fast of NTP time", 1e10), ("garbage", None)],
)
def test_chrony_offset_sign_and_clamp(system_time: str, offset: float | None) -> None:
    text = TRACKING.replace("0.000000892 seconds slow of NTP time", system_time)
    parsed = ts.parse_chrony_tracking(text)
    assert parsed is not None and parsed["offset_seconds"] == offset


@pytest.mark.parametrize(
    "text",
    ["", "506 Cannot talk to daemon\n", TRACKING.replace("Leap status", "Leap"),
     TRACKING.replace("Stratum         : 9", "Stratum         : nine"),
     TRACKING.replace("Reference ID", "Ref")],
)
def test_chrony_tracking_without_required_lines_is_unparsed(text: str) -> None:
    assert ts.parse_chrony_tracking(text) is None


def test_chrony_stratum_is_clamped() -> None:
    parsed = ts.parse_chrony_tracking(TRACKING.replace("Stratum         : 9", "Stratum         : 400"))
    assert parsed is not None and parsed["stratum"] == 16


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("leap=00, stratum=2, offset=-1.5, rootdelay=10.0, rootdisp=2.5",
         {"leap_status": "normal", "stratum": 2, "offset_seconds": 0.0015, "root_delay_seconds": 0.01,
          "root_dispersion_seconds": 0.0025}),
        # Classic ntp prints the variables over several lines and may use the numeric leap.
        ("stratum=3, offset=0.250,\nrootdelay=1.0, rootdisp=0.5, leap=1\n",
         {"leap_status": "insert_second", "stratum": 3, "offset_seconds": -0.00025, "root_delay_seconds": 0.001,
          "root_dispersion_seconds": 0.0005}),
        ("leap=10, stratum=4", {"leap_status": "delete_second", "stratum": 4, "offset_seconds": None,
                                "root_delay_seconds": None, "root_dispersion_seconds": None}),
    ],
)
def test_ntpq_variables(text: str, expected: dict[str, Any]) -> None:
    assert ts.parse_ntpq_variables(text) == expected


@pytest.mark.parametrize("text", ["", "***Socket error; probably ntpd is not running", "leap=99, stratum=2",
                                  "leap=00", "stratum=2"])
def test_ntpq_unparsed(text: str) -> None:
    assert ts.parse_ntpq_variables(text) is None


def test_timesync_before_the_first_answer() -> None:
    text = "ServerName=\nServerAddress=\nNTPMessage=\n"
    assert ts.parse_timesync_show(text) == {"reference_kind": "none", "leap_status": UNKNOWN}
    assert ts.parse_timesync_show("NTPMessage={ Leap=0, Stratum=2 }\n") is None  # no ServerAddress line


def test_timesync_leap_alarm() -> None:
    text = (DATA / "timesyncd-active" / "timesync_show").read_text().replace("Leap=0", "Leap=3")
    assert ts.parse_timesync_show(text) == {"reference_kind": "ntp_source", "leap_status": "unsynchronized"}


@pytest.mark.parametrize(
    ("text", "listening"),
    [
        ((DATA / "chrony-server-local-stratum" / "proc_net_udp").read_text(), True),
        ((DATA / "chrony-client-synchronized" / "proc_net_udp").read_text(), False),
        # A connected socket with local port 123 (an ntpd client association) is not a listener.
        ("  sl  local_address rem_address   st\n   1: 0A00000A:007B 0B00000A:007B 01 0\n", False),
        ("  sl  local_address rem_address   st\n   1: 00000000:007b 00000000:0000 07 0\n", True),
        ("no header here\n", None),
        ("", None),
    ],
)
def test_udp_port_123(text: str, listening: bool | None) -> None:
    assert ts.parse_udp_listening(text) is listening


def test_unit_show_values_are_state_words_only() -> None:
    parsed = ts.parse_unit_show("LoadState=loaded\nActiveState=active\nSubState=run ning\nUnitFileState=EN\n")
    assert parsed == {"load_state": "loaded", "active_state": "active", "sub_state": UNKNOWN,
                      "unit_file_state": UNKNOWN}
    assert ts.parse_unit_show("LoadState=\nActiveState=active\n") is None


def test_an_active_alias_outranks_a_loaded_inactive_unit() -> None:
    units = {
        "chrony.service": {"rc": 0, "output": "LoadState=loaded\nActiveState=inactive\nSubState=dead\n"},
        "chronyd.service": {"rc": 0, "output": "LoadState=loaded\nActiveState=active\nSubState=running\n"},
    }
    states, blockers = ts.observe_daemon_units(units, ("chrony",))
    assert states["chrony"]["unit"] == "chronyd.service" and states["chrony"]["active"] is True
    assert blockers == []


# --- hostile input ---------------------------------------------------------------------

def assert_valid(raw: Any, facts_schema_errors: Any) -> None:
    local_facts = normalize_ntp_local_health(raw)
    server_facts = normalize_ntp_server_observation(raw)
    assert facts_schema_errors(local_facts, LOCAL_SCHEMA) == []
    assert facts_schema_errors(server_facts, SERVER_SCHEMA) == []
    assert len(canonical_json(local_facts)) <= MAX_FACTS_BYTES
    assert len(canonical_json(server_facts)) <= MAX_FACTS_BYTES


@pytest.mark.parametrize("raw", [None, {}, [], "units", {"units": None}, {"units": []},
                                 {"units": {"chrony.service": "LoadState=loaded"}},
                                 {"units": {"chrony.service": {"rc": True, "output": ""}}},
                                 {"units": {"chrony.service": {"rc": "0", "output": 5}}}])
def test_malformed_raw_input_is_not_observed(raw: Any, facts_schema_errors: Any) -> None:
    assert_valid(raw, facts_schema_errors)
    facts = normalize_ntp_local_health(raw)
    assert facts["assessment"]["state"] == "unavailable"


def running_chrony_with(output: Any) -> dict[str, Any]:
    raw = recorded("chrony-client-synchronized")
    for key in ("chrony_tracking", "chrony_serverstats", "timedatectl", "udp_sockets"):
        raw[key] = {"rc": 0, "output": output}
    return raw


@pytest.mark.parametrize(
    "output",
    [
        b"\x00\xff\xfe" * 1000,
        "\u202e\u200b\x1b[31m Leap status : Normal \x00",
        "Reference ID : C000020A (192.0.2.10)\n" * 5000,
    ],
)
def test_binary_and_hostile_output_is_unparsed(output: Any, facts_schema_errors: Any) -> None:
    raw = running_chrony_with(output)
    assert_valid(raw, facts_schema_errors)
    facts = normalize_ntp_local_health(raw)
    assert facts["assessment"] == {"state": "unknown", "reasons": ["synchronization_unobserved"]}
    assert "192.0.2.10" not in canonical_json(facts)


@pytest.mark.parametrize("kind", [str, bytes])
def test_ten_megabytes_per_output_is_bounded(kind: type, facts_schema_errors: Any, raw_prefix: Any) -> None:
    huge = TRACKING * (10 * 1024 * 1024 // len(TRACKING))
    raw = running_chrony_with(huge.encode() if kind is bytes else huge)
    raw["units"] = {unit: {"rc": 0, "output": raw["units"][unit]["output"] * 20000} for unit in NTP_UNITS}
    assert_valid(raw, facts_schema_errors)
    # Nothing past the bound is read (the speed of this is bench/bench_normalizers.py's).
    assert normalize_ntp_local_health(raw) == normalize_ntp_local_health(raw_prefix(raw))
    assert normalize_ntp_server_observation(raw) == normalize_ntp_server_observation(raw_prefix(raw))
    # The first 64 KiB still hold a whole tracking report: chrony is judged from it.
    assert normalize_ntp_local_health(raw)["synchronization"]["synchronized"] is True


COMMAND_RESULT = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.fixed_dictionaries({"rc": st.one_of(st.none(), st.integers(-300, 300), st.booleans(), st.text(max_size=3)),
                           "output": st.one_of(st.binary(max_size=400), st.text(max_size=400), st.none(),
                                               st.integers())}),
)
LINE = st.one_of(
    st.sampled_from(TRACKING.splitlines()),
    st.sampled_from(["LoadState=loaded", "ActiveState=active", "ActiveState=reloading", "SubState=running",
                     "UnitFileState=enabled", "NTPSynchronized=yes", "NTPSynchronized=no", "ServerAddress=",
                     "ServerAddress=192.0.2.10", "NTPMessage={ Leap=0, Stratum=2 }", "leap=00, stratum=2",
                     "leap=11, stratum=16, offset=1e5", "NTP packets received : 18446744073709551616",
                     "  sl  local_address rem_address", "   1: 00000000:007B 00000000:0000 07",
                     "Stratum : -4", "System time : -1 seconds fast of NTP time"]),
    st.text(max_size=60),
)
STRUCTURED_OUTPUT = st.lists(LINE, max_size=20).map("\n".join)
STRUCTURED_RESULT = st.fixed_dictionaries({"rc": st.sampled_from([0, 0, 0, 1, None]), "output": STRUCTURED_OUTPUT})
RAW_KEYS = ("timedatectl", "chrony_tracking", "chrony_serverstats", "ntpq", "timesync", "udp_sockets")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(("units",) + RAW_KEYS), COMMAND_RESULT))
def test_arbitrary_input_gives_schema_valid_facts(facts_schema_errors: Any, raw: dict[str, Any]) -> None:
    assert_valid(raw, facts_schema_errors)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(NTP_UNITS), STRUCTURED_RESULT),
    st.dictionaries(st.sampled_from(RAW_KEYS), STRUCTURED_RESULT),
)
def test_near_miss_output_gives_schema_valid_facts_without_identities(
    facts_schema_errors: Any, units: dict[str, Any], others: dict[str, Any]
) -> None:
    raw = {"units": units, **others}
    assert_valid(raw, facts_schema_errors)
    local_facts, server_facts = normalize_ntp_local_health(raw), normalize_ntp_server_observation(raw)
    for facts in (local_facts, server_facts):
        assert "192.0.2" not in canonical_json(facts)
        if facts["coverage"]["state"] == "blocked":
            assert facts["assessment"]["state"] == "unavailable"
    if local_facts["assessment"]["state"] == "healthy":
        assert local_facts["active_daemons"] == [local_facts["time_daemon"]]
        assert local_facts["synchronization"]["synchronized"] is True
    if server_facts["assessment"]["state"] == "healthy":
        assert server_facts["serving"]["state"] == "serving"
        assert 1 <= server_facts["stratum"] <= 15


# --- over-long lines (the parsers are linear; bench/bench_normalizers.py times them) ----

KIB_64 = 64 * 1024
MIB = 1024 * 1024
TIMESYNC_SHOW = (DATA / "timesyncd-active" / "timesync_show").read_text()
NTPQ_RV = (DATA / "ntpsec-synchronized" / "ntpq_rv").read_text()


def with_ntp_message(message: str) -> str:
    return "\n".join("NTPMessage=" + message if line.startswith("NTPMessage=") else line
                     for line in TIMESYNC_SHOW.splitlines()) + "\n"


@pytest.mark.parametrize("size", [KIB_64, MIB])
@pytest.mark.parametrize("filler", ["{", "{ Stratum=2, ", "}{"])
def test_an_over_long_timesyncd_message_is_unparsed(size: int, filler: str, facts_schema_errors: Any) -> None:
    text = with_ntp_message(filler * (size // len(filler)))
    assert ts.parse_timesync_show(text) is None
    raw = recorded("timesyncd-active")
    raw["timesync"] = {"rc": 0, "output": text}
    assert_valid(raw, facts_schema_errors)
    facts = normalize_ntp_local_health(raw)
    assert facts["coverage"]["blockers"] == ["timesyncd_status_unparsed"]
    assert facts["synchronization"]["reference_kind"] == UNKNOWN


def test_a_timesyncd_message_up_to_the_line_limit_is_read() -> None:
    prefix = "NTPMessage="
    padding = "{" * (ts.MAX_LINE_CHARS - len(prefix) - len(" Leap=0, Stratum=2 }"))
    longest = with_ntp_message(padding + " Leap=0, Stratum=2 }")
    assert max(len(line) for line in longest.splitlines()) == ts.MAX_LINE_CHARS
    # The first "{" opens the message, so its first item's key is "{{...{ Leap": no leap.
    assert ts.parse_timesync_show(longest) == {"reference_kind": "ntp_source", "leap_status": UNKNOWN}
    assert ts.parse_timesync_show(with_ntp_message("{" + padding + " Leap=0, Stratum=2 }")) is None  # one over


def test_an_over_long_server_address_is_unparsed() -> None:
    text = TIMESYNC_SHOW.replace("ServerAddress=192.0.2.10", "ServerAddress=" + "9" * KIB_64)
    assert ts.parse_timesync_show(text) is None


def _message_fields_by_regex(message: str) -> dict[str, str]:
    """What parse_timesync_show read from NTPMessage before it stopped using a regex."""
    found = re.search(r"\{(.*)\}", message, re.DOTALL)
    fields: dict[str, str] = {}
    for item in found.group(1).split(",") if found else []:
        key, sep, value = item.partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="{}=, LeapStratum02", max_size=40))
def test_the_timesyncd_message_is_read_as_the_regex_read_it(message: str) -> None:
    assert ts._timesync_message_fields(message) == _message_fields_by_regex(message)


@pytest.mark.parametrize("size", [KIB_64, MIB])
@pytest.mark.parametrize("filler", ["a", "leap", "leap=00,", "_=", "stratum=2 "])
def test_an_over_long_ntpq_line_is_skipped(size: int, filler: str, facts_schema_errors: Any) -> None:
    line = filler * (size // len(filler))
    assert ts.parse_ntpq_variables(line) is None
    assert ts.parse_ntpq_variables(NTPQ_RV + line + "\n") == ts.parse_ntpq_variables(NTPQ_RV)
    raw = recorded("ntpsec-synchronized")
    raw["ntpq"] = {"rc": 0, "output": line}
    assert_valid(raw, facts_schema_errors)
    assert normalize_ntp_local_health(raw)["coverage"]["blockers"] == ["ntpq_system_variables_unparsed"]


def test_an_ntpq_line_up_to_the_line_limit_is_read() -> None:
    variables = "leap=00, stratum=9"
    line = "x" * (ts.MAX_LINE_CHARS - len(variables) - 1) + " " + variables
    assert len(line) == ts.MAX_LINE_CHARS
    parsed = ts.parse_ntpq_variables(line)
    assert parsed is not None and (parsed["leap_status"], parsed["stratum"]) == ("normal", 9)
    assert ts.parse_ntpq_variables("x" + line) is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab_=, \t1:", max_size=40))
def test_ntpq_pairs_are_found_as_the_unguarded_pattern_found_them(line: str) -> None:
    assert ts._NTPQ_PAIR.findall(line) == re.findall(r"([a-z_]+)=([^,\s]*)", line)


@pytest.mark.parametrize("size", [KIB_64, MIB])
def test_over_long_chrony_and_socket_lines_are_skipped(size: int) -> None:
    long_line = "Leap status     : " + "Normal " * (size // 7)
    assert ts.parse_chrony_tracking(TRACKING.replace("Leap status     : Normal", long_line)) is None
    assert ts.parse_chrony_tracking(TRACKING + long_line + "\n") == ts.parse_chrony_tracking(TRACKING)
    table = (DATA / "chrony-server-local-stratum" / "proc_net_udp").read_text()
    listener = next(line for line in table.splitlines() if ":007B 00000000:0000" in line)
    assert ts.parse_udp_listening(table.replace(listener, listener + " " * size)) is False
    assert ts.parse_udp_listening(table + "x" * size + "\n") is True
