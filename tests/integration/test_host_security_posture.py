"""collect_host_security_posture_readonly end to end: real Ansible over real SSH to lab hosts,
through the real RExecOp / GovEngine / SCLite stack.

``sec-main`` (security-posture flavor) is put into the state each test needs: unattended
upgrades on or off, the lab's security/updates repositories used or ignored, the
reboot-required marker present or absent, and kernel settings the host sees overridden by
bind mounts in its own mount namespace. ``sec-plain`` is the base rootfs as booted.
The collection passes validation whenever every observation was made, degraded or not.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import host_readonly_lab as hl
from harness import Governed, Outcome

INTENT = "collect_host_security_posture_readonly"
KEY = "host_security_posture"
ALL = ["unattended_upgrades", "pending_updates", "aslr", "dmesg_restrict", "reboot_required"]
SYSCTLS = ("randomize_va_space", "dmesg_restrict")
STAMP = "/run/tecrax-test-stamp"
# Where an observation that changed something would leave a trace.
WATCHED = ("/etc", "/var/lib/apt", "/var/cache/apt", "/var/lib/dpkg")
pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def machine_sysctls() -> dict[str, int]:
    return {name: hl.machine_sysctl(name) for name in SYSCTLS}


@pytest.fixture(scope="module")
def hosts(lab: Any, machine_sysctls: dict[str, int]) -> dict[str, Any]:
    main = lab.add_host("sec-main", flavor=hl.SECURITY_FLAVOR)
    plain = lab.add_host("sec-plain")
    yield {"main": main, "plain": plain}
    for name in SYSCTLS:
        hl.clear_sysctl(lab, main, name)
    # The overrides lived in the host's mount namespace only.
    assert {name: hl.machine_sysctl(name) for name in SYSCTLS} == machine_sysctls




def set_state(lab: Any, host: Any, *, upgrades: bool = True, security_repo: bool = False,
              updates_repo: bool = False, reboot: tuple[str, ...] | None = None,
              aslr: int = 2, dmesg: int = 1) -> None:
    hl.set_unattended_upgrades(lab, host, upgrades)
    hl.set_repository(lab, host, hl.SECURITY_SOURCES, security_repo)
    hl.set_repository(lab, host, hl.UPDATES_SOURCES, updates_repo)
    hl.set_reboot_marker(lab, host, reboot)
    hl.override_sysctl(lab, host, "randomize_va_space", aslr)
    hl.override_sysctl(lab, host, "dmesg_restrict", dmesg)


def observe(governed: Governed, lab: Any, environment: Path, host: Any) -> tuple[Outcome, dict[str, Any], float, float]:
    """Run the intent; return the outcome, its facts and the clock around the run.

    Also proves the observation changed nothing on the host: no file under WATCHED is newer
    than a stamp written just before (apt's cache files included)."""
    hl.sh(lab, host, 'touch "$1"', STAMP)
    before = time.time()
    outcome = governed.run(environment, INTENT, host.name)
    after = time.time()
    changed = hl.sh(lab, host, 'find "$@" -xdev -newer ' + STAMP, *WATCHED)
    assert changed == "", f"the observation changed files on {host.name}:\n{changed}"
    assert outcome.runtime_receipt["success"] is True, outcome.last_failure
    assert outcome.evidence_verified, outcome.evidence_checks
    facts = outcome.facts[KEY]
    assert facts["contract"] == {"id": "tecrax.host_security_posture", "version": "1.0"}
    assert outcome.step_data("observe_security_posture")["changed"] is False
    return outcome, facts, before, after


def assert_complete_collection(outcome: Outcome, facts: dict[str, Any]) -> None:
    assert outcome.state == "completed", (outcome.state, outcome.validation, outcome.last_failure)
    assert outcome.validation_passed
    assert outcome.validation["rule"] == "collect_host_security_posture_readonly.complete"
    assert facts["scope"] == {"requested": ALL, "observed": ALL, "not_observed": []}
    assert facts["coverage"] == {"state": "complete", "blockers": []}


def apt_oracle(lab: Any, host: Any) -> tuple[int, int]:
    """(upgradable, from a -security suite) as `apt list --upgradable` sees it (run afterwards:
    apt may write its cache)."""
    out = lab.exec(host, ["apt", "list", "--upgradable"]).stdout
    lines = [line for line in out.splitlines() if "[upgradable from:" in line]
    return len(lines), sum("-security" in line.split()[0] for line in lines)


def index_files(lab: Any, host: Any) -> tuple[int, int]:
    """(package index files, mtime of the newest) in the host's /var/lib/apt/lists."""
    out = hl.sh(lab, host, "find /var/lib/apt/lists -maxdepth 1 -type f -name '*_Packages*' -printf '%T@\\n'")
    times = [float(line) for line in out.split()]
    return len(times), int(max(times))


def assert_pending(lab: Any, host: Any, facts: dict[str, Any], before: float, after: float,
                   security: int) -> None:
    pending = facts["pending_updates"]
    files, newest = index_files(lab, host)
    assert pending["package_index_files"] == files > 0
    assert int(before) - newest - 1 <= pending["package_index_age_seconds"] <= int(after) - newest + 1
    assert (pending["total"], pending["security"]) == apt_oracle(lab, host)
    assert pending["security"] == security


TIMER_WAITING = {"unit": "apt-daily-upgrade.timer", "load_state": "loaded", "active_state": "active",
                 "sub_state": "waiting", "unit_file_state": "enabled", "result": "success"}
SHUTDOWN_RUNNING = {"unit": "unattended-upgrades.service", "load_state": "loaded", "active_state": "active",
                    "sub_state": "running", "unit_file_state": "enabled", "result": "success"}


def test_hardened_host_is_healthy(lab: Any, hosts: dict[str, Any], environment: Path, governed: Governed) -> None:
    host = hosts["main"]
    set_state(lab, host)
    outcome, facts, before, after = observe(governed, lab, environment, host)

    assert_complete_collection(outcome, facts)
    assert facts["assessment"] == {"state": "healthy"}
    assert facts["unattended_upgrades"] == {
        "enabled": True, "package_installed": True, "periodic_enable": None,
        "unattended_upgrade_interval": "1", "update_package_lists_interval": "1",
        "upgrade_timer": TIMER_WAITING, "shutdown_service": SHUTDOWN_RUNNING,
    }
    assert facts["kernel"] == {"randomize_va_space": 2, "dmesg_restrict": 1}
    assert facts["reboot_required"] == {"required": False, "packages": None}
    assert_pending(lab, host, facts, before, after, security=0)


def test_every_finding_at_once_is_degraded_and_still_a_complete_collection(
    lab: Any, hosts: dict[str, Any], environment: Path, governed: Governed
) -> None:
    host = hosts["main"]
    set_state(lab, host, upgrades=False, security_repo=True, updates_repo=True,
              reboot=("linux-image-6.1.0-99-amd64", "libc6"), aslr=0, dmesg=0)
    outcome, facts, before, after = observe(governed, lab, environment, host)

    assert_complete_collection(outcome, facts)
    assert facts["assessment"] == {"state": "degraded", "reasons": [
        "unattended_upgrade_interval_off", "security_updates_pending", "aslr_not_full", "dmesg_not_restricted",
        "reboot_required"]}
    upgrades = facts["unattended_upgrades"]
    assert (upgrades["enabled"], upgrades["package_installed"], upgrades["unattended_upgrade_interval"]) == (
        False, True, "0")
    assert upgrades["upgrade_timer"] == TIMER_WAITING
    assert facts["kernel"] == {"randomize_va_space": 0, "dmesg_restrict": 0}
    assert facts["reboot_required"] == {"required": True, "packages": 2}
    assert_pending(lab, host, facts, before, after, security=2)
    assert facts["pending_updates"]["total"] >= 3


@pytest.mark.parametrize(
    "state, reasons, check",
    [
        ({"reboot": ()}, ["reboot_required"], ("reboot_required", {"required": True, "packages": 0})),
        ({"aslr": 1}, ["aslr_not_full"], ("kernel", {"randomize_va_space": 1, "dmesg_restrict": 1})),
        ({"security_repo": True}, ["security_updates_pending"], None),
        ({"upgrades": False}, ["unattended_upgrade_interval_off"], None),
    ],
    ids=["reboot-marker-without-packages", "aslr-partial", "security-updates", "unattended-upgrades-off"],
)
def test_one_finding(lab: Any, hosts: dict[str, Any], environment: Path, governed: Governed,
                     state: dict[str, Any], reasons: list[str], check: tuple[str, Any] | None) -> None:
    host = hosts["main"]
    set_state(lab, host, **state)
    outcome, facts, before, after = observe(governed, lab, environment, host)
    assert_complete_collection(outcome, facts)
    assert facts["assessment"] == {"state": "degraded", "reasons": reasons}
    if check is not None:
        assert facts[check[0]] == check[1]
    assert_pending(lab, host, facts, before, after, security=2 if state.get("security_repo") else 0)


def test_plain_host_as_booted(lab: Any, hosts: dict[str, Any], environment: Path, governed: Governed,
                              machine_sysctls: dict[str, int]) -> None:
    host = hosts["plain"]
    outcome, facts, before, after = observe(governed, lab, environment, host)

    assert_complete_collection(outcome, facts)
    # No override here: the host sees the machine's kernel settings.
    seen = {name: hl.read_sysctl(lab, host, name) for name in SYSCTLS}
    assert seen == machine_sysctls
    assert facts["kernel"] == seen
    expected = ["unattended_upgrades_not_installed"]
    if seen["randomize_va_space"] != 2:
        expected.append("aslr_not_full")
    if seen["dmesg_restrict"] != 1:
        expected.append("dmesg_not_restricted")
    assert facts["assessment"] == {"state": "degraded", "reasons": expected}
    assert facts["unattended_upgrades"] == {
        "enabled": False, "package_installed": False, "periodic_enable": None,
        "unattended_upgrade_interval": None, "update_package_lists_interval": None,
        # The lab rootfs masks the timer; the service unit does not exist without the package.
        "upgrade_timer": {"unit": "apt-daily-upgrade.timer", "load_state": "masked", "active_state": "inactive",
                          "sub_state": "dead", "unit_file_state": "masked", "result": "success"},
        "shutdown_service": {"unit": "unattended-upgrades.service", "load_state": "not-found",
                             "active_state": "inactive", "sub_state": "dead", "unit_file_state": None,
                             "result": "success"},
    }
    assert facts["reboot_required"] == {"required": False, "packages": None}
    assert_pending(lab, host, facts, before, after, security=0)


def test_a_list_only_root_may_read_falls_back_to_caches_in_memory(
    lab: Any, hosts: dict[str, Any], environment: Path, governed: Governed
) -> None:
    """apt as nobody cannot read the list, so the module simulates again as root with its
    caches in memory: the same counts, nothing written."""
    host = hosts["main"]
    set_state(lab, host, security_repo=True)
    security_list = "/var/lib/apt/lists/_srv_tecrax-lab-apt_security_._Packages"
    hl.sh(lab, host, 'chmod 0600 "$1"', security_list)
    try:
        as_nobody = lab.exec(host, ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                    "apt-get", "-s", "-q", "dist-upgrade"])
        assert as_nobody.returncode != 0, as_nobody.stdout
        outcome, facts, before, after = observe(governed, lab, environment, host)
    finally:
        hl.sh(lab, host, 'chmod 0644 "$1"', security_list)
    assert_complete_collection(outcome, facts)
    assert facts["assessment"] == {"state": "degraded", "reasons": ["security_updates_pending"]}
    assert_pending(lab, host, facts, before, after, security=2)


def test_stale_caches_are_built_in_memory_not_written(
    lab: Any, hosts: dict[str, Any], environment: Path, governed: Governed
) -> None:
    """The sources changed and nothing rebuilt apt's caches: apt, as nobody, cannot write
    them; it builds them in memory and sees the new source's updates."""
    host = hosts["main"]
    set_state(lab, host)
    hl.set_repository(lab, host, hl.SECURITY_SOURCES, True, refresh_caches=False)
    outcome, facts, before, after = observe(governed, lab, environment, host)
    assert_complete_collection(outcome, facts)
    assert facts["assessment"] == {"state": "degraded", "reasons": ["security_updates_pending"]}
    assert_pending(lab, host, facts, before, after, security=2)
