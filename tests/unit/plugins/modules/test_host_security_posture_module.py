"""The tecrax.ops.host_security_posture module, run in-process.

Commands are answered with recorded lab output through the command runner; the files the
module reads are redirected into a temporary directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils import basic

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import CommandResult, CommandRunner
from ansible_collections.tecrax.ops.plugins.module_utils.host import host_security_posture as collection
from ansible_collections.tecrax.ops.plugins.modules import host_security_posture as module
from unit.recorded_commands import exited
from unit import module_runner

SCHEMA = "host_security_posture.v1.schema.json"
DATA = Path(__file__).resolve().parents[2] / "data" / "host_security_posture"
RECORDED = {
    "dpkg-query": (0, "dpkg-status-installed.txt"),
    "apt-config": (0, "apt-periodic-debian-default.txt"),
    "systemctl": (0, "units-enabled.txt"),
    "apt-get": (0, "apt-simulate-pending.txt"),
}


def run_module(capsys: pytest.CaptureFixture[str], args: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    return module_runner.run_module(module.main, capsys, args)[:2]


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A recorded host: commands answer from test data, files live under tmp_path."""
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "mirror.example.invalid_debian_dists_bookworm_main_binary-amd64_Packages").write_text("Package: x\n")
    (lists / "mirror.example.invalid_debian_dists_bookworm_InRelease").write_text("")
    (lists / "partial").mkdir()
    os.utime(lists / "mirror.example.invalid_debian_dists_bookworm_main_binary-amd64_Packages", (0, 1000))
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "randomize_va_space").write_text("2\n")
    (proc / "dmesg_restrict").write_text("0\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / "reboot-required").write_text("*** System restart required ***\n")
    (run / "reboot-required.pkgs").write_text("linux-image-amd64\n")
    monkeypatch.setattr(collection, "APT_LISTS", str(lists))
    monkeypatch.setattr(collection, "RANDOMIZE_VA_SPACE", str(proc / "randomize_va_space"))
    monkeypatch.setattr(collection, "DMESG_RESTRICT", str(proc / "dmesg_restrict"))
    monkeypatch.setattr(collection, "REBOOT_REQUIRED", str(run / "reboot-required"))
    monkeypatch.setattr(collection, "REBOOT_REQUIRED_PKGS", str(run / "reboot-required.pkgs"))
    monkeypatch.setattr(collection.time, "time", lambda: 5000.0)

    # "unprivileged_rc": what apt-get answers when run as nobody through setpriv.
    state: dict[str, Any] = {"calls": [], "missing": set(), "tmp": tmp_path, "euid": 0, "unprivileged_rc": 0}

    def get_bin_path(self: Any, name: str, *args: Any, **kwargs: Any) -> str | None:
        return None if name in state["missing"] else "/usr/bin/" + name

    def run(self: CommandRunner, argv: Any, **kwargs: Any) -> CommandResult:
        state["calls"].append((argv, kwargs))
        if os.path.basename(argv[0]) == "setpriv":
            rc, name = state["unprivileged_rc"], RECORDED[os.path.basename(argv[len(collection.AS_NOBODY) + 1])][1]
        else:
            rc, name = RECORDED[os.path.basename(argv[0])]
        return exited(rc, (DATA / name).read_bytes()[:kwargs.get("max_output_bytes", collection.MAX_RAW_BYTES)])

    monkeypatch.setattr(os, "geteuid", lambda: state["euid"])
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", get_bin_path)
    monkeypatch.setattr(CommandRunner, "run", run)
    return state


@pytest.mark.parametrize("check_mode", [False, True])
def test_module_observes_everything(capsys: pytest.CaptureFixture[str], facts_schema_errors: Any,
                                    host: dict[str, Any], check_mode: bool) -> None:
    code, result = run_module(capsys, {"_ansible_check_mode": check_mode})
    assert code == 0
    assert result["changed"] is False and "failed" not in result
    facts = result["facts"]
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    assert facts["assessment"] == {"state": "degraded", "reasons": [
        "security_updates_pending", "dmesg_not_restricted", "reboot_required"]}
    assert facts["unattended_upgrades"]["enabled"] is True
    assert facts["pending_updates"] == {"total": 3, "security": 2, "package_index_files": 1,
                                        "package_index_age_seconds": 4000}
    assert facts["kernel"] == {"randomize_va_space": 2, "dmesg_restrict": 0}
    assert facts["reboot_required"] == {"required": True, "packages": 1}


def test_commands_are_fixed_and_change_nothing(capsys: pytest.CaptureFixture[str], host: dict[str, Any]) -> None:
    run_module(capsys)
    argvs = [args for args, _options in host["calls"]]
    assert argvs == [
        ["/usr/bin/dpkg-query", "-W", "-f=${db:Status-Status}\\n", "unattended-upgrades"],
        ["/usr/bin/apt-config", "dump", "APT::Periodic"],
        ["/usr/bin/systemctl", "show", "--no-pager",
         "--property=Id,LoadState,ActiveState,SubState,UnitFileState,Result",
         "apt-daily-upgrade.timer", "unattended-upgrades.service"],
        AS_NOBODY + ["/usr/bin/apt-get", "-s", "-q", "-o", "Debug::NoLocking=true", "dist-upgrade"],
    ]
    for _args, options in host["calls"]:
        assert options["environ_update"] == {"LANGUAGE": "", "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0"}


AS_NOBODY = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
APT_IN_MEMORY = ["/usr/bin/apt-get", "-s", "-q", "-o", "Debug::NoLocking=true", "-o", "Dir::Cache::pkgcache=",
                 "-o", "Dir::Cache::srcpkgcache=", "dist-upgrade"]


@pytest.mark.parametrize("situation", ["not root", "no setpriv", "fails as nobody"])
def test_apt_builds_its_caches_in_memory_unless_it_runs_as_nobody(
        capsys: pytest.CaptureFixture[str], host: dict[str, Any], situation: str) -> None:
    if situation == "not root":
        host["euid"] = 1000
    elif situation == "no setpriv":
        host["missing"].add("setpriv")
    else:
        host["unprivileged_rc"] = 100
    code, result = run_module(capsys)
    apt_calls = [args for args, _options in host["calls"] if "dist-upgrade" in args]
    tried_as_nobody = [AS_NOBODY + APT_IN_MEMORY[:5] + ["dist-upgrade"]] if situation == "fails as nobody" else []
    assert apt_calls == tried_as_nobody + [APT_IN_MEMORY]
    assert code == 0
    assert result["facts"]["pending_updates"]["total"] == 3
    assert result["facts"]["coverage"] == {"state": "complete", "blockers": []}


def test_missing_tools_and_files_are_reported_not_fatal(capsys: pytest.CaptureFixture[str],
                                                        facts_schema_errors: Any, host: dict[str, Any]) -> None:
    host["missing"].update({"dpkg-query", "apt-config", "apt-get", "systemctl"})
    tmp = host["tmp"]
    for name in ("proc/randomize_va_space", "proc/dmesg_restrict", "run/reboot-required",
                 "run/reboot-required.pkgs"):
        (tmp / name).unlink()
    code, result = run_module(capsys)
    assert code == 0
    facts = result["facts"]
    assert facts_schema_errors(facts, SCHEMA) == []
    # An absent marker is an observation (no reboot required); the rest could not be observed.
    assert facts["scope"]["observed"] == ["reboot_required"]
    assert facts["coverage"]["blockers"] == [
        "dpkg_status_unavailable", "apt_periodic_unavailable", "upgrade_timer_unavailable",
        "apt_get_not_found", "aslr_unavailable", "dmesg_restrict_unavailable"]
    assert facts["assessment"] == {"state": "unknown"}
    assert facts["reboot_required"] == {"required": False, "packages": None}
    assert host["calls"] == []


def test_package_list_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collection, "APT_LISTS", str(tmp_path / "absent"))
    assert collection.package_lists(100.0) == {"files": 0, "age_seconds": None}
    lists = tmp_path / "lists"
    lists.mkdir()
    for index, name in enumerate(["a_Packages", "b_Packages.lz4", "c_InRelease", "lock"]):
        (lists / name).write_text("")
        os.utime(lists / name, (0, 10 * (index + 1)))
    (lists / "d_Packages").symlink_to(lists / "lock")
    (lists / "partial").mkdir()
    monkeypatch.setattr(collection, "APT_LISTS", str(lists))
    assert collection.package_lists(100.0) == {"files": 2, "age_seconds": 80}
    assert collection.package_lists(0.0) == {"files": 2, "age_seconds": 0}  # clock behind: never negative


def test_module_refuses_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run_module(capsys, {"update": True})
    assert code == 1
    assert result["failed"] is True
    assert "update" in result["msg"]
