#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file host_security_posture.yml beside this one.

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import run_host_module
from ansible_collections.tecrax.ops.plugins.module_utils.host import host_security_posture


def main() -> None:
    run_host_module("host_security_posture", host_security_posture.collect_security_posture,
                    host_security_posture.normalize_host_security_posture)


if __name__ == "__main__":
    main()
