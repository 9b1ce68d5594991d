"""Running commands inside a not-yet-booted host or layer tree (chroot), e.g. apt-get.

Used to provision a host's overlay before boot (roles) and to build flavor layers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from lab.commands import run
from lab.errors import LabError
from lab.mounts import bind_mount, unmount

CHROOT_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "DEBIAN_FRONTEND": "noninteractive",
}
# Exit status 101 tells invoke-rc.d/deb-systemd-invoke "action forbidden": without it,
# package scripts would start daemons on the machine itself rather than in a host.
DENY_SERVICE_STARTS = "#!/bin/sh\nexit 101\n"


def _real_directory(root: Path, relative: str) -> Path:
    """`root/relative`, refusing symlinks (they would point at the machine's own files)."""
    path = root / relative
    if path.is_symlink() or not path.is_dir():
        raise LabError(f"{path} is not a plain directory; refusing to mount onto it")
    return path


@contextmanager
def chroot_session(root: Path) -> Iterator[Path]:
    """Mount /proc, /sys, /dev and the machine's resolv.conf into `root`; deny service
    starts for its duration. Everything is undone on exit."""
    with ExitStack() as undo:
        proc = _real_directory(root, "proc")
        run(["mount", "-t", "proc", "proc", proc])
        undo.callback(unmount, proc)

        sys_dir = _real_directory(root, "sys")
        run(["mount", "-t", "sysfs", "-o", "ro", "sysfs", sys_dir])
        undo.callback(unmount, sys_dir)

        for device_dir in ("dev", "dev/pts"):
            target = _real_directory(root, device_dir)
            bind_mount(Path("/") / device_dir, target)
            undo.callback(unmount, target)

        resolv_conf = root / "etc/resolv.conf"
        if resolv_conf.is_file() and not resolv_conf.is_symlink():
            bind_mount(Path("/etc/resolv.conf"), resolv_conf, read_only=True)
            undo.callback(unmount, resolv_conf)

        policy = root / "usr/sbin/policy-rc.d"
        if not policy.exists():
            policy.write_text(DENY_SERVICE_STARTS)
            policy.chmod(0o755)
            undo.callback(policy.unlink)
        yield root


def chroot_run(root: Path, argv: Sequence[str], *, timeout: float = 900.0) -> str:
    """Run `argv` chrooted into `root` (inside a chroot_session if it needs /proc or /dev)."""
    return run(["chroot", root, *argv], env=CHROOT_ENV, timeout=timeout).stdout


def apt_install(root: Path, packages: Sequence[str]) -> None:
    """Install Debian packages into `root` from the network, without starting them."""
    if not packages:
        return
    with chroot_session(root):
        chroot_run(root, ["apt-get", "update", "-q"])
        chroot_run(root, ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages])
        chroot_run(root, ["apt-get", "clean"])


def write_file(root: Path, relative: str, content: str, mode: int = 0o644) -> Path:
    """Write a file inside `root` (parents created), refusing paths that escape it."""
    path = root / relative.lstrip("/")
    if os.path.commonpath([root.resolve(), path.resolve()]) != str(root.resolve()):
        raise LabError(f"{relative} escapes {root}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    path.chmod(mode)
    return path
