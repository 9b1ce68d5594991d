"""SSH to lab hosts: keys, known_hosts lines and strict client options."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

from lab.commands import run
from lab.model import Host


def generate_key(private_key: Path, comment: str) -> str:
    """Create an ed25519 key pair without passphrase; return the public key line."""
    private_key.unlink(missing_ok=True)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", private_key])
    return private_key.with_name(private_key.name + ".pub").read_text().strip()


def known_hosts_line(address: str, port: int, public_key_line: str) -> str:
    """A known_hosts entry for `address:port` from a `TYPE BASE64 [comment]` public key."""
    key_type, key_data = public_key_line.split()[:2]
    pattern = address if port == 22 else f"[{address}]:{port}"
    return f"{pattern} {key_type} {key_data}"


def host_key_options(known_hosts: Path) -> list[str]:
    """Trust exactly the lab's known_hosts: no other file, no prompt, no learning keys."""
    return [
        "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={known_hosts}",
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "UpdateHostKeys=no",
    ]  # fmt: skip


def client_options(private_key: Path, known_hosts: Path) -> list[str]:
    """Host key pinning plus the lab's key only, never prompting."""
    return [
        *host_key_options(known_hosts),
        "-o", "IdentitiesOnly=yes",
        "-o", f"IdentityFile={private_key}",
        "-o", "BatchMode=yes",
    ]  # fmt: skip


def command_argv(host: Host, command: str | Sequence[str], *, connect_timeout: float = 5.0) -> list[str]:
    """`ssh` argv running `command` (a shell string, or argv that gets quoted) on a host."""
    remote = command if isinstance(command, str) else shlex.join(command)
    return [
        "ssh",
        "-F", "none",  # the caller's ~/.ssh/config must not change lab connections
        *client_options(host.private_key, host.known_hosts),
        "-o", f"ConnectTimeout={max(1, round(connect_timeout))}",
        "-o", "LogLevel=ERROR",
        "-p", str(host.port),
        "-l", host.user,
        host.address,
        "--",
        remote,
    ]  # fmt: skip


def ansible_ssh_args(known_hosts: Path) -> str:
    """`ansible_ssh_common_args` (Ansible passes the key via ansible_ssh_private_key_file)."""
    return shlex.join([*host_key_options(known_hosts), "-o", "IdentitiesOnly=yes"])
