#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file portainer_health.yml beside this one.

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import exit_with_facts
from ansible_collections.tecrax.ops.plugins.module_utils.services.portainer_facts import portainer_probe
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_endpoints import (
    DEFAULT_PORTAINER_TIMEOUT_SECONDS,
    EndpointOptionError,
)
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_probes import TlsSetupError

ARGUMENT_SPEC = {
    "base_url": {"type": "str", "required": True},
    "ca_file": {"type": "str", "required": True},
    "timeout_seconds": {"type": "int", "default": DEFAULT_PORTAINER_TIMEOUT_SECONDS},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        observe = portainer_probe(dict(module.params))
    except (EndpointOptionError, TlsSetupError) as exc:
        module.fail_json(msg="portainer_health: %s" % exc)
    exit_with_facts(module, "portainer_health", observe)


if __name__ == "__main__":
    main()
