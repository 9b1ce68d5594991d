"""The lab-host manager on real hosts: boot, SSH, systemd, chrony, faults, teardown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from lab import Flavor, Host, Lab, write_file
from lab.cgroups import host_cgroups
from lab.commands import run
from lab.lab import NSPAWN_PROPAGATE_DIR, slot_registry
from lab.mounts import mount_table
from lab.network import link_exists, namespace_exists
from lab.processes import is_running
from lab.ssh import command_argv

pytestmark = pytest.mark.lab


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def test_hosts_answer_ssh_as_themselves(lab: Lab, lab_hosts: dict[str, Host]) -> None:
    assert sorted(lab_hosts) == ["alpha", "beta", "gamma"]
    for name, host in lab_hosts.items():
        assert host.address.startswith("198.18.") or host.address.startswith("198.19.")
        assert lab.ssh(host, "hostname", check=True).stdout.strip() == name


def test_known_hosts_pins_each_hosts_own_key(lab: Lab, lab_hosts: dict[str, Host], tmp_path: Path) -> None:
    alpha, beta = lab_hosts["alpha"], lab_hosts["beta"]
    known = lab.known_hosts.read_text().splitlines()
    keys = {}
    for host in (alpha, beta):
        served = lab.exec(host, ["cat", "/etc/ssh/ssh_host_ed25519_key.pub"], check=True).stdout.split()[:2]
        assert f"{host.address} {' '.join(served)}" in known
        keys[host.name] = " ".join(served)
    assert keys["alpha"] != keys["beta"], "hosts must not share a host key"

    # Alpha's address with beta's key: strict checking must refuse to connect.
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"{alpha.address} {keys['beta']}\n")
    refused = run(command_argv(replace(alpha, known_hosts=wrong), "true"), check=False)
    assert refused.returncode == 255
    assert "Host key verification failed" in refused.stderr

    # No entry at all is refused too: nothing is learned on first use.
    empty = tmp_path / "empty_known_hosts"
    empty.touch()
    refused = run(command_argv(replace(alpha, known_hosts=empty), "true"), check=False)
    assert refused.returncode == 255
    assert empty.read_text() == ""


def test_systemd_finished_booting(lab: Lab, lab_hosts: dict[str, Host]) -> None:
    for host in lab_hosts.values():
        state = lab.ssh(host, "systemctl is-system-running").stdout.strip()
        assert state in ("running", "degraded"), f"{host.name}: {state}"


def test_chrony_tracks_after_restart(lab: Lab, lab_hosts: dict[str, Host]) -> None:
    alpha = lab_hosts["alpha"]
    result = lab.ssh(alpha, "systemctl restart chrony && chronyc -n tracking", check=True)
    assert "Reference ID" in result.stdout
    assert lab.exec(alpha, ["systemctl", "is-active", "chrony"]).stdout.strip() == "active"


def test_exec_inspects_a_host_without_logging_in(lab: Lab, lab_hosts: dict[str, Host]) -> None:
    beta = lab_hosts["beta"]
    before = lab.sshd_accepted_count(beta)
    assert before >= 1  # the boot probe logged in once

    assert lab.exec(beta, ["hostname"], check=True).stdout.strip() == "beta"
    lab.exec(beta, ["systemctl", "is-system-running"])
    assert lab.sshd_accepted_count(beta) == before

    lab.ssh(beta, "true", check=True)
    assert wait_for(lambda: lab.sshd_accepted_count(beta) == before + 1), lab.sshd_accepted_count(beta)


def test_stopped_sshd_and_cut_link_are_reversible_faults(lab: Lab, lab_hosts: dict[str, Host]) -> None:
    gamma = lab_hosts["gamma"]
    lab.stop_service(gamma, "ssh")
    try:
        refused = lab.ssh(gamma, "true", connect_timeout=3)
        assert refused.returncode == 255 and "refused" in refused.stderr
    finally:
        lab.start_service(gamma, "ssh")
    lab.ssh(gamma, "true", check=True)

    lab.cut_link(gamma)
    try:
        unreachable = lab.ssh(gamma, "true", connect_timeout=2)
        assert unreachable.returncode == 255
        assert any(reason in unreachable.stderr for reason in ("timed out", "No route to host")), unreachable.stderr
        assert lab.exec(gamma, ["true"]).returncode == 0  # the host itself still runs
    finally:
        lab.restore_link(gamma)
    lab.ssh(gamma, "true", check=True)


def test_hang_command_blocks_until_the_block_ends(lab: Lab, lab_hosts: dict[str, Host]) -> None:
    # nproc, not uname: the login's MOTD scripts run uname themselves.
    beta = lab_hosts["beta"]
    with lab.hang_command(beta, "/usr/bin/nproc") as hung:
        caller = subprocess.Popen(command_argv(beta, "nproc; echo rc=$?"), stdout=subprocess.PIPE, text=True)
        try:
            assert wait_for(lambda: len(hung.running()) == 1, timeout=60), "nproc never started"
            assert caller.poll() is None  # still waiting on the hung nproc
        except BaseException:
            caller.kill()
            raise
    # On exit the hung process is killed (SIGKILL: exit status 128 + 9) and nproc is itself again.
    output, _ = caller.communicate(timeout=60)
    assert output == "rc=137\n"
    assert lab.ssh(beta, "nproc", check=True).stdout.strip().isdigit()
    assert lab.exec(beta, ["test", "-e", hung.work_dir]).returncode == 1


@pytest.mark.parametrize(("name", "force"), [("delta", False), ("zeta", True)])
def test_stop_host_makes_its_address_unreachable(lab: Lab, lab_hosts: dict[str, Host], name: str, force: bool) -> None:
    host = lab.add_host(name)
    lab.ssh(host, "true", check=True)
    namespace = lab.network.namespace(name)
    merged = lab.paths.host(name).merged
    nspawn_pid = lab.paths.host(name).read_pid()
    init_pid = lab.init_pid(name)

    lab.stop_host(host, force=force)

    result = lab.ssh(host, "true", connect_timeout=5)
    assert result.returncode == 255
    # Nothing answers for the address any more (no neighbour): refused at once by the
    # kernel rather than waiting out the connect timeout.
    assert "No route to host" in result.stderr, result.stderr
    assert name not in lab.hosts
    assert not any(is_running(pid) for pid in (nspawn_pid, init_pid) if pid is not None)
    assert not namespace_exists(namespace)
    assert merged not in {entry.mount_point for entry in mount_table()}
    lab.ssh(lab_hosts["alpha"], "true", check=True)  # the others are unaffected


def test_flavor_layer_and_provisioning_before_boot(lab: Lab) -> None:
    marker_flavor = Flavor(
        "lab-selftest",
        provision=lambda root: write_file(root, "etc/lab-flavor", "from the flavor layer\n"),
    )

    def provision(root: Path) -> None:
        write_file(root, "etc/lab-role", "provisioned before boot\n")

    host = lab.add_host("epsilon", flavor=marker_flavor, provision=provision)
    try:
        shown = lab.ssh(host, "cat /etc/lab-flavor /etc/lab-role", check=True).stdout
        assert shown == "from the flavor layer\nprovisioned before boot\n"
    finally:
        lab.stop_host(host)


def test_teardown_leaves_nothing_behind() -> None:
    with Lab() as own_lab:
        own_lab.boot(["one", "two"])
        network = own_lab.network
        state_dir = own_lab.state_dir
        namespaces = [network.namespace(name) for name in ("one", "two")]
        veths = [network.veth(index) for index in (0, 1)]
        nspawn_pids = [own_lab.paths.host(name).read_pid() for name in ("one", "two")]
        init_pids = [own_lab.init_pid(name) for name in ("one", "two")]
        cgroups = [cgroup for namespace in namespaces for cgroup in host_cgroups(namespace)]
        assert all(namespace_exists(namespace) for namespace in namespaces)
        assert all(cgroup.exists() for cgroup in cgroups)

    assert not any(namespace_exists(namespace) for namespace in namespaces)
    assert not any(link_exists(link) for link in (*veths, network.bridge))
    assert not [entry for entry in mount_table() if str(state_dir) in str(entry.mount_point)]
    assert not any(is_running(pid) for pid in (*nspawn_pids, *init_pids) if pid is not None)
    assert not any(cgroup.exists() for cgroup in cgroups)
    assert not any((NSPAWN_PROPAGATE_DIR / namespace).exists() for namespace in namespaces)
    assert not state_dir.exists()
    with slot_registry().locked():
        assert network.slot not in {record.slot for record in slot_registry().records()}


def test_cli_up_gives_an_inventory_ansible_can_use_and_down_removes_the_lab(tmp_path: Path) -> None:
    state_dir = tmp_path / "lab"
    tests_dir = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(tests_dir)}
    up = subprocess.run(
        [sys.executable, "-m", "lab", "up", "--hosts", "2", "--name-prefix", "m", "--state-dir", str(state_dir)],
        capture_output=True, text=True, env=env, timeout=180, check=False,
    )  # fmt: skip
    assert up.returncode == 0, up.stderr
    described = json.loads(up.stdout)
    try:
        assert [host["name"] for host in described["hosts"]] == ["m1", "m2"]
        ansible = Path(sys.executable).with_name("ansible")
        ansible_env = {**env, "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible"), "ANSIBLE_HOST_KEY_CHECKING": "True"}
        pinged = subprocess.run(
            [str(ansible), "-i", described["inventory"], "all", "-m", "ansible.builtin.ping", "-o"],
            capture_output=True, text=True, env=ansible_env, timeout=120, check=False,
        )  # fmt: skip
        assert pinged.returncode == 0, pinged.stdout + pinged.stderr
        assert pinged.stdout.count("SUCCESS") == 2
    finally:
        down = subprocess.run(
            [sys.executable, "-m", "lab", "down", "--state-dir", str(state_dir)],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip
    assert down.returncode == 0, down.stderr
    assert not state_dir.exists()
    assert not link_exists(described["bridge"])
