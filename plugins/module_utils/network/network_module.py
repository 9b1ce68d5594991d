# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What the two network-device modules share: their options, the wrapper calls, the exit."""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import exit_with_facts
from ansible_collections.tecrax.ops.plugins.module_utils.network.network_device import identify_family
from ansible_collections.tecrax.ops.plugins.module_utils.network.network_wrapper import (
    DEFAULT_TIMEOUT_SECONDS,
    observe_with_module,
    wrapper_argument_spec,
)


def run_wrapper_module(name: str, facts_of: Callable[[Mapping[str, Any]], Dict[str, Any]]) -> None:
    """Build the module, call the wrapper (``observe_with_module``) and exit with ``facts_of(raw)``."""
    module = AnsibleModule(argument_spec=wrapper_argument_spec(DEFAULT_TIMEOUT_SECONDS), supports_check_mode=True)
    raw = observe_with_module(module, identify_family)
    exit_with_facts(module, name, lambda: facts_of(raw))
