#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: monitoring_host_diagnosis
short_description: Diagnose a monitoring host from its host-local observations and controller-side probes
version_added: 0.4.0
description:
  - Diagnoses one monitoring host in one task. On the host, over the task's connection, it runs
    M(tecrax.ops.monitoring_host_local) (inventory, NTP, NTP server, Docker units and security
    posture, side by side); meanwhile, on the controller, it probes the Zabbix API
    (unauthenticated C(apiinfo.version)), AdGuard Home (one DNS answer and the login page) and
    Portainer (C(/api/status) over verified TLS) side by side, with the probes of
    M(tecrax.ops.zabbix_api_reachability), M(tecrax.ops.adguard_health) and
    M(tecrax.ops.portainer_health). It aggregates all eight into one normalized facts object of
    the contract C(tecrax.monitoring_host_diagnosis) version C(1.0).
  - Each component is V(healthy), V(unhealthy) (observed and bad) or V(unavailable) (could not
    observe - connection failure, missing program, timeout, TLS failure, not configured); the two
    are never conflated. A service without settings is V(unavailable) with the reason
    C(not_configured). A host that does not answer makes its five components V(unavailable) with
    C(connection_failed) while the probes still run; the task does not fail for it.
  - The module reports every component's outcome in RV(facts) and does not fail for it; invalid
    settings fail the task, as they fail the single modules.
  - An action plugin on the controller; the probes run in the task's own process, no module is
    sent for them.
author:
  - Tecrax developers (!UNKNOWN)
options:
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
    description: >-
      The probes run on the controller, which must reach the services; the host-local part needs
      a Linux host managed by systemd (the security posture a Debian-family one).
notes:
  - The host's observations and the probes share the budget of C(TECRAX_MODULE_BUDGET_SECONDS)
    (from the task's environment; unset or empty means 90 s); a probe still waiting when it is
    spent is reported as C(timeout). Keep each service's C(timeout_seconds) within it (AdGuard's
    DNS query and login page take up to twice its value).
  - The playbook C(tecrax.ops.monitoring_host_diagnosis) runs this task for its target.
seealso:
  - module: tecrax.ops.monitoring_host_local
  - module: tecrax.ops.zabbix_api_reachability
  - module: tecrax.ops.adguard_health
  - module: tecrax.ops.portainer_health
"""

EXAMPLES = r"""
- name: Diagnose the monitoring host
  tecrax.ops.monitoring_host_diagnosis:
    zabbix:
      api_url: https://zabbix.example.org/zabbix/api_jsonrpc.php
      ca_file: /etc/tecrax/zabbix-ca.pem
    portainer:
      base_url: https://portainer.example.org:9443
      ca_file: /etc/tecrax/portainer-ca.pem
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
