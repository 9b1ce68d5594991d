#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: network_device_posture
short_description: Assess the SSH management posture of a network switch through an operator-owned wrapper
version_added: 0.4.0
description:
  - Makes the same two wrapper calls and the same parse as M(tecrax.ops.network_device_inventory)
    and turns the SSH settings into findings, returned as one facts object of the contract
    C(tecrax.network_management_posture) version C(1.0).
  - Findings - C(ssh_protocol_v2_disabled) (high), C(legacy_ssh_v1_enabled) (high),
    C(ssh_server_disabled) (medium), C(legacy_ssh_crypto_observed) (medium),
    C(ssh_idle_timeout_unknown) (low), C(ssh_max_clients_unknown) (low).
  - C(legacy_ssh_crypto_observed) needs a legacy algorithm (DES, 3DES, Blowfish, CAST-128,
    RC4/arcfour, HMAC-MD5) that the device lists as enabled or that an established session
    negotiated; an algorithm the device lists as disabled never counts.
  - Protocol findings follow the configuration even while the SSH server is disabled, since
    enabling the server brings it into effect.
  - A verdict needs complete coverage (supported device, SSH server and protocol states
    read) - any high finding is V(unhealthy), any medium V(degraded), otherwise V(healthy).
    Without it the assessment is V(unknown), or V(unavailable) when the wrapper gave nothing;
    an unsupported device never gets a verdict.
author:
  - Tecrax developers (!UNKNOWN)
extends_documentation_fragment:
  - tecrax.ops.attributes
  - tecrax.ops.command_budget
  - tecrax.ops.network_wrapper
attributes:
  platform:
    description: Runs where the wrapper is installed, normally the controller.
seealso:
  - module: tecrax.ops.network_device_inventory
"""

EXAMPLES = r"""
- name: Assess the SSH management posture of a switch
  tecrax.ops.network_device_posture:
    wrapper_path: /usr/local/libexec/tecrax/tecrax-network-cli-readonly
    device_id: core-sw-01
  delegate_to: localhost
  register: posture

- name: List the findings
  ansible.builtin.debug:
    msg: "{{ posture.facts.findings | map(attribute='id') | list }}"

- name: Fail on high findings
  ansible.builtin.assert:
    that:
      - posture.facts.finding_counts.high == 0
"""

RETURN = r"""
facts:
  description:
    - Facts of the contract C(tecrax.network_management_posture) 1.0, schema
      C(profile/schemas/network_management_posture.v1.schema.json).
  returned: always
  type: dict
  contains:
    contract:
      description: Identifier and version of the facts contract.
      returned: always
      type: dict
      sample: {"id": "tecrax.network_management_posture", "version": "1.0"}
    scope:
      description: >-
        Requested observations (C(device_family), C(ssh_server), C(ssh_protocol_versions))
        split into those observed and not.
      returned: always
      type: dict
    coverage:
      description: >-
        V(complete), V(partial) or V(blocked), with blockers such as C(system_info_failed),
        C(device_family_unsupported) or C(ssh_protocol_versions_unparsed).
      returned: always
      type: dict
    assessment:
      description: >-
        C(state) V(healthy), V(degraded), V(unhealthy), V(unknown) or V(unavailable);
        C(reasons) lists the high and medium finding ids.
      returned: always
      type: dict
      sample: {"state": "unhealthy", "reasons": ["legacy_ssh_v1_enabled"]}
    non_claims:
      description: What these facts do not claim.
      returned: always
      type: list
      elements: str
    device:
      description: C(support), C(vendor), C(family), C(model) and C(software_version), as in the inventory.
      returned: always
      type: dict
    ssh:
      description: The SSH server facts the findings were derived from, as in the inventory.
      returned: always
      type: dict
    findings:
      description: Findings, most severe first; empty without complete coverage.
      returned: always
      type: list
      elements: dict
      contains:
        id:
          description: Finding identifier.
          returned: always
          type: str
          sample: legacy_ssh_crypto_observed
        severity:
          description: V(high), V(medium) or V(low).
          returned: always
          type: str
          sample: medium
        detail:
          description: One bounded sentence, for legacy crypto the algorithms concerned.
          returned: always
          type: str
          sample: "enabled: 3des-cbc, hmac-md5"
    finding_counts:
      description: Number of findings per severity.
      returned: always
      type: dict
      sample: {"high": 1, "medium": 1, "low": 0}
    legacy_algorithms_enabled:
      description: Legacy algorithms enabled or negotiated.
      returned: always
      type: list
      elements: str
    wrapper:
      description: How each wrapper call ended, as in the inventory.
      returned: always
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import exit_with_facts
from ansible_collections.tecrax.ops.plugins.module_utils.network.network_device import (
    assess_posture,
    identify_family,
)
from ansible_collections.tecrax.ops.plugins.module_utils.network.network_wrapper import (
    DEFAULT_TIMEOUT_SECONDS,
    observe_with_module,
    wrapper_argument_spec,
)


def main() -> None:
    module = AnsibleModule(argument_spec=wrapper_argument_spec(DEFAULT_TIMEOUT_SECONDS),
                           supports_check_mode=True)
    raw = observe_with_module(module, identify_family)
    exit_with_facts(module, "network_device_posture", lambda: assess_posture(raw))


if __name__ == "__main__":
    main()
