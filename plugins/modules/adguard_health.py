#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file adguard_health.yml beside this one.

from ansible_collections.tecrax.ops.plugins.module_utils.services.adguard_facts import adguard_probe
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_endpoints import (
    DEFAULT_ADGUARD_TIMEOUT_SECONDS,
    DEFAULT_DNS_PORT,
    DEFAULT_QUERY_NAME,
)
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_module import run_probe_module

ARGUMENT_SPEC = {
    "dns_server": {"type": "str", "required": True},
    "dns_port": {"type": "int", "default": DEFAULT_DNS_PORT},
    "query_name": {"type": "str", "default": DEFAULT_QUERY_NAME},
    "web_url": {"type": "str", "required": True},
    "ca_file": {"type": "str"},
    "timeout_seconds": {"type": "int", "default": DEFAULT_ADGUARD_TIMEOUT_SECONDS},
}


def main() -> None:
    run_probe_module("adguard_health", ARGUMENT_SPEC, adguard_probe)


if __name__ == "__main__":
    main()
