#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file ntp_server_health.yml beside this one.

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import run_host_module
from ansible_collections.tecrax.ops.plugins.module_utils.ntp import ntp_server_health


def main() -> None:
    run_host_module("ntp_server_health", ntp_server_health.collect_server_observation,
                    ntp_server_health.normalize_ntp_server_observation)


if __name__ == "__main__":
    main()
