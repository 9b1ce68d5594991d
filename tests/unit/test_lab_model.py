"""Lab state on disk, host names, process identity and mount table parsing (pure)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lab.errors import CommandError, LabError
from lab.lab import missing_requirements
from lab.model import HostRecord, LabState, check_host_name
from lab.mounts import mount_table
from lab.processes import ProcessRef


@pytest.mark.parametrize("name", ["alpha", "h1", "ntp-server", "a"])
def test_valid_host_names(name: str) -> None:
    assert check_host_name(name) == name


@pytest.mark.parametrize("name", ["", "Alpha", "1host", "host-", "a_b", "a.b", "x" * 33, "../etc", "alpha\n", "alpha\r\n"])
def test_invalid_host_names(name: str) -> None:
    with pytest.raises(LabError):
        check_host_name(name)


def test_lab_state_round_trips(tmp_path: Path) -> None:
    state = LabState(slot=7, next_index=2)
    state.hosts["alpha"] = HostRecord("alpha", 0, "198.18.7.2", ["/cache/rootfs-x"])
    path = tmp_path / "lab.json"
    state.save(path)
    assert LabState.load(path) == state


def test_lab_state_of_another_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lab.json"
    path.write_text('{"format": 999, "slot": 1, "hosts": {}, "next_index": 0}')
    with pytest.raises(LabError, match="format"):
        LabState.load(path)


def test_missing_lab_state_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(LabError, match=str(tmp_path)):
        LabState.load(tmp_path / "lab.json")


def test_process_ref_tells_a_reused_pid_from_the_original() -> None:
    me = ProcessRef.current()
    assert me.is_alive()
    assert not ProcessRef(me.pid, me.start_ticks + 1).is_alive()
    assert ProcessRef.from_json(me.to_json()) == me
    assert ProcessRef.from_json(None) is None


def test_process_ref_of_a_finished_process_is_dead() -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    ref = ProcessRef.of(pid)
    os.waitpid(pid, 0)
    assert ref is None or not ref.is_alive()


def test_mount_table_unescapes_paths(tmp_path: Path) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "44 27 0:39 / /var/tmp/lab\\040one/merged rw,relatime - overlay overlay rw,lowerdir=/a,upperdir=/b\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime shared:9 - cgroup cgroup rw,name=systemd\n"
    )
    overlay, cgroup = mount_table(mountinfo)
    assert overlay.mount_point == Path("/var/tmp/lab one/merged")
    assert overlay.fs_type == "overlay"
    assert cgroup.fs_type == "cgroup" and "name=systemd" in cgroup.super_options


def test_command_error_names_the_command_and_its_stderr_tail() -> None:
    error = CommandError(["ip", "link", "add"], 2, "", "line 1\nRTNETLINK answers: File exists\n")
    assert "exit 2" in str(error)
    assert "ip link add" in str(error)
    assert "RTNETLINK answers: File exists" in str(error)


def test_missing_requirements_name_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    monkeypatch.setattr("shutil.which", lambda tool: None if tool == "systemd-nspawn" else "/bin/x")
    problems = missing_requirements()
    assert any("root" in problem for problem in problems)
    assert "systemd-nspawn is missing (apt-get install systemd-container)" in problems


def test_inotify_limits_are_raised_not_lowered(tmp_path: Path) -> None:
    from lab.lab import INOTIFY_LIMITS, raise_inotify_limits

    (tmp_path / "max_user_instances").write_text("128\n")
    (tmp_path / "max_user_watches").write_text("1048576\n")
    assert raise_inotify_limits(tmp_path) == {"max_user_instances": 128}
    assert int((tmp_path / "max_user_instances").read_text()) == INOTIFY_LIMITS["max_user_instances"]
    assert (tmp_path / "max_user_watches").read_text() == "1048576\n"
