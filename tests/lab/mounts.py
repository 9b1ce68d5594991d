"""Mounting overlays and removing trees that may still have something mounted inside."""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lab.commands import run
from lab.errors import LabError

MOUNTINFO = Path("/proc/self/mountinfo")


@dataclass(frozen=True)
class MountEntry:
    mount_point: Path
    fs_type: str
    source: str
    super_options: tuple[str, ...]


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as octal (e.g. "\040").
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), field)


def mount_table(mountinfo: Path = MOUNTINFO) -> list[MountEntry]:
    entries = []
    for line in mountinfo.read_text().splitlines():
        before, _, after = line.partition(" - ")
        fs_type, source, super_options = after.split(" ", 2)
        entries.append(
            MountEntry(
                Path(_unescape(before.split(" ")[4])),
                fs_type,
                _unescape(source),
                tuple(super_options.split(",")),
            )
        )
    return entries


def mounts_under(path: Path) -> list[Path]:
    """Mount points at or below `path`, deepest first (the order to unmount them in)."""
    root = path.resolve()
    found = {
        entry.mount_point for entry in mount_table() if entry.mount_point == root or root in entry.mount_point.parents
    }
    return sorted(found, key=lambda point: len(point.parts), reverse=True)


def is_mount_point(path: Path) -> bool:
    return path.resolve() in {entry.mount_point for entry in mount_table()}


def mount_overlay(lower_dirs: Sequence[Path], upper: Path, work: Path, merged: Path) -> None:
    """Mount an overlay of `lower_dirs` (topmost first) with a writable `upper` on `merged`."""
    for directory in (*lower_dirs, upper, work):
        if any(char in str(directory) for char in ",:"):
            raise LabError(f"overlayfs cannot use a path containing ',' or ':': {directory}")
    for directory in (upper, work, merged):
        directory.mkdir(parents=True, exist_ok=True)
    lower = ":".join(str(directory) for directory in lower_dirs)
    options = f"lowerdir={lower},upperdir={upper},workdir={work}"
    run(["mount", "-t", "overlay", "overlay", "-o", options, merged])


def bind_mount(source: Path, target: Path, *, read_only: bool = False) -> None:
    run(["mount", "--bind", source, target])
    if read_only:
        run(["mount", "-o", "remount,bind,ro", target])


def unmount(path: Path) -> None:
    """Unmount `path`; if it is busy, detach it lazily so teardown can go on."""
    result = run(["umount", path], check=False)
    if result.returncode != 0 and is_mount_point(path):
        run(["umount", "--lazy", path])


def unmount_all_under(path: Path) -> None:
    for mount_point in mounts_under(path):
        unmount(mount_point)


def remove_tree(path: Path) -> None:
    """Delete a directory tree, first unmounting anything mounted inside it.

    Deleting through a leftover bind mount (e.g. a chroot's /dev) would delete files
    of the machine itself, so this refuses while anything is still mounted below.
    """
    if not path.exists():
        return
    unmount_all_under(path)
    remaining = mounts_under(path)
    if remaining:
        raise LabError(f"refusing to delete {path}: still mounted: {', '.join(map(str, remaining))}")
    shutil.rmtree(path)
