#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file docker_service_health.yml beside this one.

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import (
    CommandRunner,
    run_host_module,
)
from ansible_collections.tecrax.ops.plugins.module_utils.host.docker_service_health import (
    UNIT_NAMES,
    normalize_docker_service_health,
)
from ansible_collections.tecrax.ops.plugins.module_utils.common.systemd_show import show_argv

# No pager or colours (the runner adds the C locale): the output the normalizer parses.
COMMAND_ENVIRONMENT = {"SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0"}


def collect_raw(commands: CommandRunner) -> dict[str, dict[str, object]]:
    systemctl = commands.find("systemctl")
    if not systemctl:
        return {"systemctl_show": {"rc": None, "out": b""}}
    ended = commands.run(show_argv(systemctl, UNIT_NAMES), environ_update=COMMAND_ENVIRONMENT)
    return {"systemctl_show": {"rc": ended.rc, "out": ended.stdout}}


def main() -> None:
    run_host_module("docker_service_health", collect_raw, normalize_docker_service_health)


if __name__ == "__main__":
    main()
