#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file network_device_inventory.yml beside this one.

from ansible_collections.tecrax.ops.plugins.module_utils.network.network_device import normalize_inventory
from ansible_collections.tecrax.ops.plugins.module_utils.network.network_module import run_wrapper_module


def main() -> None:
    run_wrapper_module("network_device_inventory", normalize_inventory)


if __name__ == "__main__":
    main()
