#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file docker_service_health.yml beside this one.

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import run_host_module
from ansible_collections.tecrax.ops.plugins.module_utils.host import docker_service_health


def main() -> None:
    run_host_module("docker_service_health", docker_service_health.collect_docker_units,
                    docker_service_health.normalize_docker_service_health)


if __name__ == "__main__":
    main()
