#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file host_inventory.yml beside this one.

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import run_host_module
from ansible_collections.tecrax.ops.plugins.module_utils.host import host_inventory


def main() -> None:
    run_host_module("host_inventory", host_inventory.collect_host_inventory, host_inventory.normalize_host_inventory)


if __name__ == "__main__":
    main()
