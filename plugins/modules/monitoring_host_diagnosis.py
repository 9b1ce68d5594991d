#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: monitoring_host_diagnosis
short_description: Diagnose a monitoring host from its host-local observations and controller-side probes
version_added: 0.4.0
description:
  - Probes, side by side from the host running the module (normally the controller), the
    Zabbix API (unauthenticated C(apiinfo.version)), AdGuard Home (one DNS answer and the login
    page) and Portainer (C(/api/status) over verified TLS), with the probes of
    M(tecrax.ops.zabbix_api_reachability), M(tecrax.ops.adguard_health) and
    M(tecrax.ops.portainer_health); takes the host-local observations
    M(tecrax.ops.monitoring_host_local) made on the monitoring host; and aggregates all eight
    into one normalized facts object of the contract C(tecrax.monitoring_host_diagnosis) version
    C(1.0).
  - Each component is V(healthy), V(unhealthy) (observed and bad) or V(unavailable) (could not
    observe - connection failure, missing program, timeout, TLS failure, not configured); the two
    are never conflated. A service without settings is V(unavailable) with the reason
    C(not_configured). An unreachable host makes the five host-local components V(unavailable)
    with C(connection_failed) while the probes still run.
  - The module reports every component's outcome in RV(facts) and does not fail for it; invalid
    settings fail the task, as they fail the single modules.
author:
  - Tecrax developers (!UNKNOWN)
options:
  host_observation:
    description:
      - The result of M(tecrax.ops.monitoring_host_local) on the monitoring host, as registered
        (also when that task was unreachable or failed, with C(ignore_unreachable) and
        C(ignore_errors)). Only its C(observations), or the fact that it did not run, is read.
    type: dict
    required: true
  zabbix:
    description:
      - The target's Zabbix settings, the options of M(tecrax.ops.zabbix_api_reachability)
        C(api_url), C(ca_file) and C(timeout_seconds), checked the same way. No credential is
        used. Omitted, the Zabbix API component is V(unavailable) (C(not_configured)).
    type: dict
  adguard:
    description:
      - The target's AdGuard Home settings, the options of M(tecrax.ops.adguard_health)
        (C(dns_server), C(dns_port), C(query_name), C(web_url), C(ca_file), C(timeout_seconds)),
        checked the same way. Omitted, the AdGuard component is V(unavailable) (C(not_configured)).
    type: dict
  portainer:
    description:
      - The target's Portainer settings, the options of M(tecrax.ops.portainer_health)
        (C(base_url), C(ca_file), C(timeout_seconds)), checked the same way. Omitted, the Portainer
        component is V(unavailable) (C(not_configured)).
    type: dict
extends_documentation_fragment:
  - tecrax.ops.attributes
attributes:
  platform:
    description: Any host that can reach the services, normally the controller (C(delegate_to=localhost)).
