"""Inventory and SSH options for lab hosts (pure)."""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml

from lab.inventory import inventory_document, write_inventory
from lab.model import Host
from lab.ssh import command_argv, known_hosts_line

KEY = Path("/lab state/id_ed25519")
KNOWN_HOSTS = Path("/lab state/known_hosts")
HOSTS = [
    Host("alpha", "198.18.3.2", 22, "root", KEY, KNOWN_HOSTS),
    Host("beta", "198.18.3.3", 22, "root", KEY, KNOWN_HOSTS),
]


def test_inventory_describes_every_host_completely(tmp_path: Path) -> None:
    path = write_inventory(tmp_path / "inventory.yml", HOSTS)
    hosts = yaml.safe_load(path.read_text())["all"]["hosts"]
    assert list(hosts) == ["alpha", "beta"]
    assert hosts["beta"] == {
        "ansible_host": "198.18.3.3",
        "ansible_port": 22,
        "ansible_user": "root",
        "ansible_ssh_private_key_file": str(KEY),
        "ansible_ssh_common_args": hosts["beta"]["ansible_ssh_common_args"],
        "ansible_python_interpreter": "/usr/bin/python3",
    }


def test_inventory_ssh_args_pin_the_labs_known_hosts() -> None:
    common_args = inventory_document(HOSTS)["all"]["hosts"]["alpha"]["ansible_ssh_common_args"]
    args = shlex.split(common_args)
    assert f"UserKnownHostsFile={KNOWN_HOSTS}" in args  # one argument despite the space
    assert "StrictHostKeyChecking=yes" in args
    assert "GlobalKnownHostsFile=/dev/null" in args


def test_known_hosts_line_uses_brackets_only_for_other_ports() -> None:
    key = "ssh-ed25519 AAAAC3Nza root@alpha"
    assert known_hosts_line("198.18.3.2", 22, key) == "198.18.3.2 ssh-ed25519 AAAAC3Nza"
    assert known_hosts_line("198.18.3.2", 2222, key) == "[198.18.3.2]:2222 ssh-ed25519 AAAAC3Nza"


def test_ssh_command_is_strict_and_ignores_user_config() -> None:
    argv = command_argv(HOSTS[0], ["echo", "two words"])
    assert argv[:3] == ["ssh", "-F", "none"]
    assert "BatchMode=yes" in argv and "StrictHostKeyChecking=yes" in argv
    assert f"IdentityFile={KEY}" in argv and "IdentitiesOnly=yes" in argv
    assert argv[-3:] == ["198.18.3.2", "--", "echo 'two words'"]
