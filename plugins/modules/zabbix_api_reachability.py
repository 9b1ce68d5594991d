#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: zabbix_api_reachability
short_description: Check that a Zabbix JSON-RPC API answers, without credentials
version_added: 0.4.0
description:
  - Sends one unauthenticated C(apiinfo.version) request to the Zabbix API at O(api_url) and
    returns the answer as one normalized facts object of the contract
    C(tecrax.zabbix_api_reachability) version C(1.0).
  - This proves API reachability only. It is what the intent C(check_zabbix_container_health)
    runs; the intent keeps that name for compatibility, but nothing here looks at a container,
    the Zabbix server daemon or its database.
  - V(healthy) when the API answered with a Zabbix version; V(unhealthy) when something answered
    at the URL but not with a usable version (HTTP error status, not JSON-RPC, an API error);
    V(unavailable) when nothing answered (connection refused, timeout, TLS verification failed).
  - The module reports these outcomes in RV(facts) and does not fail for them.
author:
  - Tecrax developers (!UNKNOWN)
extends_documentation_fragment:
  - tecrax.ops.attributes
  - tecrax.ops.zabbix_api
attributes:
  platform:
    description: Any host that can reach the API, normally the controller (C(connection=local)).
seealso:
  - module: tecrax.ops.zabbix_problem_summary
  - module: tecrax.ops.zabbix_host_availability_summary
  - name: Zabbix 6.0 API, apiinfo.version
    description: The method this module calls.
    link: https://www.zabbix.com/documentation/6.0/en/manual/api/reference/apiinfo/version
"""

EXAMPLES = r"""
- name: Check that the Zabbix API answers
  tecrax.ops.zabbix_api_reachability:
    api_url: https://zabbix.example.org/zabbix/api_jsonrpc.php
    ca_file: /etc/tecrax/zabbix-ca.pem
  delegate_to: localhost
  register: zabbix_api

- name: Require a healthy API
  ansible.builtin.assert:
    that:
      - zabbix_api.facts.assessment.state == 'healthy'
    fail_msg: "Zabbix API: {{ zabbix_api.facts.assessment.reasons | default([]) | join(', ') }}"
"""

RETURN = r"""
facts:
  description:
    - Facts of the contract C(tecrax.zabbix_api_reachability) 1.0, schema
      C(profile/schemas/zabbix_api_reachability.v1.schema.json).
  returned: always
  type: dict
  contains:
    contract:
      description: Identifier and version of the facts contract.
      returned: always
      type: dict
      sample: {"id": "tecrax.zabbix_api_reachability", "version": "1.0"}
    scope:
      description: >-
        The requested observations C(http_endpoint) (an HTTP answer came back) and C(api_version)
        (it carried a Zabbix version), split into observed and not observed.
      returned: always
      type: dict
      sample: {"requested": ["http_endpoint", "api_version"], "observed": ["http_endpoint", "api_version"], "not_observed": []}
    coverage:
      description: V(complete), V(partial) (an answer without a version) or V(blocked) (no answer), with the failure as blocker.
      returned: always
      type: dict
      sample: {"state": "blocked", "blockers": ["connection_failed"]}
    assessment:
      description: >-
        V(healthy), V(unhealthy) or V(unavailable) (see the description); C(reasons)
        names the failure, one of C(connection_failed), C(timeout), C(tls_verification_failed),
        C(tls_error), C(http_protocol_error), C(transport_error), C(http_error_status),
        C(response_too_large), C(response_not_json), C(response_not_jsonrpc), C(authentication_rejected),
        C(api_error), C(api_version_unrecognized).
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
      description: >-
        Where this Zabbix version takes an API token: V(body_auth) (before 6.4), V(bearer_header)
        (6.4 on), V(none) (before 5.4, no API tokens), V(unknown) (no version).
      returned: always
      type: str
      sample: body_auth
    http_status:
      description: HTTP status of the answer, or null when none came back.
      returned: always
      type: int
      sample: 200
    transport:
      description: How the API was reached.
      returned: always
      type: dict
      contains:
        scheme:
          description: V(http) or V(https), from O(api_url).
          returned: always
          type: str
        tls_verified:
          description: True when an https answer came back over TLS verified against O(ca_file).
          returned: always
          type: bool
"""

from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_facts import observe_reachability
from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_module import run_observation


def main() -> None:
    run_observation(observe_reachability, "zabbix_api_reachability", authenticated=False)


if __name__ == "__main__":
    main()
