#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file portainer_health.yml beside this one.

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import exit_with_facts
from ansible_collections.tecrax.ops.plugins.module_utils.services.portainer_facts import (
    MAX_STATUS_BYTES,
    STATUS_PATH,
    observe_portainer,
)
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_endpoints import (
    DEFAULT_PORTAINER_TIMEOUT_SECONDS,
    EndpointOptionError,
    parse_web_url,
    portainer_settings,
)
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_probes import TlsSetupError, http_get, tls_context

ARGUMENT_SPEC = {
    "base_url": {"type": "str", "required": True},
    "ca_file": {"type": "str", "required": True},
    "timeout_seconds": {"type": "int", "default": DEFAULT_PORTAINER_TIMEOUT_SECONDS},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        settings = portainer_settings(dict(module.params))
        endpoint = parse_web_url(settings["base_url"], "base_url", https_only=True)
        if not (os.path.isfile(settings["ca_file"]) and os.access(settings["ca_file"], os.R_OK)):
            raise EndpointOptionError("ca_file is not a readable file")
        context = tls_context(settings["ca_file"])
    except (EndpointOptionError, TlsSetupError) as exc:
        module.fail_json(msg="portainer_health: %s" % exc)
    exchange = http_get(endpoint, STATUS_PATH, context, settings["timeout_seconds"], MAX_STATUS_BYTES,
                        accept="application/json")
    exit_with_facts(module, "portainer_health", lambda: observe_portainer(exchange))


if __name__ == "__main__":
    main()
