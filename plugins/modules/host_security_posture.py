#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file host_security_posture.yml beside this one.

import os
import time

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import (
    CommandRunner,
    read_bounded,
    run_host_module,
)
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import MAX_RAW_BYTES
from ansible_collections.tecrax.ops.plugins.module_utils.host.host_security_posture import (
    MAX_APT_BYTES,
    PACKAGE,
    UNITS,
    normalize_host_security_posture,
)
from ansible_collections.tecrax.ops.plugins.module_utils.common.systemd_show import show_argv

# The runner adds the C locale.
COMMAND_ENVIRONMENT = {"LANGUAGE": "", "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0"}
# No lock is taken or waited for, and apt's binary caches are built in memory instead of
# being (re)written under /var/cache/apt: the simulation changes nothing on the host.
APT_SIMULATION = ("-s", "-q",
                  "-o", "Debug::NoLocking=true",
                  "-o", "Dir::Cache::pkgcache=",
                  "-o", "Dir::Cache::srcpkgcache=",
                  "dist-upgrade")
APT_LISTS = "/var/lib/apt/lists"
MAX_LIST_ENTRIES = 10000
RANDOMIZE_VA_SPACE = "/proc/sys/kernel/randomize_va_space"
DMESG_RESTRICT = "/proc/sys/kernel/dmesg_restrict"
REBOOT_REQUIRED = "/var/run/reboot-required"
REBOOT_REQUIRED_PKGS = "/var/run/reboot-required.pkgs"


def probe(commands: CommandRunner, binary: str, argv: list[str], max_bytes: int = MAX_RAW_BYTES
          ) -> dict[str, object]:
    """Run one command; ``rc`` is ``None`` when the binary is not on the host."""
    path = commands.find(binary)
    if not path:
        return {"rc": None, "out": b""}
    ended = commands.run([path] + argv, environ_update=COMMAND_ENVIRONMENT, max_output_bytes=max_bytes)
    return {"rc": ended.rc, "out": ended.stdout}


def systemd_units(commands: CommandRunner) -> dict[str, object]:
    path = commands.find("systemctl")
    if not path:
        return {"rc": None, "out": b""}
    ended = commands.run(show_argv(path, UNITS), environ_update=COMMAND_ENVIRONMENT)
    return {"rc": ended.rc, "out": ended.stdout}


def package_lists(now: float) -> dict[str, int | None] | None:
    """Package index files apt has downloaded and the age of the newest; None if unreadable."""
    files = 0
    newest = None
    try:
        with os.scandir(APT_LISTS) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_LIST_ENTRIES:
                    break
                if "_Packages" not in entry.name or not entry.is_file(follow_symlinks=False):
                    continue
                files += 1
                mtime = entry.stat(follow_symlinks=False).st_mtime
                newest = mtime if newest is None else max(newest, mtime)
    except FileNotFoundError:
        return {"files": 0, "age_seconds": None}
    except OSError:
        return None
    age = None if newest is None else max(0, int(now - newest))
    return {"files": files, "age_seconds": age}


def marker_present(path: str) -> bool | None:
    try:
        os.stat(path)
    except FileNotFoundError:
        return False
    except OSError:
        return None
    return True


def collect_raw(commands: CommandRunner) -> dict[str, object]:
    return {
        "dpkg_status": probe(commands, "dpkg-query", ["-W", "-f=${db:Status-Status}\\n", PACKAGE]),
        "apt_periodic": probe(commands, "apt-config", ["dump", "APT::Periodic"]),
        "units": systemd_units(commands),
        "apt_simulation": probe(commands, "apt-get", list(APT_SIMULATION), MAX_APT_BYTES + 1),
        "package_lists": package_lists(time.time()),
        "randomize_va_space": read_bounded(RANDOMIZE_VA_SPACE),
        "dmesg_restrict": read_bounded(DMESG_RESTRICT),
        "reboot_required": marker_present(REBOOT_REQUIRED),
        "reboot_required_pkgs": read_bounded(REBOOT_REQUIRED_PKGS),
    }


def main() -> None:
    run_host_module("host_security_posture", collect_raw, normalize_host_security_posture)


if __name__ == "__main__":
    main()
