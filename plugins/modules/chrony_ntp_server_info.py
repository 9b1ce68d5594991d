#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: chrony_ntp_server_info
short_description: Observe the chrony NTP server state that tecrax.ops.chrony_ntp_server manages
version_added: 0.4.0
description:
  - Reads the managed file C(/etc/chrony/conf.d/tecrax-ntp-server.conf), the backup record of
    M(tecrax.ops.chrony_ntp_server) under C(/var/lib/tecrax/chrony-ntp-server/), chrony's parsed
    configuration (C(chronyd -p)), the state of C(chrony.service) (C(systemctl show)), the UDP
    sockets of chronyd's main process bound to port 123 (C(/proc/net/udp), C(/proc/net/udp6))
    and C(chronyc accheck) for every subnet, and returns them as facts of the contract
    C(tecrax.chrony_ntp_server_mutation) version C(1.0) with RV(facts.action=read).
  - It changes nothing. Given O(allowed_subnets), it judges the host against that desired
    state (the independent post-read of a change); without them, against the subnets in the
    managed file.
  - An observation that cannot be made (no chronyd, no systemd, unreadable file) is reported in
    the facts' C(scope) and C(coverage); the module does not fail for it.
author:
  - Tecrax developers (!UNKNOWN)
options:
  allowed_subnets:
    description:
      - The desired client subnets, validated exactly as M(tecrax.ops.chrony_ntp_server) validates
        them (strict CIDR, RFC 1918 /16 to /30 or unique local IPv6 /48 to /64, 1 to 32 entries).
      - When given, RV(facts.desired_state_applied) says whether the file holds exactly the
        content the mutation would write for them.
    type: list
    elements: str
extends_documentation_fragment:
  - tecrax.ops.attributes
  - tecrax.ops.command_budget
attributes:
  platform:
    description: Debian or Ubuntu hosts with chrony under systemd.
notes:
  - Run as root; reading chronyd's sockets and the backup record needs it.
seealso:
  - module: tecrax.ops.chrony_ntp_server
"""

EXAMPLES = r"""
- name: Observe the NTP server against the desired subnets
  tecrax.ops.chrony_ntp_server_info:
    allowed_subnets:
      - 10.20.0.0/16  # secret-topology: allow example client subnet
  register: ntp_server

- name: Require that it serves them
  ansible.builtin.assert:
    that:
      - ntp_server.facts.assessment.state == 'healthy'
      - ntp_server.facts.udp_123_listening
"""

RETURN = r"""
facts:
  description:
    - Facts of the contract C(tecrax.chrony_ntp_server_mutation) 1.0 (see M(tecrax.ops.chrony_ntp_server)
      for every field), with RV(facts.action=read), C(changed=false) and equal
      C(before_state) and C(after_state).
    - C(desired_state) is C(present) when O(allowed_subnets) is given, else C(unspecified).
  returned: always
  type: dict
  contains:
    action:
      description: Always V(read).
      returned: always
      type: str
      sample: read
    assessment:
      description: >-
        V(healthy) when the file is as desired (or, without O(allowed_subnets), present and
        managed), loaded by chrony, chrony is active, listens on UDP 123 and allows every
        subnet; V(unhealthy) with C(reasons) when any of that was observed to be false.
      returned: always
      type: dict
    desired_state_applied:
      description: Whether the file holds exactly the desired content; C(null) without O(allowed_subnets).
      returned: always
      type: bool
    rollback_available:
      description: Whether M(tecrax.ops.chrony_ntp_server) with C(state=previous) would restore something now.
      returned: always
      type: bool
    backup:
      description: C(generation), C(phase) and C(previous_present) of the backup record.
      returned: always
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.chrony_ntp_server_host import (
    ChronyHost,
    binaries,
    module_runner,
    read,
)
from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import fail_timed_out, module_commands
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_subnets import (
    SubnetError,
    validate_allowed_subnets,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={"allowed_subnets": {"type": "list", "elements": "str"}},
        supports_check_mode=True,
    )
    subnets = module.params["allowed_subnets"]
    desired_state = "unspecified"
    if subnets is not None:
        try:
            subnets = validate_allowed_subnets(subnets)
        except SubnetError as error:
            module.fail_json(msg="invalid allowed_subnets: %s" % error)
        desired_state = "present"
    commands = module_commands(module)
    result = read(ChronyHost(module_runner(commands), binaries(module)), desired_state, subnets or [])
    if commands.timed_out is not None:
        fail_timed_out(module, commands.timed_out, changed=False, facts=result.facts)
    module.exit_json(changed=False, facts=result.facts)


if __name__ == "__main__":
    main()
