"""SSH master reuse: one control socket per target *and* trust settings, in a private
directory; anything unsafe or switched off falls back to no master at all."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rexecop.connectors import ConnectorRequest

from backend_config import ssh_config
from tecrax.backend import build_backend, ssh_control
from tecrax.backend import runtime as backend_runtime
from tecrax.backend.config import ConfigError, parse_connector_config
from tecrax.backend.playbook_run import PlaybookRun

OPTIONS = {"StrictHostKeyChecking": "yes", "BatchMode": "yes", "IdentitiesOnly": "yes"}


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A private directory with a short path (pytest's tmp_path is too long for a socket)."""
    directory = Path(tempfile.mkdtemp(prefix="tx-", dir="/tmp"))
    yield directory
    shutil.rmtree(directory)


@pytest.fixture
def control_dir(short_dir: Path) -> Path:
    return short_dir


@pytest.fixture
def known_hosts(tmp_path: Path) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text("198.51.100.7 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOneKeyOnly\n")
    return path


def socket_of(control_dir: Path, known_hosts: Path, **kwargs: Any) -> str:
    options = control_options(control_dir, known_hosts, **kwargs)
    assert options["ControlMaster"] == "auto" and options["ControlPersist"] == "60s"
    return options["ControlPath"]


def control_options(control_dir: Path, known_hosts: Path, **kwargs: Any) -> dict[str, str]:
    return ssh_control.control_options(
        kwargs.pop("options", OPTIONS), persist_seconds=kwargs.pop("persist_seconds", 60),
        known_hosts_file=str(known_hosts), directory=control_dir, **kwargs,
    )


def test_same_settings_share_one_socket_per_target(control_dir: Path, known_hosts: Path) -> None:
    path = socket_of(control_dir, known_hosts)
    assert path == socket_of(control_dir, known_hosts)
    assert path.startswith(f"{control_dir}/") and path.endswith("-%C")  # ssh adds host, port, user


def test_a_changed_known_hosts_file_gets_a_socket_of_its_own(control_dir: Path, known_hosts: Path) -> None:
    before = socket_of(control_dir, known_hosts)
    known_hosts.write_text("")  # the host key was removed: the next run must check again
    emptied = socket_of(control_dir, known_hosts)
    assert emptied != before
    copy = known_hosts.with_name("other_known_hosts")
    copy.write_text(known_hosts.read_text())
    assert socket_of(control_dir, copy) != emptied


def test_another_identity_gets_a_socket_of_its_own(control_dir: Path, known_hosts: Path, tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    key.write_text("first key\n")
    first = socket_of(control_dir, known_hosts, identity_file=str(key))
    assert first != socket_of(control_dir, known_hosts)
    key.unlink()
    key.write_text("replaced key\n")  # same path, a new file
    replaced = socket_of(control_dir, known_hosts, identity_file=str(key))
    assert replaced != first
    material = socket_of(control_dir, known_hosts, key_material="-----BEGIN KEY A-----\n")
    assert material != socket_of(control_dir, known_hosts, key_material="-----BEGIN KEY B-----\n")
    assert material not in (first, replaced)


def test_other_ssh_options_get_a_socket_of_their_own(control_dir: Path, known_hosts: Path) -> None:
    looser = {**OPTIONS, "IdentitiesOnly": "no"}
    assert socket_of(control_dir, known_hosts, options=looser) != socket_of(control_dir, known_hosts)


def test_persist_zero_means_no_master(control_dir: Path, known_hosts: Path) -> None:
    assert control_options(control_dir, known_hosts, persist_seconds=0) == {"ControlMaster": "no"}


def test_a_socket_path_too_long_for_unix_sockets_means_no_master(tmp_path: Path, known_hosts: Path) -> None:
    deep = tmp_path / ("d" * 60)
    deep.mkdir(mode=0o700)
    assert control_options(deep, known_hosts) == {"ControlMaster": "no"}


def test_the_control_directory_is_private_and_created_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime_dir = tmp_path / "run"
    runtime_dir.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime_dir))
    directory = ssh_control.control_directory()
    assert directory == runtime_dir / ssh_control.DIRECTORY_NAME
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    directory.chmod(0o755)  # loosened by hand: tightened again, it is ours
    assert ssh_control.control_directory() == directory
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_a_symlinked_control_directory_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime_dir = tmp_path / "run"
    runtime_dir.mkdir(mode=0o700)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (runtime_dir / ssh_control.DIRECTORY_NAME).symlink_to(elsewhere)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime_dir))
    assert ssh_control.control_directory() is None


