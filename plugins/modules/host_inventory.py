#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file host_inventory.yml beside this one.

import os
import socket

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import (
    CommandRunner,
    read_bounded,
    run_host_module,
)
from ansible_collections.tecrax.ops.plugins.module_utils.host.host_inventory import (
    normalize_host_inventory,
)

OS_RELEASE_PATHS = ("/etc/os-release", "/usr/lib/os-release")
HOSTNAME_PATH = "/proc/sys/kernel/hostname"


def read_os_release() -> bytes | None:
    for path in OS_RELEASE_PATHS:
        data = read_bounded(path)
        if data is not None:
            return data
    return None


def read_kernel() -> str | None:
    try:
        uname = os.uname()
    except OSError:
        return None
    return "%s %s %s" % (uname.sysname, uname.release, uname.machine)


def read_hostname() -> str | bytes | None:
    try:
        name = socket.gethostname()
    except OSError:
        name = ""
    return name or read_bounded(HOSTNAME_PATH)


def read_df(commands: CommandRunner) -> bytes | None:
    df = commands.find("df")
    if not df:
        return None
    # The runner's C locale keeps the header and numbers in the format the normalizer parses.
    ended = commands.run([df, "-P", "-k", "/"])
    if ended.rc != 0:
        return None
    return ended.stdout


def collect_raw(commands: CommandRunner) -> dict[str, str | bytes | None]:
    return {
        "os_release": read_os_release(),
        "kernel": read_kernel(),
        "hostname": read_hostname(),
        "uptime": read_bounded("/proc/uptime"),
        "loadavg": read_bounded("/proc/loadavg"),
        "df": read_df(commands),
        "meminfo": read_bounded("/proc/meminfo"),
    }


def main() -> None:
    run_host_module("host_inventory", collect_raw, normalize_host_inventory)


if __name__ == "__main__":
    main()
