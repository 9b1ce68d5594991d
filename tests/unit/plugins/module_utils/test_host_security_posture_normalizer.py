"""The tecrax.host_security_posture normalizer, on recorded outputs and on hostile input.

Provenance of the data files: tests/unit/data/host_security_posture/README.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.host import host_security_posture as hsp
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import (
    MAX_FACTS_BYTES,
    canonical_json,
)

from unit.recorded_states import security_good_host as good_host
from unit.recorded_states import security_output as ok

DATA = Path(__file__).resolve().parents[2] / "data" / "host_security_posture"
SCHEMA = "host_security_posture.v1.schema.json"
ALL = ["unattended_upgrades", "pending_updates", "aslr", "dmesg_restrict", "reboot_required"]


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def test_recorded_good_host_is_complete_and_healthy(facts_schema_errors: Any) -> None:
    facts = hsp.normalize_host_security_posture(good_host())
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["contract"] == {"id": "tecrax.host_security_posture", "version": "1.0"}
    assert facts["scope"] == {"requested": ALL, "observed": ALL, "not_observed": []}
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    assert facts["assessment"] == {"state": "healthy"}
    assert facts["unattended_upgrades"] == {
        "enabled": True,
        "package_installed": True,
        "periodic_enable": None,
        "unattended_upgrade_interval": "1",
        "update_package_lists_interval": "1",
        "upgrade_timer": {"unit": "apt-daily-upgrade.timer", "load_state": "loaded", "active_state": "active",
                          "sub_state": "waiting", "unit_file_state": "enabled", "result": "success"},
        "shutdown_service": {"unit": "unattended-upgrades.service", "load_state": "loaded",
                             "active_state": "active", "sub_state": "running", "unit_file_state": "enabled",
                             "result": "success"},
    }
    assert facts["pending_updates"] == {"total": 0, "security": 0, "package_index_files": 1,
                                        "package_index_age_seconds": 3600}
    assert facts["kernel"] == {"randomize_va_space": 2, "dmesg_restrict": 1}
    assert facts["reboot_required"] == {"required": False, "packages": None}


def test_recorded_bad_host_lists_every_finding(facts_schema_errors: Any) -> None:
    raw = good_host(
        apt_simulation=ok("apt-simulate-pending.txt"),
        randomize_va_space="0\n",
        dmesg_restrict="0\n",
        reboot_required=True,
        reboot_required_pkgs="linux-image-6.1.0-99-amd64\nlibc6\nlibc6\n\n",
        units=ok("units-timer-masked.txt"),
    )
    facts = hsp.normalize_host_security_posture(raw)
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    assert facts["assessment"] == {"state": "degraded", "reasons": [
        "upgrade_timer_not_scheduled", "security_updates_pending", "aslr_not_full", "dmesg_not_restricted",
        "reboot_required"]}
    assert facts["unattended_upgrades"]["enabled"] is False
    assert facts["unattended_upgrades"]["upgrade_timer"]["load_state"] == "masked"
    assert facts["pending_updates"]["total"] == 3
    assert facts["pending_updates"]["security"] == 2
    assert facts["kernel"] == {"randomize_va_space": 0, "dmesg_restrict": 0}
    assert facts["reboot_required"] == {"required": True, "packages": 2}


@pytest.mark.parametrize(
    "changes, reasons, installed, settings_",
    [
        ({"apt_periodic": ok("apt-periodic-disabled.txt")}, ["unattended_upgrade_interval_off"], True,
         (None, "0", "1")),
        ({"apt_periodic": ok("apt-periodic-master-switch-off.txt")}, ["apt_periodic_disabled"], True,
         ("0", "1", None)),
        ({"apt_periodic": ok("apt-periodic-unset.txt")}, ["unattended_upgrade_interval_off"], True,
         (None, None, None)),
        ({"dpkg_status": ok("dpkg-status-config-files.txt")}, ["unattended_upgrades_not_installed"], False,
         (None, "1", "1")),
        # Not installed: the periodic settings and the timer no longer matter.
        ({"dpkg_status": {"rc": 1, "out": ""}, "apt_periodic": ok("apt-periodic-unset.txt"),
          "units": ok("units-not-installed.txt")}, ["unattended_upgrades_not_installed"], False,
         (None, None, None)),
    ],
)
def test_unattended_upgrades_off(changes: dict[str, Any], reasons: list[str], installed: bool,
                                 settings_: tuple[Any, Any, Any], facts_schema_errors: Any) -> None:
    facts = hsp.normalize_host_security_posture(good_host(**changes))
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    assert facts["assessment"] == {"state": "degraded", "reasons": reasons}
    upgrades = facts["unattended_upgrades"]
    assert upgrades["enabled"] is False
    assert upgrades["package_installed"] is installed
    assert (upgrades["periodic_enable"], upgrades["unattended_upgrade_interval"],
            upgrades["update_package_lists_interval"]) == settings_


@pytest.mark.parametrize(
    "text, on",
    [
        ('APT::Periodic::Unattended-Upgrade "always";', True),
        ('APT::Periodic::Unattended-Upgrade "12h";', True),
        ('APT::Periodic::Unattended-Upgrade "7";', True),
        ('APT::Periodic::unattended-upgrade "0";', False),  # apt names are case-insensitive
        ('APT::Periodic::Unattended-Upgrade "1";\nAPT::Periodic::Unattended-Upgrade "0";', False),
        ('APT::Periodic::Enable "1";\nAPT::Periodic::Unattended-Upgrade "1";', True),
        ('APT::Periodic::Enable "2";\nAPT::Periodic::Unattended-Upgrade "1";', True),
        # Recorded: `apt-config -o apt::periodic::unattended-upgrade=1 -o APT::Periodic::Enable=1 dump
        # APT::Periodic` prints names in the case they were first written in.
        ('APT::periodic "";\nAPT::periodic::unattended-upgrade "1";\nAPT::periodic::Enable "1";', True),
        ('APT::Periodic "";\nAPT::Periodic::Verbose "a "b";c";\nAPT::Periodic::Unattended-Upgrade "1";', True),
        ('APT::Periodic::Unattended-Upgrade "1";\nAPT::Periodic::Foo::Bar "x";', True),
    ],
)
def test_periodic_interval_values(text: str, on: bool) -> None:
    facts = hsp.normalize_host_security_posture(good_host(apt_periodic={"rc": 0, "out": text}))
    assert facts["unattended_upgrades"]["enabled"] is on
    assert facts["coverage"]["state"] == "complete"


@pytest.mark.parametrize(
    "text",
    ['APT::Periodic::Unattended-Upgrade "yes";',
     'APT::Periodic::Enable "off";\nAPT::Periodic::Unattended-Upgrade "1";',
     'APT::Periodic::Unattended-Upgrade "1"', "E: Syntax error", 'Dir "/";'],
)
def test_unparsable_periodic_settings_block_the_observation(text: str, facts_schema_errors: Any) -> None:
    facts = hsp.normalize_host_security_posture(good_host(apt_periodic={"rc": 0, "out": text}))
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["unattended_upgrades"]["enabled"] is None
    assert facts["coverage"] == {"state": "partial", "blockers": ["apt_periodic_unparsed"]}
    assert facts["assessment"] == {"state": "unknown"}


def test_a_known_off_switch_settles_enablement_without_the_rest(facts_schema_errors: Any) -> None:
    facts = hsp.normalize_host_security_posture(good_host(
        apt_periodic=ok("apt-periodic-disabled.txt"), units={"rc": None, "out": ""}))
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["unattended_upgrades"]["enabled"] is False
    assert facts["unattended_upgrades"]["upgrade_timer"]["load_state"] is None
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    assert facts["assessment"] == {"state": "degraded", "reasons": ["unattended_upgrade_interval_off"]}


def test_a_non_debian_host_is_partly_observed(facts_schema_errors: Any) -> None:
    missing = {"rc": None, "out": ""}
    facts = hsp.normalize_host_security_posture(good_host(
        dpkg_status=missing, apt_periodic=missing, apt_simulation=missing,
        package_lists={"files": 0, "age_seconds": None}))
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["scope"]["observed"] == ["aslr", "dmesg_restrict", "reboot_required"]
    assert facts["coverage"] == {"state": "partial", "blockers": [
        "dpkg_status_unavailable", "apt_periodic_unavailable", "apt_get_not_found"]}
    assert facts["assessment"] == {"state": "unknown"}


@pytest.mark.parametrize(
    "changes, blocker",
    [
        ({"apt_simulation": {"rc": 100, "out": read("apt-simulate-malformed-sources.txt")}},
         "apt_simulation_failed"),
        ({"apt_simulation": {"rc": None, "out": ""}}, "apt_get_not_found"),
        ({"apt_simulation": {"rc": 0, "out": "Reading package lists...\n"}}, "apt_simulation_unparsed"),
        ({"package_lists": {"files": 0, "age_seconds": None}}, "package_lists_missing"),
        ({"package_lists": None}, "package_lists_unavailable"),
        ({"dpkg_status": {"rc": 2, "out": ""}}, "dpkg_status_unavailable"),
        ({"dpkg_status": {"rc": 0, "out": "Installed!"}}, "dpkg_status_unavailable"),
        ({"units": {"rc": 1, "out": ""}}, "upgrade_timer_unavailable"),
        ({"apt_periodic": {"rc": 100, "out": ""}}, "apt_periodic_unavailable"),
        ({"randomize_va_space": None}, "aslr_unavailable"),
        ({"dmesg_restrict": b"1 1\n"}, "dmesg_restrict_unparsed"),
        ({"dmesg_restrict": None}, "dmesg_restrict_unavailable"),
        ({"randomize_va_space": b"full"}, "aslr_unparsed"),
        ({"reboot_required": None}, "reboot_required_unavailable"),
    ],
)
def test_one_missing_observation_is_partial_and_unknown(changes: dict[str, Any], blocker: str,
                                                        facts_schema_errors: Any) -> None:
    facts = hsp.normalize_host_security_posture(good_host(**changes))
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["coverage"] == {"state": "partial", "blockers": [blocker]}
    assert facts["assessment"] == {"state": "unknown"}
    assert len(facts["scope"]["not_observed"]) == 1


def test_a_finding_still_degrades_a_partial_observation(facts_schema_errors: Any) -> None:
    facts = hsp.normalize_host_security_posture(good_host(randomize_va_space=None, dmesg_restrict="0"))
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["coverage"] == {"state": "partial", "blockers": ["aslr_unavailable"]}
    assert facts["assessment"] == {"state": "degraded", "reasons": ["dmesg_not_restricted"]}


def test_counts_need_package_lists() -> None:
    facts = hsp.normalize_host_security_posture(good_host(
        apt_simulation=ok("apt-simulate-pending.txt"), package_lists={"files": 0, "age_seconds": None}))
    # Without lists, apt's answer is not evidence: no counts and no finding.
    assert facts["pending_updates"] == {"total": None, "security": None, "package_index_files": 0,
                                        "package_index_age_seconds": None}
    assert facts["assessment"] == {"state": "unknown"}


@pytest.mark.parametrize(
    "text, expected",
    [
        (read("apt-simulate-none.txt"), (0, 0)),
        (read("apt-simulate-pending.txt"), (3, 2)),
        (read("apt-simulate-debian12-machine.txt"), (127, 81)),
        # Documented format of other releases (hand-written): several archives per candidate,
        # a Label:Version/Suite form, a new dependency (no installed version) and a removal.
        ("2 upgraded, 1 newly installed, 1 to remove and 4 not upgraded.\n"
         "Remv oldlib [1.0]\n"
         "Inst libssl3 [3.0.2-0ubuntu1.14] (3.0.2-0ubuntu1.15 Ubuntu:22.04/jammy-updates, "
         "Ubuntu:22.04/jammy-security [amd64])\n"
         "Inst newdep (2.0 Ubuntu:22.04/jammy-updates [amd64])\n"
         "Inst tzdata [2024a-0ubuntu0.22.04] (2024a-0ubuntu0.22.04.1 Ubuntu:22.04/jammy-updates [all]) []\n",
         (2, 1)),
        ("1 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"
         "Inst libc6 [2.36-9+deb12u4] (2.36-9+deb12u7 Debian:12.7/stable, Debian-Security:12/stable-security [amd64])\n",
         (1, 1)),
    ],
)
def test_apt_simulation_counts(text: str, expected: tuple[int, int]) -> None:
    assert hsp.parse_apt_simulation(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Inst bash [1] (2 Debian:bookworm [amd64])\n",  # no summary line
        "2 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\nInst bash [1] (2 Debian:x [amd64])\n",
        "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n" * 2,
        "0 aktualisiert, 0 neu installiert, 0 zu entfernen und 0 nicht aktualisiert.\n",
    ],
)
def test_apt_simulation_that_does_not_add_up_is_unparsed(text: str) -> None:
    assert hsp.parse_apt_simulation(text) is None


def test_huge_apt_simulation_is_counted_within_its_bound(facts_schema_errors: Any) -> None:
    line = "Inst pkg{0} [1.0] (1.1 Debian-Security:12/stable-security [amd64])\nConf pkg{0} (1.1 x [amd64])\n"
    body = "".join(line.format(index) for index in range(12000))
    text = "12000 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n" + body
    assert len(text) < hsp.MAX_APT_BYTES
    facts = hsp.normalize_host_security_posture(good_host(apt_simulation={"rc": 0, "out": text}))
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["pending_updates"]["total"] == facts["pending_updates"]["security"] == 12000


def test_apt_simulation_beyond_its_bound_is_refused_not_truncated() -> None:
    text = "1 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n" + "#" * hsp.MAX_APT_BYTES
    facts = hsp.normalize_host_security_posture(good_host(apt_simulation={"rc": 0, "out": text.encode()}))
    assert facts["coverage"]["blockers"] == ["apt_simulation_too_large"]
    assert facts["pending_updates"]["total"] is None


@pytest.mark.parametrize(
    "value, expected",
    [(b"2\n", 2), ("1", 1), (" 0 \n", 0), (b"3\n", None), (b"-1\n", None), (b"", None),
     (b"2 2", None), (b"\xff", None), ("9" * 100, None), (12, None)],
)
def test_sysctl_values(value: Any, expected: int | None) -> None:
    facts = hsp.normalize_host_security_posture(good_host(randomize_va_space=value))
    assert facts["kernel"]["randomize_va_space"] == expected


def test_reboot_marker_packages_are_counted_distinct_and_bounded(facts_schema_errors: Any) -> None:
    pkgs = "".join(f"pkg{index}\n" for index in range(200_000)).encode()
    facts = hsp.normalize_host_security_posture(good_host(reboot_required=True, reboot_required_pkgs=pkgs))
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["reboot_required"]["required"] is True
    # Only the first 64 KiB are read: a lower bound, never a crash.
    assert 0 < facts["reboot_required"]["packages"] < 200_000


@pytest.mark.parametrize("raw", [None, {}, [], "x", {"units": "Id=apt-daily-upgrade.timer"}])
def test_nothing_observable_is_blocked_unavailable(raw: Any, facts_schema_errors: Any) -> None:
    facts = hsp.normalize_host_security_posture(raw)
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["coverage"]["state"] == "blocked"
    assert facts["assessment"] == {"state": "unavailable"}
    assert facts["scope"]["observed"] == []


def test_hostile_settings_are_bounded_text(facts_schema_errors: Any) -> None:
    text = 'APT::Periodic::Update-Package-Lists "\x1b[31m' + "\U0001f600" * 500 + '";\n'
    facts = hsp.normalize_host_security_posture(good_host(apt_periodic={"rc": 0, "out": text}))
    assert facts_schema_errors(facts, SCHEMA) == []
    assert len(facts["unattended_upgrades"]["update_package_lists_interval"]) <= 32
    assert "\x1b" not in canonical_json(facts)
    assert len(canonical_json(facts)) < MAX_FACTS_BYTES


PROBE = st.one_of(
    st.none(),
    st.fixed_dictionaries({"rc": st.one_of(st.none(), st.integers(-1, 255), st.text(max_size=3)),
                           "out": st.one_of(st.binary(max_size=2048), st.text(max_size=2048), st.none())}),
)
RAW = st.fixed_dictionaries(
    {},
    optional={
        "dpkg_status": PROBE,
        "apt_periodic": st.one_of(PROBE, st.builds(
            lambda lines: {"rc": 0, "out": "\n".join(lines)},
            st.lists(st.builds(lambda key, value: f'APT::Periodic::{key} "{value}";',
                               st.sampled_from(["Enable", "Unattended-Upgrade", "Update-Package-Lists", "x"]),
                               st.text(max_size=12)), max_size=5))),
        "units": st.one_of(PROBE, st.just(ok("units-enabled.txt")), st.just(ok("units-timer-masked.txt"))),
        "apt_simulation": st.one_of(PROBE, st.just(ok("apt-simulate-pending.txt"))),
        "package_lists": st.one_of(st.none(), st.dictionaries(
            st.sampled_from(["files", "age_seconds"]),
            st.one_of(st.none(), st.integers(-10, 2 ** 70), st.text(max_size=4)))),
        "randomize_va_space": st.one_of(st.none(), st.binary(max_size=16), st.text(max_size=16)),
        "dmesg_restrict": st.one_of(st.none(), st.binary(max_size=16), st.text(max_size=16)),
        "reboot_required": st.one_of(st.none(), st.booleans(), st.integers()),
        "reboot_required_pkgs": st.one_of(st.none(), st.binary(max_size=1024), st.text(max_size=1024)),
    },
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RAW)
def test_arbitrary_observations_give_schema_valid_facts(facts_schema_errors: Any, raw: dict[str, Any]) -> None:
    facts = hsp.normalize_host_security_posture(raw)
    assert facts_schema_errors(facts, SCHEMA) == []
    state = facts["assessment"]["state"]
    assert (state == "degraded") == bool(facts["assessment"].get("reasons"))
    if facts["coverage"]["state"] == "blocked":
        assert state == "unavailable"
