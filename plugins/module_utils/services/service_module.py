# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What the AdGuard Home and Portainer modules share: the whole ``main()`` of a service check."""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import exit_with_facts
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_endpoints import EndpointOptionError
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_probes import TlsSetupError

Probe = Callable[[Mapping[str, Any]], Callable[[], Dict[str, Any]]]


def run_probe_module(name: str, argument_spec: Mapping[str, Any], probe: Probe) -> None:
    """Build the module ``name``, prepare ``probe`` with the options that are set (an option it
    refuses fails the module, naming the option, before any I/O), run it and exit with the
    facts."""
    module = AnsibleModule(argument_spec=dict(argument_spec), supports_check_mode=True)
    try:
        observe = probe({key: value for key, value in module.params.items() if value is not None})
    except (EndpointOptionError, TlsSetupError) as exc:
        module.fail_json(msg="%s: %s" % (name, exc))
    exit_with_facts(module, name, observe)
