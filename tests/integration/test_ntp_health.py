"""check_ntp_health and check_ntp_server_health end to end: real Ansible over real SSH to lab
hosts running real chronyd and systemd-timesyncd, through the real RExecOp / GovEngine /
SCLite stack.

Three hosts for the whole module: a chrony NTP server (``local stratum 8``, ``allow`` of the
lab /24 in a conf.d file), a chrony client pointed at it (``server <addr> iburst``), and a
systemd-timesyncd host (chrony removed) pointed at the same server. Each test first brings
the host it uses into the state it needs, so the tests do not depend on their order.
Expected facts are read from the hosts themselves (via nsenter, not SSH) wherever they
change between runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import ntp_lab
from harness import Governed, Outcome

LOCAL = "check_ntp_health"
SERVER = "check_ntp_server_health"
LOCAL_KEY = "ntp_local_health"
SERVER_KEY = "ntp_server_observation"
LOCAL_STEP = "observe_time_sync"
SERVER_STEP = "observe_ntp_server"
pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def hosts(lab: Any) -> dict[str, Any]:
    server, client = lab.boot(["health-srv", "health-cli"], provision=ntp_lab.provision_chrony_client)
    ntp_lab.write_host_file(lab, server, ntp_lab.SERVER_CONF,
                            f"local stratum {ntp_lab.SERVER_STRATUM}\nallow {lab.network.subnet}\n")
    lab.exec(server, ["systemctl", "restart", "chrony.service"], check=True)
    (timesyncd,) = lab.boot(["health-tsd"], flavor=ntp_lab.TIMESYNCD_FLAVOR)
    ntp_lab.point_chrony_at(lab, client, server.address)
    ntp_lab.point_timesyncd_at(lab, timesyncd, server.address)
    return {"server": server, "client": client, "timesyncd": timesyncd}




# --- host states -------------------------------------------------------------------------

def client_synchronized(lab: Any, hosts: dict[str, Any]) -> dict[str, str]:
    client = hosts["client"]
    lab.exec(client, ["systemctl", "unmask", "chrony.service"], check=True)
    lab.exec(client, ["systemctl", "start", "chrony.service"], check=True)
    return ntp_lab.wait_for_chrony_source(lab, client, hosts["server"].address)


def host_unit(lab: Any, host: Any, unit: str) -> dict[str, Any]:
    """A unit as the host's own systemctl reports it, in the facts' shape."""
    raw = ntp_lab.unit_states(lab, host, unit)
    return {
        "unit": unit,
        "load_state": raw["LoadState"],
        "active_state": raw["ActiveState"],
        "sub_state": raw["SubState"],
        "unit_file_state": raw["UnitFileState"] or "unknown",
        "active": raw["ActiveState"] in ("active", "reloading"),
    }


def host_kernel_clock(lab: Any, host: Any) -> dict[str, Any]:
    shown = dict(line.split("=", 1) for line in lab.exec(host, ["timedatectl", "show"], check=True).stdout.splitlines())
    return {name: shown[key] == "yes" for name, key in
            (("ntp_enabled", "NTP"), ("ntp_synchronized", "NTPSynchronized"), ("can_ntp", "CanNTP"))}


NOT_FOUND_NTPD = {"unit": "ntpsec.service", "load_state": "not-found", "active_state": "inactive",
                  "sub_state": "dead", "unit_file_state": "unknown", "active": False}
NOT_FOUND_TIMESYNCD = {**NOT_FOUND_NTPD, "unit": "systemd-timesyncd.service"}
NOT_FOUND_CHRONY = {**NOT_FOUND_NTPD, "unit": "chrony.service"}


# --- outcome checks ----------------------------------------------------------------------

def assert_ran_and_recorded(outcome: Outcome, key: str, step: str, identities: list[str]) -> dict[str, Any]:
    assert outcome.runtime_receipt["success"] is True, outcome.last_failure
    assert outcome.evidence_verified, outcome.evidence_checks
    facts = outcome.facts[key]
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    data = outcome.step_data(step)
    assert data["changed"] is False and data["facts"] == facts
    # No peer identity anywhere in what RExecOp recorded for the step.
    recorded = json.dumps(data)
    for identity in identities:
        assert identity not in recorded
    return facts


def assert_passed(outcome: Outcome, intent: str) -> None:
    assert outcome.state == "completed", (outcome.state, outcome.validation, outcome.last_failure)
    assert outcome.validation_passed
    assert outcome.validation["rule"] == f"{intent}.healthy"


def assert_failed_validation(outcome: Outcome, intent: str, key: str) -> None:
    """Every step ran and the evidence is complete; only the validation rule failed."""
    assert outcome.state == "failed", (outcome.state, outcome.validation, outcome.last_failure)
    assert outcome.last_failure is None
    assert not outcome.validation_passed
    assert outcome.validation["rule"] == f"{intent}.not_healthy"
    assert outcome.validation["details"] == outcome.facts[key]


def refid_hex(address: str) -> str:
    return "".join(f"{int(part):02X}" for part in address.split("."))


# --- check_ntp_health --------------------------------------------------------------------

def test_synchronized_chrony_client_is_healthy(lab: Any, hosts: dict[str, Any], environment: Path,
                                               governed: Governed) -> None:
    client, server = hosts["client"], hosts["server"]
    client_synchronized(lab, hosts)
    outcome = governed.run(environment, LOCAL, client.name)

    assert_passed(outcome, LOCAL)
    facts = assert_ran_and_recorded(outcome, LOCAL_KEY, LOCAL_STEP, [server.address, refid_hex(server.address)])
    tracking = ntp_lab.chrony_tracking(lab, client)
    assert facts["assessment"] == {"state": "healthy"}
    assert facts["scope"]["observed"] == ["unit_states", "timedatectl", "chrony_tracking"]
    assert facts["time_daemon"] == "chrony" and facts["active_daemons"] == ["chrony"]
    assert facts["daemons"] == {
        "chrony": host_unit(lab, client, "chrony.service"),
        "ntpd": NOT_FOUND_NTPD,
        "systemd_timesyncd": NOT_FOUND_TIMESYNCD,
    }
    assert facts["daemons"]["chrony"]["sub_state"] == "running"
    # chronyd -x never sets the kernel flag; the verdict comes from chrony itself.
    assert facts["kernel_clock"] == host_kernel_clock(lab, client)
    sync = facts["synchronization"]
    assert {key: sync[key] for key in ("basis", "synchronized", "leap_status", "reference_kind", "stratum")} == {
        "basis": "chronyc_tracking", "synchronized": True, "leap_status": "normal",
        "reference_kind": "ntp_source", "stratum": ntp_lab.SERVER_STRATUM + 1,
    }
    assert int(tracking["Stratum"]) == ntp_lab.SERVER_STRATUM + 1
    # All hosts share the machine's kernel clock, so the offset is tiny, whatever its sign.
    assert isinstance(sync["offset_seconds"], float) and abs(sync["offset_seconds"]) < 0.01


def test_stopped_chrony_is_unhealthy(lab: Any, hosts: dict[str, Any], environment: Path,
                                     governed: Governed) -> None:
    client = hosts["client"]
    lab.exec(client, ["systemctl", "unmask", "chrony.service"], check=True)
    lab.exec(client, ["systemctl", "stop", "chrony.service"], check=True)
    outcome = governed.run(environment, LOCAL, client.name)

    assert_failed_validation(outcome, LOCAL, LOCAL_KEY)
    facts = assert_ran_and_recorded(outcome, LOCAL_KEY, LOCAL_STEP, [hosts["server"].address])
    assert facts["assessment"] == {"state": "unhealthy", "reasons": ["no_time_daemon_active"]}
    assert facts["scope"]["requested"] == ["unit_states", "timedatectl"]
    assert facts["time_daemon"] == "none" and facts["active_daemons"] == []
    assert facts["daemons"]["chrony"] == {
        "unit": "chrony.service", "load_state": "loaded", "active_state": "inactive", "sub_state": "dead",
        "unit_file_state": "enabled", "active": False,
    } == host_unit(lab, client, "chrony.service")
    assert facts["synchronization"] == {"basis": "none", "synchronized": None, "leap_status": "unknown",
                                        "reference_kind": "none", "stratum": None, "offset_seconds": None}
    assert facts["kernel_clock"] == host_kernel_clock(lab, client)


def test_host_without_time_daemon_is_unhealthy(lab: Any, hosts: dict[str, Any], environment: Path,
                                               governed: Governed) -> None:
    client = hosts["client"]
    lab.exec(client, ["systemctl", "stop", "chrony.service"], check=True)
    lab.exec(client, ["systemctl", "mask", "chrony.service"], check=True)
    try:
        outcome = governed.run(environment, LOCAL, client.name)
    finally:
        lab.exec(client, ["systemctl", "unmask", "chrony.service"], check=True)

    assert_failed_validation(outcome, LOCAL, LOCAL_KEY)
    facts = assert_ran_and_recorded(outcome, LOCAL_KEY, LOCAL_STEP, [])
    assert facts["assessment"] == {"state": "unhealthy", "reasons": ["no_time_daemon_active"]}
    assert facts["time_daemon"] == "none"
    assert facts["daemons"] == {
        "chrony": {"unit": "chrony.service", "load_state": "masked", "active_state": "inactive",
                   "sub_state": "dead", "unit_file_state": "masked", "active": False},
        "ntpd": NOT_FOUND_NTPD,
        "systemd_timesyncd": NOT_FOUND_TIMESYNCD,
    }
    assert facts["kernel_clock"] == {"ntp_enabled": False, "ntp_synchronized": False, "can_ntp": False}


def test_timesyncd_host_is_observed(lab: Any, hosts: dict[str, Any], environment: Path,
                                    governed: Governed) -> None:
    host, server = hosts["timesyncd"], hosts["server"]
    ntp_lab.wait_for_timesyncd_contact(lab, host)
    outcome = governed.run(environment, LOCAL, host.name)

    facts = assert_ran_and_recorded(outcome, LOCAL_KEY, LOCAL_STEP, [server.address, refid_hex(server.address)])
    clock = host_kernel_clock(lab, host)
    assert facts["kernel_clock"] == clock
    assert facts["scope"]["observed"] == ["unit_states", "timedatectl", "timesyncd_status"]
    assert facts["time_daemon"] == "systemd_timesyncd" and facts["active_daemons"] == ["systemd_timesyncd"]
    assert facts["daemons"] == {
        "chrony": NOT_FOUND_CHRONY,
        "ntpd": NOT_FOUND_NTPD,
        "systemd_timesyncd": host_unit(lab, host, "systemd-timesyncd.service"),
    }
    assert facts["daemons"]["systemd_timesyncd"]["active"] is True
    assert facts["synchronization"] == {
        "basis": "timedatectl", "synchronized": clock["ntp_synchronized"], "leap_status": "normal",
        "reference_kind": "ntp_source", "stratum": None, "offset_seconds": None,
    }
    # timesyncd cannot set the clock of a lab host, so the kernel flag it would set stays
    # as the machine has it; the verdict follows that flag either way.
    if clock["ntp_synchronized"]:
        assert_passed(outcome, LOCAL)
        assert facts["assessment"] == {"state": "healthy"}
    else:
        assert_failed_validation(outcome, LOCAL, LOCAL_KEY)
        assert facts["assessment"] == {"state": "unhealthy", "reasons": ["clock_not_synchronized"]}


def test_server_on_its_own_clock_is_degraded_locally(lab: Any, hosts: dict[str, Any], environment: Path,
                                                     governed: Governed) -> None:
    server = hosts["server"]
    outcome = governed.run(environment, LOCAL, server.name, mode="dry_run")

    assert_failed_validation(outcome, LOCAL, LOCAL_KEY)
    facts = assert_ran_and_recorded(outcome, LOCAL_KEY, LOCAL_STEP, [])
    assert outcome.step_data(LOCAL_STEP)["check_mode"] is True
    assert facts["assessment"] == {"state": "degraded", "reasons": ["synchronized_to_local_clock_only"]}
    assert facts["synchronization"] == {
        "basis": "chronyc_tracking", "synchronized": True, "leap_status": "normal",
        "reference_kind": "local_clock", "stratum": ntp_lab.SERVER_STRATUM, "offset_seconds": 0.0,
    }


# --- check_ntp_server_health -------------------------------------------------------------

def test_server_reports_stratum_leap_offset_and_serves(lab: Any, hosts: dict[str, Any], environment: Path,
                                                       governed: Governed) -> None:
    server = hosts["server"]
    client_synchronized(lab, hosts)  # a client has polled the server
    outcome = governed.run(environment, SERVER, server.name)

    assert_passed(outcome, SERVER)
    facts = assert_ran_and_recorded(outcome, SERVER_KEY, SERVER_STEP,
                                    [server.address, hosts["client"].address, refid_hex(server.address)])
    received_after = int(ntp_lab.chrony_report(lab, server, "serverstats")["NTP packets received"])
    assert facts["assessment"] == {"state": "healthy"}
    assert facts["scope"]["observed"] == ["unit_states", "udp_sockets", "chrony_tracking", "chrony_serverstats"]
    assert facts["ntp_daemon"] == "chrony" and facts["active_daemons"] == ["chrony"]
    assert facts["daemons"] == {"chrony": host_unit(lab, server, "chrony.service"), "ntpd": NOT_FOUND_NTPD}
    assert {key: facts[key] for key in ("stratum", "leap_status", "reference_kind", "offset_seconds",
                                        "root_delay_seconds", "root_dispersion_seconds")} == {
        "stratum": ntp_lab.SERVER_STRATUM, "leap_status": "normal", "reference_kind": "local_clock",
        "offset_seconds": 0.0, "root_delay_seconds": 0.0, "root_dispersion_seconds": 0.0,
    }
    serving = facts["serving"]
    assert serving["state"] == "serving" and serving["udp_123_listening"] is True
    assert 1 <= serving["ntp_packets_received"] <= received_after
    assert serving["ntp_packets_dropped"] == 0


def test_client_only_host_is_not_serving(lab: Any, hosts: dict[str, Any], environment: Path,
                                         governed: Governed) -> None:
    client, server = hosts["client"], hosts["server"]
    client_synchronized(lab, hosts)
    outcome = governed.run(environment, SERVER, client.name)

    assert_failed_validation(outcome, SERVER, SERVER_KEY)
    facts = assert_ran_and_recorded(outcome, SERVER_KEY, SERVER_STEP, [server.address, refid_hex(server.address)])
    assert facts["assessment"] == {"state": "unhealthy", "reasons": ["not_serving"]}
    assert facts["ntp_daemon"] == "chrony"
    assert (facts["stratum"], facts["leap_status"], facts["reference_kind"]) == (
        ntp_lab.SERVER_STRATUM + 1, "normal", "ntp_source")
    assert facts["serving"] == {"state": "not_serving", "udp_123_listening": False,
                                "ntp_packets_received": 0, "ntp_packets_dropped": 0}
    # The host really has nothing on UDP port 123.
    assert ":007B " not in lab.exec(client, ["cat", "/proc/net/udp", "/proc/net/udp6"], check=True).stdout


def test_timesyncd_host_has_no_ntp_server(lab: Any, hosts: dict[str, Any], environment: Path,
                                          governed: Governed) -> None:
    host = hosts["timesyncd"]
    outcome = governed.run(environment, SERVER, host.name)

    assert_failed_validation(outcome, SERVER, SERVER_KEY)
    facts = assert_ran_and_recorded(outcome, SERVER_KEY, SERVER_STEP, [])
    assert facts["assessment"] == {"state": "unhealthy", "reasons": ["no_ntp_daemon_active"]}
    assert facts["ntp_daemon"] == "none"
    assert facts["daemons"] == {"chrony": NOT_FOUND_CHRONY, "ntpd": NOT_FOUND_NTPD}
    assert facts["serving"] == {"state": "not_serving", "udp_123_listening": False,
                                "ntp_packets_received": None, "ntp_packets_dropped": None}
