#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: network_device_inventory
short_description: Read the identity and SSH settings of a network switch through an operator-owned wrapper
version_added: 0.4.0
description:
  - Calls the operator-owned wrapper C(tecrax-network-cli-readonly) with its fixed subcommands
    C(system-info) and C(ssh-status) and returns the device's identity and SSH server
    settings as one normalized facts object of the contract
    C(tecrax.network_device_inventory) version C(1.0).
  - Supported device families, recognised from the C(system-info) output only -
    TP-Link TL-SG2452 (also sold as T1600G-52TS), JetStream CLI C(show system-info) and
    C(show ip ssh); HPE V1910 on Comware 5, C(display version), C(display device manuinfo),
    C(display ssh server status) and C(display ssh server session).
  - Any other device is C(unsupported), nothing is parsed from its output and coverage stays
    incomplete; values are never guessed from a similar-looking format.
  - Paging prompts, carriage returns, backspaces, ANSI cursor movements, CLI prompts and
    echoed commands in the wrapper output are tolerated.
  - A wrapper that is missing, exits non-zero, times out or prints more than 64 KiB is
    reported in RV(facts.wrapper) and RV(facts.coverage); the module does not fail for it.
  - Serial numbers and MAC addresses are never recorded; RV(facts.device.withheld) says
    which of them the device printed.
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
  - module: tecrax.ops.network_device_posture
"""

EXAMPLES = r"""
- name: Read a switch through the operator's wrapper, from the controller
  tecrax.ops.network_device_inventory:
    wrapper_path: /usr/local/libexec/tecrax/tecrax-network-cli-readonly
    device_id: core-sw-01
  delegate_to: localhost
  register: switch

- name: Require a complete observation
  ansible.builtin.assert:
    that:
      - switch.facts.coverage.state == 'complete'
    fail_msg: "{{ switch.facts.coverage.blockers }}"

- name: Show model and software version
  ansible.builtin.debug:
    msg: "{{ switch.facts.device.model }} runs {{ switch.facts.device.software_version }}"
"""

RETURN = r"""
facts:
  description:
    - Facts of the contract C(tecrax.network_device_inventory) 1.0, schema
      C(profile/schemas/network_device_inventory.v1.schema.json).
    - Text that was not observed is C(unknown); numbers and booleans that were not observed
      are C(null).
  returned: always
  type: dict
  contains:
    contract:
      description: Identifier and version of the facts contract.
      returned: always
      type: dict
      sample: {"id": "tecrax.network_device_inventory", "version": "1.0"}
    scope:
      description: >-
        Requested observations (C(device_family), C(model), C(software_version),
        C(hardware_version), C(uptime), C(ssh_server), C(ssh_protocol_versions)) split into
        those observed and not.
      returned: always
      type: dict
    coverage:
      description: >-
        V(complete) when every observation was made, V(blocked) when the wrapper gave
        nothing, V(partial) otherwise. Blockers name the cause, for example
        C(system_info_failed), C(system_info_timeout), C(ssh_status_output_limit_exceeded),
        C(device_family_unsupported) or C(uptime_unparsed).
      returned: always
      type: dict
      sample: {"state": "partial", "blockers": ["device_family_unsupported"]}
    assessment:
      description: >-
        Verdict on the observation, not on the device - V(healthy) when complete,
        V(unknown) when partial, V(unavailable) when blocked.
      returned: always
      type: dict
      sample: {"state": "healthy"}
    non_claims:
      description: What these facts do not claim.
      returned: always
      type: list
      elements: str
    device:
      description: Identity of the device.
      returned: always
      type: dict
      contains:
        support:
          description: V(supported), V(unsupported) (output not recognised) or V(unknown) (no output).
          returned: always
          type: str
          sample: supported
        vendor:
          description: V(TP-Link), V(HPE) or V(unknown).
          returned: always
          type: str
          sample: HPE
        family:
          description: >-
            V(tplink_jetstream_sg2452), V(hpe_v1910_comware5), V(unsupported) or V(unknown).
          returned: always
          type: str
          sample: hpe_v1910_comware5
        model:
          description: Model as the device names it.
          returned: always
          type: str
          sample: V1910-48G
        product_number:
          description: HPE product number; C(unknown) for TP-Link.
          returned: always
          type: str
          sample: JE009A
        system_name:
          description: System name (TP-Link) or the name in the CLI prompt (HPE).
          returned: always
          type: str
          sample: core-sw-01
        software_version:
          description: Firmware or Comware software version and release.
          returned: always
          type: str
          sample: 5.20.99 Release 1519P03
        hardware_version:
          description: Hardware revision.
          returned: always
          type: str
          sample: REV.B
        bootloader_version:
          description: Boot loader (TP-Link) or Bootrom (HPE) version, where printed.
          returned: always
          type: str
          sample: "167"
        uptime_seconds:
          description: Time since the device started; minute precision on Comware.
          returned: always
          type: int
          sample: 789240
        withheld:
          description: Identifiers the device printed that were deliberately not recorded.
          returned: always
          type: list
          elements: str
          sample: [serial_number, mac_address]
    ssh:
      description: The SSH server as the device reports it.
      returned: always
      type: dict
      contains:
        server_enabled:
          description: Whether the SSH server is enabled.
          returned: always
          type: bool
        protocol_versions:
          description: >-
            C(v1) and C(v2) - whether each SSH protocol version is enabled (Comware reports
            version 1.99 while SSH1 compatibility is on).
          returned: always
          type: dict
          sample: {"v1": false, "v2": true}
        idle_timeout_seconds:
          description: SSH idle timeout; C(null) where the device does not report one (Comware 5).
          returned: always
          type: int
        max_clients:
          description: Maximum concurrent SSH clients; C(null) where not reported (Comware 5).
          returned: always
          type: int
        algorithms:
          description: >-
            C(basis) is V(configured) (the device lists enabled and disabled algorithms),
            V(negotiated) (seen in established sessions) or V(not_reported); C(encryption)
            and C(integrity) each hold C(enabled) and C(disabled) lists of lower-case names.
          returned: always
          type: dict
        sessions_established:
          description: Established SSH sessions (Comware); C(null) where not reported.
          returned: always
          type: int
    wrapper:
      description: >-
        For C(system_info) and C(ssh_status) - C(status) (V(ok), V(failed), V(timeout),
        V(output_limit_exceeded), V(empty), V(missing), V(not_run)), C(exit_code),
        C(output_bytes) and C(paging_prompts_removed). The output itself is not returned.
      returned: always
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import exit_with_facts
from ansible_collections.tecrax.ops.plugins.module_utils.network.network_device import (
    identify_family,
    normalize_inventory,
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
    exit_with_facts(module, "network_device_inventory", lambda: normalize_inventory(raw))


if __name__ == "__main__":
    main()
