#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file ntp_server_health.yml beside this one.

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import run_host_module
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_server_health import (
    collect_server_observation,
    normalize_ntp_server_observation,
)


def main() -> None:
    run_host_module("ntp_server_health", collect_server_observation, normalize_ntp_server_observation)


if __name__ == "__main__":
    main()
