"""The cached root filesystems lab hosts boot from.

The base is a Debian minbase tree built once by debootstrap; a *flavor* is a cached
overlay layer on top of it with extra packages (e.g. a docker host). Hosts mount
`flavor layer : base` read-only below their own writable upper dir. A cache entry's
name carries a digest of its recipe, so changing the package list or a baked file
builds a new entry instead of reusing a stale one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab import settings
from lab.chroot import apt_install
from lab.errors import LabError, text_tail
from lab.mounts import mount_overlay, remove_tree, unmount
from lab.settings import progress

SUITE = "bookworm"
PACKAGES = (
    "systemd",
    "systemd-sysv",
    "openssh-server",
    "chrony",
    "python3",
    "dbus",
    "iproute2",
    "procps",
)
# Bump when the build steps change in a way the data below does not show.
RECIPE_REVISION = 2

# The Debian unit is skipped without CAP_SYS_TIME, which lab hosts lack; `-x` makes
# chronyd run without ever touching the clock ('!' keeps the stock unit's root start).
CHRONY_DROP_IN = """\
[Unit]
ConditionCapability=
[Service]
ExecStart=
ExecStart=!/usr/sbin/chronyd $DAEMON_OPTS -x
"""
# Each host gets its own ed25519 host key before boot; none is baked into the cache.
SSHD_DROP_IN = """\
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostKey /etc/ssh/ssh_host_ed25519_key
UseDNS no
"""
BAKED_FILES = {
    "etc/systemd/system/chrony.service.d/lab.conf": CHRONY_DROP_IN,
    "etc/ssh/sshd_config.d/tecrax-lab.conf": SSHD_DROP_IN,
    "etc/hostname": "localhost\n",
    "etc/machine-id": "",  # written per host before boot
}
# A login prompt nobody reads, and timers that would fail or mark hosts degraded mid-test.
MASKED_UNITS = (
    "console-getty.service",
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "fstrim.timer",
    "e2scrub_all.timer",
)
RELEASE_FILE = "etc/tecrax-lab-rootfs.json"


def recipe() -> dict[str, Any]:
    return {
        "revision": RECIPE_REVISION,
        "suite": SUITE,
        "variant": "minbase",
        "packages": list(PACKAGES),
        "files": BAKED_FILES,
        "masked_units": list(MASKED_UNITS),
    }


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def rootfs_stamp() -> str:
    """Digest of the base recipe; part of the cache directory's name."""
    return _digest(recipe())


