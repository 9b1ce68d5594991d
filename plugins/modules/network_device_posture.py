#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file network_device_posture.yml beside this one.

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import exit_with_facts
from ansible_collections.tecrax.ops.plugins.module_utils.network.network_device import (
    assess_posture,
    identify_family,
)
from ansible_collections.tecrax.ops.plugins.module_utils.network.network_wrapper import (
    DEFAULT_TIMEOUT_SECONDS,
    observe_with_module,
    wrapper_argument_spec,
)


def main() -> None:
    module = AnsibleModule(argument_spec=wrapper_argument_spec(DEFAULT_TIMEOUT_SECONDS),
                           supports_check_mode=True)
    raw = observe_with_module(module, identify_family)
    exit_with_facts(module, "network_device_posture", lambda: assess_posture(raw))


if __name__ == "__main__":
    main()
