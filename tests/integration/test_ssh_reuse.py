"""SSH master reuse across governed runs, on a real lab host through RExecOp.

Consecutive runs with the same trust settings log in once (the host's sshd counts the
logins); a run whose known_hosts file or key differs makes its own connection, so host key
checking and key authentication still decide it; a killed master leaves a stale socket that
the next run replaces; ``ssh_control_persist_seconds: 0`` logs in every time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from harness import Governed, LabTarget, write_environment
from tecrax.backend.ssh_control import control_directory

INTENT = "collect_basic_host_inventory"
# Long enough that the master outlives the gap between two runs on a loaded machine.
PERSIST = {"ssh_control_persist_seconds": 900}
pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def host(lab: Any) -> Any:
    (booted,) = lab.boot(["reuse"])
    booted_at[booted.name] = time.time()
    return booted


booted_at: dict[str, float] = {}


def environment(tmp_path: Path, lab: Any, host: Any, *, known_hosts: Path | None = None, **connector: Any) -> Path:
    return write_environment(
        tmp_path / "environment.yaml", [LabTarget(host.name, host.address, host.port)],
        known_hosts=known_hosts or lab.known_hosts, connector={**PERSIST, **connector},
    )


def master_sockets(host: Any) -> list[Path]:
    """Control sockets of masters to ``host`` (ssh names them ``<trust digest>-%C``) made
    since it booted (an earlier lab may have had a host at the same address)."""
    expanded = subprocess.run(
        ["ssh", "-G", "-F", "none", "-o", "ControlPath=%C", "-p", str(host.port), f"{host.user}@{host.address}"],
        capture_output=True, text=True, check=True,
    ).stdout
    (host_hash,) = [line.split()[1] for line in expanded.splitlines() if line.startswith("controlpath ")]
    directory = control_directory()
    assert directory is not None
    return sorted(path for path in directory.glob(f"*-{host_hash}") if path.lstat().st_mtime >= booted_at[host.name])


def master_pid(socket: Path) -> int:
    checked = subprocess.run(["ssh", "-F", "none", "-O", "check", "-o", f"ControlPath={socket}", "unused"],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    return int(checked.stderr.split("pid=")[1].split(")")[0])


def test_consecutive_runs_log_in_once(tmp_path: Path, lab: Any, host: Any) -> None:
    governed = Governed(tmp_path / "rexecop", lab.private_key)
    env = environment(tmp_path, lab, host)
    before = lab.sshd_accepted_count(host)
    for _ in range(3):
        outcome = governed.run(env, INTENT, host.name)
        assert outcome.state == "completed" and outcome.evidence_verified, outcome.last_failure
    assert lab.sshd_accepted_count(host) == before + 1
    assert len(master_sockets(host)) == 1


def test_host_keys_are_still_checked_while_a_master_is_up(tmp_path: Path, lab: Any, host: Any) -> None:
    governed = Governed(tmp_path / "rexecop", lab.private_key)
    assert governed.run(environment(tmp_path, lab, host), INTENT, host.name).state == "completed"
    logins = lab.sshd_accepted_count(host)

    unknown = tmp_path / "empty_known_hosts"
    unknown.write_text("")
    other_key = subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "hostkey")],
                               check=True)
    assert other_key.returncode == 0
    wrong = tmp_path / "wrong_known_hosts"
    public = (tmp_path / "hostkey.pub").read_text().split()
    wrong.write_text(f"{host.address} {public[0]} {public[1]}\n")
    for known_hosts in (unknown, wrong):
        outcome = governed.run(environment(tmp_path, lab, host, known_hosts=known_hosts), INTENT, host.name)
        assert outcome.state == "failed"
        assert outcome.last_failure["error_class"] == "auth_failed"
    assert lab.sshd_accepted_count(host) == logins


def test_another_key_is_still_authenticated_while_a_master_is_up(tmp_path: Path, lab: Any, host: Any) -> None:
    env = environment(tmp_path, lab, host)
    assert Governed(tmp_path / "rexecop", lab.private_key).run(env, INTENT, host.name).state == "completed"
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    outcome = Governed(tmp_path / "rexecop", stranger).run(env, INTENT, host.name)
    assert outcome.state == "failed"
    assert outcome.last_failure["error_class"] == "auth_failed"


def test_a_killed_master_is_replaced_by_the_next_run(tmp_path: Path, lab: Any, host: Any) -> None:
    governed = Governed(tmp_path / "rexecop", lab.private_key)
    env = environment(tmp_path, lab, host)
    assert governed.run(env, INTENT, host.name).state == "completed"
    (socket,) = master_sockets(host)
    os.kill(master_pid(socket), signal.SIGKILL)
    assert socket.exists()  # stale: nobody listens on it any more
    logins = lab.sshd_accepted_count(host)
    assert governed.run(env, INTENT, host.name).state == "completed"
    assert lab.sshd_accepted_count(host) == logins + 1
    assert master_pid(socket) > 0


def test_persist_zero_logs_in_every_time(tmp_path: Path, lab: Any, host: Any) -> None:
    governed = Governed(tmp_path / "rexecop", lab.private_key)
    env = environment(tmp_path, lab, host, ssh_control_persist_seconds=0)
    before = lab.sshd_accepted_count(host)
    for _ in range(2):
        assert governed.run(env, INTENT, host.name).state == "completed"
    assert lab.sshd_accepted_count(host) == before + 2
