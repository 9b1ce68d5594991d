"""A cgroup of its own for each host's systemd-nspawn.

With `--keep-unit` and no service manager around, nspawn creates its `payload` and
`supervisor` cgroups next to its own cgroup. Started from a process in the root cgroup,
every host would share one `/payload` cgroup, so each nspawn first joins
`<hierarchy>/tecrax-lab/<machine>` in the hierarchies systemd tracks processes with.
"""

from __future__ import annotations

import os
from pathlib import Path

from lab.mounts import mount_table

GROUP_DIR = "tecrax-lab"


def tracking_hierarchies() -> list[Path]:
    """Mount points of the unified (v2) hierarchy and of the v1 `name=systemd` one."""
    return [
        entry.mount_point
        for entry in mount_table()
        if entry.fs_type == "cgroup2" or (entry.fs_type == "cgroup" and "name=systemd" in entry.super_options)
    ]


def host_cgroups(machine: str) -> list[Path]:
    return [hierarchy / GROUP_DIR / machine for hierarchy in tracking_hierarchies()]


def create_host_cgroups(machine: str) -> list[Path]:
    """Create the host's cgroups; return their `cgroup.procs` files for nspawn to join."""
    procs_files = []
    for cgroup in host_cgroups(machine):
        cgroup.mkdir(parents=True, exist_ok=True)
        procs_files.append(cgroup / "cgroup.procs")
    return procs_files


def remove_host_cgroups(machine: str) -> list[str]:
    """Remove the host's cgroup trees bottom-up; return the ones that could not be removed."""
    leftovers = []
    for cgroup in host_cgroups(machine):
        if not cgroup.exists():
            continue
        for directory, _subdirs, _files in sorted(os.walk(cgroup), key=lambda walked: -len(walked[0])):
            try:
                os.rmdir(directory)
            except OSError as error:
                leftovers.append(f"{directory}: {error.strerror}")
    return leftovers
