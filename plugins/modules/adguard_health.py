#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file adguard_health.yml beside this one.

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.services.adguard_facts import (
    LOGIN_PATH,
    MAX_LOGIN_BODY_BYTES,
    observe_adguard,
)
from ansible_collections.tecrax.ops.plugins.module_utils.services.dns_wire import build_query
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import exit_with_facts
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_endpoints import (
    DEFAULT_ADGUARD_TIMEOUT_SECONDS,
    DEFAULT_DNS_PORT,
    DEFAULT_QUERY_NAME,
    EndpointOptionError,
    adguard_settings,
    parse_web_url,
)
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_probes import (
    TlsSetupError,
    dns_exchange,
    http_get,
    new_query_id,
    tls_context,
)

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
        settings = adguard_settings({key: value for key, value in module.params.items() if value is not None})
        endpoint = parse_web_url(settings["web_url"], "web_url")
        context = None
        if endpoint.scheme == "https":
            if not (os.path.isfile(settings["ca_file"]) and os.access(settings["ca_file"], os.R_OK)):
                raise EndpointOptionError("ca_file is not a readable file")
            context = tls_context(settings["ca_file"])
    except (EndpointOptionError, TlsSetupError) as exc:
        module.fail_json(msg="adguard_health: %s" % exc)
    timeout = settings["timeout_seconds"]
    txid = new_query_id()
    dns = dns_exchange(settings["dns_server"], settings["dns_port"], build_query(settings["query_name"], txid),
                       txid, timeout)
    login = http_get(endpoint, LOGIN_PATH, context, timeout, MAX_LOGIN_BODY_BYTES, accept="text/html")
    exit_with_facts(module, "adguard_health",
                    lambda: observe_adguard(dns, txid, settings["query_name"], login, endpoint.scheme))


if __name__ == "__main__":
    main()
