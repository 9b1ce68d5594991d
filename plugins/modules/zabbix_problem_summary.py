#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: zabbix_problem_summary
short_description: Count open Zabbix problems per severity through the API, read-only
version_added: 0.4.0
description:
  - Asks the Zabbix API at O(api_url) for its version (unauthenticated C(apiinfo.version)), then
    for the number of open trigger problems of each severity 0 (not classified) to 5 (disaster)
    with C(problem.get) and C(countOutput), and returns the counts as one normalized facts object
    of the contract C(tecrax.zabbix_problem_summary) version C(1.0).
  - The API token goes where the reported version takes it (see O(api_token)). The calls stop at
    the first failure, so a rejected token is sent once.
  - A collection, so the facts are V(healthy) when all six counts were made, V(unknown) when only
    some were, and V(unavailable) when none were (API unreachable, token rejected, ...), with the
    failure in the blockers of RV(facts.coverage). Many problems are still healthy facts.
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
  - module: tecrax.ops.zabbix_host_availability_summary
  - name: Zabbix 6.0 API, problem.get
    description: The method this module calls.
    link: https://www.zabbix.com/documentation/6.0/en/manual/api/reference/problem/get
"""

EXAMPLES = r"""
- name: Count open Zabbix problems per severity
  tecrax.ops.zabbix_problem_summary:
    api_url: https://zabbix.example.org/zabbix/api_jsonrpc.php
    ca_file: /etc/tecrax/zabbix-ca.pem
    api_token: "{{ zabbix_readonly_api_token }}"
  delegate_to: localhost
  register: zabbix_problems

- name: Show the disaster count
  ansible.builtin.debug:
    msg: "{{ zabbix_problems.facts.problems.disaster }} disaster problem(s)"
  when: zabbix_problems.facts.coverage.state == 'complete'
"""

RETURN = r"""
facts:
  description:
    - Facts of the contract C(tecrax.zabbix_problem_summary) 1.0, schema
      C(profile/schemas/zabbix_problem_summary.v1.schema.json).
  returned: always
  type: dict
  contains:
    contract:
      description: Identifier and version of the facts contract.
      returned: always
      type: dict
      sample: {"id": "tecrax.zabbix_problem_summary", "version": "1.0"}
    scope:
      description: >-
        The six severities C(not_classified), C(information), C(warning), C(average), C(high),
        C(disaster), split into counted and not counted.
      returned: always
      type: dict
    coverage:
      description: >-
        V(complete), V(partial) or V(blocked); the blocker names the failure, for example
        C(authentication_rejected), C(connection_failed), C(timeout), C(tls_verification_failed),
        C(http_error_status), C(api_error), C(api_version_unsupported) (Zabbix before 5.4 has no
        API tokens) or C(result_unparsed).
      returned: always
      type: dict
      sample: {"state": "blocked", "blockers": ["authentication_rejected"]}
    assessment:
      description: >-
        V(healthy) when complete, V(unknown) when partial, V(unavailable) when blocked, with the
        blocker repeated in C(reasons).
      returned: always
      type: dict
      sample: {"state": "unavailable", "reasons": ["authentication_rejected"]}
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
    problems:
      description: Open problems per severity; null for a severity that was not counted.
      returned: always
      type: dict
      sample: {"not_classified": 0, "information": 1, "warning": 0, "average": 2, "high": 0, "disaster": 3}
    problems_total:
      description: Sum of the six counts when all were made, else null; clamped to 2^53 - 1.
      returned: always
      type: int
      sample: 6
    problems_total_clamped:
      description: True when the sum exceeded 2^53 - 1 and problems_total holds that maximum.
      returned: only when the sum was clamped
      type: bool
      sample: true
    transport:
      description: V(scheme) (http or https) and V(tls_verified) (an https answer came back over verified TLS).
      returned: always
      type: dict
"""

from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_facts import observe_problem_summary
from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_module import run_observation


def main() -> None:
    run_observation(observe_problem_summary, "zabbix_problem_summary", authenticated=True)


if __name__ == "__main__":
    main()
