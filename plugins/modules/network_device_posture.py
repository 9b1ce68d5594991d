#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file network_device_posture.yml beside this one.

from ansible_collections.tecrax.ops.plugins.module_utils.network.network_device import assess_posture
from ansible_collections.tecrax.ops.plugins.module_utils.network.network_module import run_wrapper_module


def main() -> None:
    run_wrapper_module("network_device_posture", assess_posture)


if __name__ == "__main__":
    main()
