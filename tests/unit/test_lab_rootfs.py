"""The rootfs recipe and its cache naming (pure: nothing is built)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab import rootfs
from lab.errors import LabError


def test_stamp_is_stable_and_follows_the_package_list(monkeypatch: pytest.MonkeyPatch) -> None:
    stamp = rootfs.rootfs_stamp()
    assert stamp == rootfs.rootfs_stamp()
    monkeypatch.setattr(rootfs, "PACKAGES", (*rootfs.PACKAGES, "docker.io"))
    assert rootfs.rootfs_stamp() != stamp


def test_stamp_follows_baked_files(monkeypatch: pytest.MonkeyPatch) -> None:
    stamp = rootfs.rootfs_stamp()
    monkeypatch.setitem(rootfs.BAKED_FILES, "etc/ssh/sshd_config.d/tecrax-lab.conf", "PermitRootLogin no\n")
    assert rootfs.rootfs_stamp() != stamp


def test_required_packages_are_in_the_recipe() -> None:
    for package in ("systemd", "systemd-sysv", "openssh-server", "chrony", "python3", "dbus", "iproute2", "procps"):
        assert package in rootfs.PACKAGES


def test_chrony_runs_without_clock_capability_and_never_sets_the_clock() -> None:
    drop_in = rootfs.BAKED_FILES["etc/systemd/system/chrony.service.d/lab.conf"]
    assert "ConditionCapability=\n" in drop_in
    assert "ExecStart=\nExecStart=!/usr/sbin/chronyd $DAEMON_OPTS -x\n" in drop_in


def test_sshd_takes_root_by_key_only() -> None:
    sshd = rootfs.BAKED_FILES["etc/ssh/sshd_config.d/tecrax-lab.conf"].splitlines()
    assert "PermitRootLogin prohibit-password" in sshd
    assert "PasswordAuthentication no" in sshd
    assert "KbdInteractiveAuthentication no" in sshd


def test_an_existing_cache_entry_is_reused_without_building(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TECRAX_LAB_CACHE", str(tmp_path))
    cached = tmp_path / f"rootfs-{rootfs.rootfs_stamp()}"
    cached.mkdir()

    def must_not_build(target: Path, log_path: Path) -> None:
        raise AssertionError("the cached rootfs should have been reused")

    monkeypatch.setattr(rootfs, "_debootstrap", must_not_build)
    assert rootfs.ensure_rootfs() == cached


def test_a_failed_build_leaves_no_entry_and_no_scratch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TECRAX_LAB_CACHE", str(tmp_path))

    def failing_debootstrap(target: Path, log_path: Path) -> None:
        target.mkdir(parents=True)
        raise LabError("debootstrap failed (exit 1)")

    monkeypatch.setattr(rootfs, "_debootstrap", failing_debootstrap)
    with pytest.raises(LabError, match="debootstrap failed"):
        rootfs.ensure_rootfs()
    assert not [path for path in tmp_path.iterdir() if not path.name.endswith(".lock")]


def test_flavor_stamp_follows_packages_and_revision() -> None:
    base = rootfs.Flavor("docker-host", packages=("docker.io",))
    assert base.stamp() == rootfs.Flavor("docker-host", packages=("docker.io",)).stamp()
    assert base.stamp() != rootfs.Flavor("docker-host", packages=("docker.io", "jq")).stamp()
    assert base.stamp() != rootfs.Flavor("docker-host", packages=("docker.io",), revision=2).stamp()


@pytest.mark.parametrize("name", ["", "Docker", "docker host", "../x", "a" * 40, "docker-host\n", "docker-host\r\n"])
def test_flavor_names_are_checked(name: str) -> None:
    with pytest.raises(LabError):
        rootfs.Flavor(name)
