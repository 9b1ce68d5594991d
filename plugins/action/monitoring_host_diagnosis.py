# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action of tecrax.ops.monitoring_host_diagnosis (documented in plugins/modules/): one task
that diagnoses a monitoring host.

On the controller, in the worker process that runs the task, it checks the service settings
(as the single checks do), starts the Zabbix, AdGuard Home and Portainer probes side by side,
and meanwhile runs tecrax.ops.monitoring_host_local on the host over the task's connection.
Then it aggregates the eight outcomes (plugins/module_utils/diagnosis). An action rather than a
second, delegated module: the probes need no module transfer and no interpreter of their own,
and they overlap with the host's observations instead of following them.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, Mapping, Tuple

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.action import ActionBase
from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import budget_seconds
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import FactsContractError
from ansible_collections.tecrax.ops.plugins.module_utils.common.observation_set import observe_concurrently
from ansible_collections.tecrax.ops.plugins.module_utils.diagnosis.monitoring_host_diagnosis import (
    NOT_CONFIGURED,
    host_local_outcomes,
    normalize_monitoring_host_diagnosis,
)
from ansible_collections.tecrax.ops.plugins.module_utils.services.adguard_facts import adguard_probe
from ansible_collections.tecrax.ops.plugins.module_utils.services.portainer_facts import portainer_probe
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_endpoints import EndpointOptionError
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_probes import TlsSetupError
from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_api import ZabbixOptionError
from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_module import reachability_probe

NAME = "monitoring_host_diagnosis"
HOST_MODULE = "tecrax.ops.monitoring_host_local"
Probe = Callable[[Mapping[str, Any]], Callable[[], Mapping[str, Any]]]
# Controller-side component -> (option holding its settings, the single check's probe).
PROBES: Dict[str, Tuple[str, Probe]] = {
    "zabbix_api": ("zabbix", reachability_probe),
    "adguard": ("adguard", adguard_probe),
    "portainer": ("portainer", portainer_probe),
}
OPTIONS = frozenset(option for option, _probe in PROBES.values())
# What the probes raise for settings they refuse (the message starts with the key).
SETTINGS_ERRORS = (ZabbixOptionError, EndpointOptionError, TlsSetupError)


class SettingsRefused(ValueError):
    """A service's settings are not acceptable; the message names the option and key."""


def prepared_probes(args: Mapping[str, Any]) -> Tuple[Dict[str, Callable[[], Mapping[str, Any]]], Dict[str, Any]]:
    """The probes of the configured services, checked before any I/O, and the outcomes of the
    services without settings (``not_configured``); raises SettingsRefused."""
    unknown = sorted(str(key) for key in args if key not in OPTIONS)
    if unknown:
        raise SettingsRefused("%s is not an option (options: %s)" % (unknown[0], ", ".join(sorted(OPTIONS))))
    probes: Dict[str, Callable[[], Mapping[str, Any]]] = {}
    outcomes: Dict[str, Any] = {}
    for component, (option, probe) in PROBES.items():
        settings = args.get(option)
        if settings is None:
            outcomes[component] = {"unavailable": NOT_CONFIGURED}
            continue
        if not isinstance(settings, Mapping):
            raise SettingsRefused("%s must be a mapping" % option)
        try:
            probes[component] = probe(settings)
        except SETTINGS_ERRORS as exc:
            raise SettingsRefused("%s.%s" % (option, exc))
    return probes, outcomes


def diagnose(args: Mapping[str, Any], observe_host: Callable[[], Any], budget: float) -> Dict[str, Any]:
    """The diagnosis facts: the probes run side by side, in a thread, while ``observe_host``
    (the host-local module's result, or ``{"unreachable": True}``) runs here. Raises
    SettingsRefused before anything runs."""
    probes, outcomes = prepared_probes(args)
    deadline = time.monotonic() + budget
    probed: Dict[str, Any] = {}
    prober = threading.Thread(target=lambda: probed.update(observe_concurrently(probes, deadline)),
                              name="tecrax-probes", daemon=True)
    prober.start()
    host_result = observe_host()
    prober.join(max(0.0, deadline - time.monotonic()) + 1.0)
    outcomes.update({component: probed.get(component, {"unavailable": "timeout"}) for component in probes})
    outcomes.update(host_local_outcomes(host_result))
    return normalize_monitoring_host_diagnosis(outcomes)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: Any = None, task_vars: Any = None) -> Dict[str, Any]:
        result = super().run(tmp, task_vars)
        environment: Dict[str, Any] = {}
        self._compute_environment_string(environment)
        try:
            budget = budget_seconds({key: str(value) for key, value in environment.items()})
            facts = diagnose(dict(self._task.args), lambda: self._observe_host(task_vars), budget)
        except FactsContractError as exc:
            return dict(result, failed=True, changed=False, msg="%s produced facts that break their contract: %s"
                        % (NAME, exc))
        except ValueError as exc:  # SettingsRefused, or a malformed TECRAX_MODULE_BUDGET_SECONDS
            return dict(result, failed=True, changed=False, msg="%s: %s" % (NAME, exc))
        return dict(result, changed=False, facts=facts)

    def _observe_host(self, task_vars: Any) -> Any:
        try:
            return self._execute_module(module_name=HOST_MODULE, module_args={}, task_vars=task_vars)
        except AnsibleConnectionFailure:
            # The host did not answer over the task's connection: its components are
            # unavailable (connection_failed); the text, which names the address, is not kept.
            return {"unreachable": True}
