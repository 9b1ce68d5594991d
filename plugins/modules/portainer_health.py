#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file portainer_health.yml beside this one.

from ansible_collections.tecrax.ops.plugins.module_utils.services.portainer_facts import portainer_probe
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_endpoints import (
    DEFAULT_PORTAINER_TIMEOUT_SECONDS,
)
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_module import run_probe_module

ARGUMENT_SPEC = {
    "base_url": {"type": "str", "required": True},
    "ca_file": {"type": "str", "required": True},
    "timeout_seconds": {"type": "int", "default": DEFAULT_PORTAINER_TIMEOUT_SECONDS},
}


def main() -> None:
    run_probe_module("portainer_health", ARGUMENT_SPEC, portainer_probe)


if __name__ == "__main__":
    main()
