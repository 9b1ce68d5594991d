"""Lab hosts for tests, molecule and benchmarks: real systemd Debian hosts booted with
systemd-nspawn in network namespaces on a private bridge (see tests/lab/README.md).

    from lab import Lab
    with Lab() as lab:
        alpha, beta = lab.boot(["alpha", "beta"])
        lab.ssh(alpha, "systemctl is-system-running")
"""

from lab.chroot import apt_install, chroot_run, chroot_session, write_file
from lab.errors import CommandError, LabError
from lab.lab import Lab, missing_requirements, require_lab_support
from lab.model import Host
from lab.rootfs import Flavor, ensure_layers, ensure_rootfs
from lab.stale import cleanup_stale, list_labs

__all__ = [
    "CommandError",
    "Flavor",
    "Host",
    "Lab",
    "LabError",
    "apt_install",
    "chroot_run",
    "chroot_session",
    "cleanup_stale",
    "ensure_layers",
    "ensure_rootfs",
    "list_labs",
    "missing_requirements",
    "require_lab_support",
    "write_file",
]
