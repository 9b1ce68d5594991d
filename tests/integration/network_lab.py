"""A lab host that plays network devices, and the controller side that reaches them.

No TP-Link or HPE switch can run here, so one lab host stands in for several: its sshd
accepts one key per device for the user ``netcli``, and each key's ``authorized_keys`` entry
forces the command ``tecrax-fake-device <case>``. That program reads CLI commands from the
SSH session's standard input, as a switch's CLI does, and answers the ones the device knows
with the composed device output of ``tests/unit/data/network/<case>`` (the same files the
unit tests use, so the end-to-end facts can be compared with the unit-tested ones); it
answers other commands with the vendor's error line.

The controller side is the reference wrapper ``examples/wrappers/tecrax-network-cli-readonly``
(copied, with one ``devices/<target>.conf`` per device), which talks to that host over real
SSH with strict host key checking.

Built with the lab's public API only; nothing is cached (provisioning is a few file writes).
"""

from __future__ import annotations

import atexit
import importlib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from lab import Host, Lab, chroot_run, write_file

REPO_ROOT = Path(__file__).resolve().parents[2]
DEVICE_DATA = REPO_ROOT / "tests" / "unit" / "data" / "network"
REFERENCE_WRAPPER = REPO_ROOT / "examples" / "wrappers" / "tecrax-network-cli-readonly"
WRAPPER_NAME = "tecrax-network-cli-readonly"
DEVICE_USER = "netcli"
FAKE_DEVICE = "usr/local/libexec/tecrax-fake-device"
DEVICE_ROOT = "srv/tecrax-devices"

# The device CLI: which command prints which composed output, per wrapper family.
FAKE_DEVICE_PROGRAM = r'''#!/usr/bin/python3
"""Answers CLI commands read from standard input like a switch (tecrax lab fixture)."""
import sys

FAMILIES = {
    "tplink_jetstream": {
        "commands": {"show system-info": "system-info.txt", "show ip ssh": "ssh-status.txt"},
        "silent": (),
        "quit": ("exit", "logout"),
        "error": "Error: Bad command\r\n",
    },
    "hpe_comware5": {
        "commands": {"display version": "system-info.txt",
                     "display device manuinfo": "system-info.txt",
                     "display ssh server status": "ssh-status.txt",
                     "display ssh server session": "ssh-status.txt"},
        "silent": ("screen-length disable",),
        "quit": ("quit",),
        "error": "% Unrecognized command found at '^' position.\r\n",
    },
}


def main():
    case = sys.argv[1]
    directory = "/srv/tecrax-devices/" + case + "/"
    with open(directory + "family") as handle:
        family = FAMILIES[handle.read().strip()]
    out = sys.stdout.buffer
    printed = set()
    for line in sys.stdin:
        command = " ".join(line.split()).lower()
        if not command or command in family["silent"]:
            continue
        if command in family["quit"]:
            break
        name = family["commands"].get(command)
        if name is None:
            out.write(family["error"].encode())
        elif name not in printed:
            # The composed file holds the whole transcript of this wrapper subcommand.
            printed.add(name)
            with open(directory + name, "rb") as handle:
                out.write(handle.read())
        out.flush()


main()
'''


@dataclass(frozen=True)
class Device:
    """One device the lab host plays: a target, its composed outputs and its CLI family."""

    target: str
    case: str
    family: str  # tplink_jetstream | hpe_comware5 (what the operator configured)


def network_device_normalizer() -> ModuleType:
    """The collection's normalizer module (``ansible_collections.tecrax.ops`` made importable
    through a temporary link to the bundled collection when no runner provides it)."""
    name = "ansible_collections.tecrax.ops.plugins.module_utils.network.network_device"
    try:
        return importlib.import_module(name)
    except ImportError:
        from tecrax import collection_root

        link_root = Path(tempfile.mkdtemp(prefix="tecrax-collection-"))
        atexit.register(shutil.rmtree, link_root, True)
        (link_root / "ansible_collections" / "tecrax").mkdir(parents=True)
        (link_root / "ansible_collections" / "tecrax" / "ops").symlink_to(collection_root())
        sys.path.insert(0, str(link_root))
        for loaded in [key for key in sys.modules if key.startswith("ansible_collections")]:
            del sys.modules[loaded]
        return importlib.import_module(name)


def generate_device_keys(directory: Path, devices: list[Device]) -> dict[str, Path]:
    """One ed25519 client key per device (the wrapper's identity for it)."""
    directory.mkdir(parents=True, exist_ok=True)
    keys = {}
    for device in devices:
        key = directory / f"{device.target}.key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", device.target, "-f", str(key)],
                       check=True, capture_output=True)
        keys[device.target] = key
    return keys


def provisioner(devices: list[Device], keys: dict[str, Path]):
    """``provision(root)`` for the device host: user, forced commands, fake CLI, outputs."""

    def provision(root: Path) -> None:
        chroot_run(root, ["useradd", "--create-home", "--shell", "/bin/sh", DEVICE_USER])
        write_file(root, FAKE_DEVICE, FAKE_DEVICE_PROGRAM, mode=0o755)
        lines = []
        for device in devices:
            case_dir = root / DEVICE_ROOT / device.case
            case_dir.mkdir(parents=True, exist_ok=True)
            for source in (DEVICE_DATA / device.case).glob("*.txt"):
                shutil.copyfile(source, case_dir / source.name)
            write_file(root, f"{DEVICE_ROOT}/{device.case}/family", device.family + "\n")
            public_key = keys[device.target].with_suffix(".key.pub").read_text().strip()
            lines.append(f'restrict,command="/{FAKE_DEVICE} {device.case}" {public_key}\n')
        home = f"home/{DEVICE_USER}"
        write_file(root, f"{home}/.ssh/authorized_keys", "".join(lines), mode=0o600)
        uid, gid = _ids(root, DEVICE_USER)
        for path in (root / home / ".ssh", root / home / ".ssh" / "authorized_keys"):
            shutil.chown(path, uid, gid)
        (root / home / ".ssh").chmod(0o700)

    return provision


def _ids(root: Path, user: str) -> tuple[int, int]:
    for line in (root / "etc" / "passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2]), int(fields[3])
    raise LookupError(f"{user} not in the host's /etc/passwd")


def boot_device_host(lab: Lab, name: str, devices: list[Device], keys: dict[str, Path]) -> Host:
    return lab.add_host(name, provision=provisioner(devices, keys))


def install_wrapper(directory: Path, lab: Lab, configs: dict[str, dict[str, str]]) -> Path:
    """Copy the reference wrapper to ``directory`` with one devices/<target>.conf each.

    ``configs`` maps target -> {host, family, identity_file}; the lab's known_hosts file is
    the wrapper's, so host keys are checked strictly.
    """
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    wrapper = directory / WRAPPER_NAME
    shutil.copyfile(REFERENCE_WRAPPER, wrapper)
    wrapper.chmod(0o755)
    devices = directory / "devices"
    devices.mkdir(exist_ok=True)
    devices.chmod(0o755)
    for target, config in configs.items():
        text = (
            f"# {target} (tecrax lab)\n"
            f"host={config['host']}\n"
            "port=22\n"
            f"user={DEVICE_USER}\n"
            f"family={config['family']}\n"
            f"identity_file={config['identity_file']}\n"
            f"known_hosts_file={lab.known_hosts}\n"
            "connect_timeout=3\n"
        )
        (devices / f"{target}.conf").write_text(text, encoding="utf-8")
    return wrapper