notes:
  - The probes share the budget of C(TECRAX_MODULE_BUDGET_SECONDS) (unset or empty means 90 s); one
    still waiting when it is spent is reported as C(timeout). Keep each service's
    C(timeout_seconds) within it (AdGuard's DNS query and login page take up to twice its value).
  - The playbook C(tecrax.ops.monitoring_host_diagnosis) runs both modules in one play.
seealso:
  - module: tecrax.ops.monitoring_host_local
  - module: tecrax.ops.zabbix_api_reachability
  - module: tecrax.ops.adguard_health
  - module: tecrax.ops.portainer_health
"""

EXAMPLES = r"""
- name: Observe the host-local components
  tecrax.ops.monitoring_host_local:
  register: local
  ignore_unreachable: true
  ignore_errors: true

- name: Probe the services from the controller and aggregate
  tecrax.ops.monitoring_host_diagnosis:
    host_observation: "{{ local }}"
    zabbix:
      api_url: https://zabbix.example.org/zabbix/api_jsonrpc.php
      ca_file: /etc/tecrax/zabbix-ca.pem
    portainer:
      base_url: https://portainer.example.org:9443
      ca_file: /etc/tecrax/portainer-ca.pem
  delegate_to: localhost
  register: diagnosis

- name: Show what is not healthy
  ansible.builtin.debug:
    msg: "{{ diagnosis.facts.assessment.reasons | default([]) | join(', ') }}"
"""

RETURN = r"""
facts:
  description:
    - Facts of the contract C(tecrax.monitoring_host_diagnosis) 1.0, schema
      C(profile/schemas/monitoring_host_diagnosis.v1.schema.json); described field by field in
      C(docs/facts/monitoring_host_diagnosis.md).
  returned: always
  type: dict
  contains:
    contract:
      description: Identifier and version of the facts contract.
      returned: always
      type: dict
      sample: {"id": "tecrax.monitoring_host_diagnosis", "version": "1.0"}
    scope:
      description: >-
        The eight components (C(inventory), C(ntp), C(ntp_server), C(docker), C(host_security),
        C(zabbix_api), C(adguard), C(portainer)) in C(requested) in this order; C(observed) are
        those healthy or unhealthy, C(not_observed) those unavailable.
      returned: always
      type: dict
    coverage:
      description: Whether every component was observed.
      returned: always
      type: dict
      contains:
        state:
          description: V(complete), V(partial) or V(blocked) (no component observed).
          returned: always
          type: str
          choices: [complete, partial, blocked]
        blockers:
          description: C(<component>_unavailable) for each unavailable component.
          returned: always
          type: list
          elements: str
          sample: [portainer_unavailable]
    assessment:
      description: The diagnosis.
      returned: always
      type: dict
      contains:
        state:
          description: >-
            V(healthy) all eight components are healthy; V(unhealthy) at least one is unhealthy;
            V(unavailable) none is unhealthy and at least one is unavailable.
          returned: always
          type: str
          choices: [healthy, unhealthy, unavailable]
        reasons:
          description: C(<component>_<status>) of every component that is not healthy, sorted.
          returned: when not healthy
          type: list
          elements: str
          sample: [ntp_unhealthy, portainer_unavailable]
    non_claims:
      description: What these facts do not claim.
      returned: always
      type: list
      elements: str
    components:
      description: >-
        The verdict on each component, keyed by component, always all eight. Each has C(status)
        (V(healthy), V(unhealthy), V(unavailable)), C(check_intent) and C(facts_contract) (the
        single check that observes it), C(assessment_state) and C(coverage_state) of its facts
        (null without usable facts) and C(reasons) (at most 8).
      returned: always
      type: dict
      sample:
        ntp: {status: unhealthy, check_intent: check_ntp_health, facts_contract: tecrax.ntp_local_health,
              assessment_state: unhealthy, coverage_state: complete, reasons: [no_time_daemon_active]}
    findings:
      description: >-
        One finding per component that is not healthy, sorted by component, each with C(kind)
        (C(monitoring.<component>_unhealthy), C(monitoring.host_security_degraded),
        C(monitoring.component_unavailable), C(monitoring.unclassified_state)), C(severity)
        (V(info), V(low), V(medium), V(high)), C(component) and C(reason_code); when every
        component is healthy, the one finding C(monitoring.observed_healthy) for component C(all).
      returned: always
      type: list
      elements: dict
      sample:
        - {kind: monitoring.ntp_unhealthy, severity: high, component: ntp, reason_code: no_time_daemon_active}
    summary:
      description: How many components are healthy, unhealthy and unavailable.
      returned: always
      type: dict
      contains:
        healthy:
          description: Healthy components.
          returned: always
          type: int
          sample: 7
        unhealthy:
          description: Unhealthy components.
          returned: always
          type: int
          sample: 1
        unavailable:
          description: Unavailable components.
          returned: always
          type: int
          sample: 0
"""

import os
import time
from typing import Any, Callable, Dict, Mapping, Tuple, Type

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import budget_seconds
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import exit_with_facts
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

ARGUMENT_SPEC = {
    "host_observation": {"type": "dict", "required": True},
    "zabbix": {"type": "dict"},
    "adguard": {"type": "dict"},
    "portainer": {"type": "dict"},
}
Probe = Callable[[Mapping[str, Any]], Callable[[], Mapping[str, Any]]]
# Controller-side component -> (option holding its settings, the single check's probe, the
# errors that probe raises for bad settings).
PROBES: Dict[str, Tuple[str, Probe, Tuple[Type[Exception], ...]]] = {
    "zabbix_api": ("zabbix", reachability_probe, (ZabbixOptionError,)),
    "adguard": ("adguard", adguard_probe, (EndpointOptionError, TlsSetupError)),
    "portainer": ("portainer", portainer_probe, (EndpointOptionError, TlsSetupError)),
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        deadline = time.monotonic() + budget_seconds(os.environ)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    outcomes: Dict[str, Any] = {}
    probes = {}
    for component, (option, probe, errors) in PROBES.items():
        settings = module.params[option]
        if settings is None:
            outcomes[component] = {"unavailable": NOT_CONFIGURED}
            continue
        try:
            probes[component] = probe(settings)
        except errors as exc:
            module.fail_json(msg="monitoring_host_diagnosis: %s.%s" % (option, exc))
    outcomes.update(observe_concurrently(probes, deadline))
    outcomes.update(host_local_outcomes(module.params["host_observation"]))
    exit_with_facts(module, "monitoring_host_diagnosis", lambda: normalize_monitoring_host_diagnosis(outcomes))


if __name__ == "__main__":
    main()