@pytest.mark.skipif(os.geteuid() != 0, reason="making a directory of another user needs root")
def test_a_control_directory_of_another_user_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime_dir = tmp_path / "run"
    runtime_dir.mkdir(mode=0o700)
    foreign = runtime_dir / ssh_control.DIRECTORY_NAME
    foreign.mkdir(mode=0o700)
    os.chown(foreign, 65534, 65534)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime_dir))
    assert ssh_control.control_directory() is None


def test_a_home_cache_others_may_write_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".cache").mkdir(mode=0o700)
    assert ssh_control.control_directory() == tmp_path / ".cache" / ssh_control.DIRECTORY_NAME
    (tmp_path / ".cache").chmod(0o777)
    assert ssh_control.control_directory() is None


def test_the_setting_is_checked_and_defaults_to_a_minute() -> None:
    assert parse_connector_config(ssh_config({"web-1": {"host": "198.51.100.7"}})).ssh_control_persist_seconds == 60
    off = parse_connector_config(ssh_config({"web-1": {"host": "198.51.100.7"}}, ssh_control_persist_seconds=0))
    assert off.ssh_control_persist_seconds == 0
    for bad in (-1, 3601, "60", True):
        with pytest.raises(ConfigError, match="^ssh_control_persist_seconds must be"):
            parse_connector_config(ssh_config({"web-1": {"host": "198.51.100.7"}}, ssh_control_persist_seconds=bad))


def ssh_args_of_a_run(monkeypatch: pytest.MonkeyPatch, config: dict[str, Any]) -> str:
    runs: list[dict[str, Any]] = []

    def fake_run(**kwargs: Any) -> PlaybookRun:
        runs.append(kwargs)
        return PlaybookRun("failed", 2, 0.1, {})

    monkeypatch.setattr(backend_runtime, "run_playbook", fake_run)
    backend = build_backend(connector_name="tecrax_ansible", config=config)
    backend.invoke(ConnectorRequest("tecrax_ansible", "host_inventory", "web-1", "observe", {}))
    (run,) = runs
    return str(run["ssh_args"])


def test_a_run_reuses_masters_and_still_checks_host_keys_strictly(
    monkeypatch: pytest.MonkeyPatch, short_dir: Path, known_hosts: Path
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short_dir))
    args = ssh_args_of_a_run(monkeypatch, ssh_config({"web-1": {"host": "198.51.100.7"}},
                                                     known_hosts_file=str(known_hosts)))
    assert f"-o UserKnownHostsFile={known_hosts}" in args
    assert "-o StrictHostKeyChecking=yes" in args and "-o GlobalKnownHostsFile=/dev/null" in args
    assert "-o ControlMaster=auto" in args and "-o ControlPersist=60s" in args
    assert f"-o ControlPath={short_dir}/{ssh_control.DIRECTORY_NAME}/" in args


def test_a_run_without_reuse_opens_no_master(monkeypatch: pytest.MonkeyPatch, known_hosts: Path) -> None:
    args = ssh_args_of_a_run(monkeypatch, ssh_config({"web-1": {"host": "198.51.100.7"}},
                                                     known_hosts_file=str(known_hosts),
                                                     ssh_control_persist_seconds=0))
    assert "-o ControlMaster=no" in args and "ControlPath" not in args and "ControlPersist" not in args