@contextmanager
def _entry_lock(cache: Path, entry: str) -> Iterator[None]:
    """One lock per cache entry: building one flavor does not hold up another."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f".{entry}.lock", "a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(f"waiting for another process building {cache / entry}")
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _build_once(entry: str, build: Callable[[Path], Path]) -> Path:
    """The cache entry `entry`, built first if missing: under the entry's lock, in a
    scratch dir, then renamed into place, so an entry that exists is complete.

    `build(scratch)` returns the finished tree, somewhere inside `scratch`.
    """
    cache = settings.cache_dir()
    final = cache / entry
    if final.exists():
        return final
    with _entry_lock(cache, entry):
        if final.exists():  # built by another process while we waited
            return final
        for abandoned in cache.glob(f".build-{entry}-*"):  # an interrupted build
            progress(f"removing abandoned build {abandoned}")
            remove_tree(abandoned)
        scratch = Path(tempfile.mkdtemp(prefix=f".build-{entry}-", dir=cache))
        try:
            started = time.monotonic()
            os.rename(build(scratch), final)
            progress(f"built {final} in {time.monotonic() - started:.0f} s")
        finally:
            remove_tree(scratch)
    return final


def ensure_rootfs() -> Path:
    """The base rootfs for the current recipe, built on first use (about a minute)."""

    entry = f"rootfs-{rootfs_stamp()}"

    def build(scratch: Path) -> Path:
        target = scratch / "rootfs"
        _debootstrap(target, settings.cache_dir() / f"{entry}.debootstrap.log")
        _bake(target)
        return target

    return _build_once(entry, build)


# debootstrap prints one "I: <Verb> <package>" line per package and step; showing the
# first line of each verb keeps the progress readable.
_VERB = re.compile(r"^I: (\w+)")


def _debootstrap(target: Path, log_path: Path) -> None:
    argv = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(target),
    ]
    mirror = settings.debian_mirror()
    if mirror:
        argv.append(mirror)
    progress(f"building the Debian {SUITE} rootfs with debootstrap (about a minute, once)")
    seen_verbs: set[str] = set()
    try:
        with (
            open(log_path, "w") as log,
            subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            ) as process,
        ):
            assert process.stdout is not None
            for line in process.stdout:
                log.write(line)
                verb = _VERB.match(line)
                if verb is None or verb.group(1) not in seen_verbs:
                    progress(f"debootstrap: {line.rstrip()}")
                    seen_verbs.add(verb.group(1) if verb else "")
            returncode = process.wait()
    except FileNotFoundError as error:
        raise LabError("debootstrap is not installed (apt-get install debootstrap)") from error
    if returncode != 0:
        raise LabError(
            f"debootstrap failed (exit {returncode}): {' '.join(argv)}\n"
            f"last lines of {log_path}:\n{text_tail(log_path.read_text())}"
        )


def _bake(root: Path) -> None:
    """Lab settings written into the fresh tree (no chroot needed)."""
    for relative, content in BAKED_FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)  # machine-id is read-only
        path.write_text(content)
        path.chmod(0o644)
    for unit in MASKED_UNITS:
        link = root / "etc/systemd/system" / unit
        link.unlink(missing_ok=True)
        link.symlink_to("/dev/null")
    dbus_machine_id = root / "var/lib/dbus/machine-id"
    dbus_machine_id.unlink(missing_ok=True)
    dbus_machine_id.symlink_to("/etc/machine-id")
    for host_key in (root / "etc/ssh").glob("ssh_host_*"):
        host_key.unlink()
    for downloaded_package in (root / "var/cache/apt/archives").glob("*.deb"):
        downloaded_package.unlink()
    (root / RELEASE_FILE).write_text(json.dumps({"stamp": rootfs_stamp(), **recipe()}, indent=1) + "\n")


# --- flavors ---------------------------------------------------------------------------

Provisioner = Callable[[Path], object]
_FLAVOR_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")


@dataclass(frozen=True)
class Flavor:
    """A cached layer over the base rootfs: `packages` installed, then `provision(root)`.

    `provision` gets the mounted tree (not booted); it may write files or use
    lab.chroot (chroot_session, chroot_run, apt_install). Its code is not part of
    the digest: bump `revision` when it changes.
    """

    name: str
    packages: tuple[str, ...] = ()
    provision: Provisioner | None = None
    revision: int = 1

    def __post_init__(self) -> None:
        if not _FLAVOR_NAME.fullmatch(self.name):
            raise LabError(f"invalid flavor name {self.name!r} (want [a-z][a-z0-9-]*)")

    def stamp(self) -> str:
        return _digest(
            {"base": rootfs_stamp(), "name": self.name, "packages": self.packages, "revision": self.revision}
        )


def ensure_layers(flavor: Flavor | None = None) -> list[Path]:
    """Read-only layers for a host, topmost first: [flavor layer,] base rootfs."""
    base = ensure_rootfs()
    if flavor is None:
        return [base]

    def build(scratch: Path) -> Path:
        progress(f"building flavor {flavor.name!r} (packages: {', '.join(flavor.packages) or 'none'})")
        layer, merged = scratch / "layer", scratch / "merged"
        mount_overlay([base], layer, scratch / "work", merged)
        try:
            apt_install(merged, flavor.packages)
            if flavor.provision is not None:
                flavor.provision(merged)
        finally:
            unmount(merged)
        return layer

    return [_build_once(f"flavor-{flavor.name}-{flavor.stamp()}", build), base]
