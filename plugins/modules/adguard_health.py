#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file adguard_health.yml beside this one.

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import exit_with_facts
from ansible_collections.tecrax.ops.plugins.module_utils.services.adguard_facts import adguard_probe
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_endpoints import (
    DEFAULT_ADGUARD_TIMEOUT_SECONDS,
    DEFAULT_DNS_PORT,
    DEFAULT_QUERY_NAME,
    EndpointOptionError,
)
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_probes import TlsSetupError

ARGUMENT_SPEC = {
    "dns_server": {"type": "str", "required": True},
    "dns_port": {"type": "int", "default": DEFAULT_DNS_PORT},
    "query_name": {"type": "str", "default": DEFAULT_QUERY_NAME},
    "web_url": {"type": "str", "required": True},
    "ca_file": {"type": "str"},
    "timeout_seconds": {"type": "int", "default": DEFAULT_ADGUARD_TIMEOUT_SECONDS},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        observe = adguard_probe({key: value for key, value in module.params.items() if value is not None})
    except (EndpointOptionError, TlsSetupError) as exc:
        module.fail_json(msg="adguard_health: %s" % exc)
    exit_with_facts(module, "adguard_health", observe)


if __name__ == "__main__":
    main()
