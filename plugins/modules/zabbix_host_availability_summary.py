#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: zabbix_host_availability_summary
short_description: Count enabled and disabled Zabbix hosts and their agent availability, read-only
version_added: 0.4.0
description:
  - Asks the Zabbix API at O(api_url) for its version (unauthenticated C(apiinfo.version)), then
    counts enabled and disabled hosts (C(host.get) with C(countOutput)) and tallies the enabled
    hosts by the availability of their main Zabbix agent interface (C(host.get) with
    C(selectInterfaces)) as available, unavailable, unknown, or without an agent interface.
    Returns one normalized facts object of the contract C(tecrax.zabbix_host_availability_summary)
    version C(1.0).
  - Only real hosts count. C(host.get) returns neither templates nor host prototypes (discovered
    hosts are real hosts and do count); C(hostinterface.get) is not used because it also returns
    the interfaces of host prototypes.
  - At most 20000 enabled hosts are tallied; with more, the availability part is not observed
    (C(host_limit_exceeded)) while the host counts still are.
  - A collection, so the facts are V(healthy) when both parts were observed, V(unknown) when one was,
    V(unavailable) when none was (API unreachable, token rejected, ...). Unavailable agents are
    still healthy facts.
author:
  - Tecrax developers (!UNKNOWN)
extends_documentation_fragment:
  - tecrax.ops.attributes
  - tecrax.ops.zabbix_api
  - tecrax.ops.zabbix_api.token
attributes:
  platform:
    description: Any host that can reach the API, normally the controller (C(connection=local)).
seealso:
  - module: tecrax.ops.zabbix_api_reachability
  - module: tecrax.ops.zabbix_problem_summary
  - name: Zabbix 6.0 API, host.get
    description: The method this module calls.
    link: https://www.zabbix.com/documentation/6.0/en/manual/api/reference/host/get
"""

EXAMPLES = r"""
- name: Count Zabbix hosts and agent availability
  tecrax.ops.zabbix_host_availability_summary:
    api_url: https://zabbix.example.org/zabbix/api_jsonrpc.php
    ca_file: /etc/tecrax/zabbix-ca.pem
    api_token: "{{ zabbix_readonly_api_token }}"
  delegate_to: localhost
  register: zabbix_hosts

- name: Show unavailable agents
  ansible.builtin.debug:
    msg: "{{ zabbix_hosts.facts.agent_availability.unavailable }} of {{ zabbix_hosts.facts.hosts.enabled }} enabled hosts"
  when: zabbix_hosts.facts.coverage.state == 'complete'
"""

RETURN = r"""
facts:
  description:
    - Facts of the contract C(tecrax.zabbix_host_availability_summary) 1.0, schema
      C(profile/schemas/zabbix_host_availability_summary.v1.schema.json).
  returned: always
  type: dict
  contains:
    contract:
      description: Identifier and version of the facts contract.
      returned: always
      type: dict
      sample: {"id": "tecrax.zabbix_host_availability_summary", "version": "1.0"}
    scope:
      description: The requested parts C(host_status) and C(agent_availability), split into observed and not.
      returned: always
      type: dict
    coverage:
      description: >-
        V(complete), V(partial) or V(blocked); the blocker names the failure, for example
        C(authentication_rejected), C(connection_failed), C(timeout), C(tls_verification_failed),
        C(http_error_status), C(api_error), C(response_too_large), C(host_limit_exceeded) or
        C(result_unparsed).
      returned: always
      type: dict
      sample: {"state": "complete", "blockers": []}
    assessment:
      description: V(healthy) when complete, V(unknown) when partial, V(unavailable) when blocked, with the blocker in C(reasons).
      returned: always
      type: dict
      sample: {"state": "healthy"}
    non_claims:
      description: What these facts do not claim.
      returned: always
      type: list
      elements: str
    api_version:
      description: The version C(apiinfo.version) returned, or C(unknown).
      returned: always
      type: str
      sample: 6.0.14
    auth_method:
      description: Where the token was sent, V(body_auth) or V(bearer_header); V(unknown) when no version was read.
      returned: always
      type: str
      sample: body_auth
    hosts:
      description: Number of V(enabled) (monitored) and V(disabled) hosts; both null when not observed.
      returned: always
      type: dict
      sample: {"enabled": 4, "disabled": 1}
    agent_availability:
      description: >-
        Enabled hosts by the availability of their main agent interface (Zabbix C(available) 1, 2, 0)
        and those without an agent interface; all null when not observed.
      returned: always
      type: dict
      sample: {"available": 1, "unavailable": 1, "unknown": 1, "without_agent_interface": 1}
    transport:
      description: V(scheme) (http or https) and V(tls_verified) (an https answer came back over verified TLS).
      returned: always
      type: dict
"""

from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_facts import observe_host_availability
from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_module import run_observation


def main() -> None:
    run_observation(observe_host_availability, "zabbix_host_availability_summary", authenticated=True)


if __name__ == "__main__":
    main()
