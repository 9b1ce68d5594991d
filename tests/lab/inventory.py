"""Ansible inventory for lab hosts."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from lab.model import Host
from lab.ssh import ansible_ssh_args


def inventory_document(hosts: Iterable[Host]) -> dict[str, Any]:
    """YAML inventory: every host self-contained, pinned to the lab's key and known_hosts."""
    return {
        "all": {
            "hosts": {
                host.name: {
                    "ansible_host": host.address,
                    "ansible_port": host.port,
                    "ansible_user": host.user,
                    "ansible_ssh_private_key_file": str(host.private_key),
                    "ansible_ssh_common_args": ansible_ssh_args(host.known_hosts),
                    "ansible_python_interpreter": "/usr/bin/python3",
                }
                for host in hosts
            }
        }
    }


def write_inventory(path: Path, hosts: Iterable[Host]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(inventory_document(hosts), sort_keys=False))
    return path
