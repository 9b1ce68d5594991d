#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: chrony_ntp_server
short_description: Make chrony serve NTP to declared private client subnets, with backup and restore
version_added: 0.4.0
description:
  - Manages exactly one file, C(/etc/chrony/conf.d/tecrax-ntp-server.conf), which Debian and
    Ubuntu chrony include through C(confdir /etc/chrony/conf.d). It holds a managed-by header and
    one C(allow <network>) line per client subnet. No other file or directive is touched.
  - With O(state=present), the subnets are validated strictly (see O(allowed_subnets)) and
    the file is rendered. If the host already holds exactly that content, nothing happens
    (C(changed=false)). Otherwise the module validates the rendered lines with C(chronyd -p -f),
    records a backup of the previous content (or of its absence) under
    C(/var/lib/tecrax/chrony-ntp-server/), writes the file atomically (temporary file, fsync,
    rename; mode 0644, owner root), checks chrony's whole configuration with C(chronyd -p),
    restarts C(chrony.service) through systemd and verifies for up to 5 seconds that the
    service is active, that chrony's configuration contains the allow lines, that
    C(chronyc accheck) allows every subnet and that chronyd listens on UDP port 123.
  - Any failure after the write restores the previous content (or removes the file), restarts
    chrony, and fails with a message that says whether the restore worked; RV(facts.automatic_restore)
    and RV(facts.restore_succeeded) report it.
  - With O(state=absent) the file is removed (with the same backup, restart and restore), and
    only an active chrony is required afterwards.
  - With O(state=previous) the state recorded before the most recent apply that changed the
    file is restored, but only while the file still holds what that apply wrote; if it already
    holds the previous state nothing happens, and if it holds anything else the module fails
    without touching it.
  - If an earlier run wrote the file and was interrupted before it restarted and verified
    chrony, a run with the same subnets finishes that transaction (restart, verify, restore on
    failure) instead of reporting no change.
  - In check mode nothing is written, restarted or created; the result says what would change,
    and with C(--diff) shows the file before and after. Check mode makes the same checks a real
    run makes before its first write (systemd answers, chrony is installed, chrony's conf.d
    exists, C(chronyd -p -f) accepts the rendered file, from a temporary copy outside chrony's
    and Tecrax's directories) and fails where a real run would, with the same message.
author:
  - Tecrax developers (!UNKNOWN)
options:
  state:
    description:
      - V(present) serves NTP to O(allowed_subnets); V(absent) removes the managed file;
        V(previous) rolls back to the state recorded before the most recent change.
    type: str
    choices: [present, absent, previous]
    default: present
  allowed_subnets:
    description:
      - Client networks chrony may serve, required with O(state=present) and refused otherwise.
      - Each entry is one network in CIDR notation with its host bits zero, either IPv4 inside
        the RFC 1918 private ranges with a prefix of /16 to /30, or IPv6 inside the unique
        local range C(fc00::/7) with a prefix of /48 to /64.
      - Whitespace, newlines, comments, extra tokens, duplicates, public, loopback, link-local,
        multicast and unspecified networks are refused before the host is touched.
      - 1 to 32 entries. They are written in address order (IPv4 first), so the order given
        does not change the file.
    type: list
    elements: str
extends_documentation_fragment:
  - tecrax.ops.command_budget
attributes:
  check_mode:
    support: full
    description: Computes the decision and the diff, refuses where a real run would refuse, and changes nothing on the host.
  diff_mode:
    support: full
    description: Shows the managed file before and after (an absent file as empty text).
  platform:
    support: full
    platforms: posix
    description: Debian or Ubuntu hosts with chrony under systemd (C(chrony.service), C(/etc/chrony/conf.d)).
notes:
  - Run as root. The module does not install chrony and does not open a firewall.
  - UDP port 123 is checked on the host itself (a socket of chronyd's main process bound to
    port 123); reachability from the clients is not checked.
seealso:
  - module: tecrax.ops.chrony_ntp_server_info
  - name: chrony.conf(5)
    description: The allow directive and confdir.
    link: https://chrony-project.org/doc/4.3/chrony.conf.html
"""

EXAMPLES = r"""
- name: Serve NTP to two private client subnets
  tecrax.ops.chrony_ntp_server:
    allowed_subnets:
      - 10.20.0.0/16  # secret-topology: allow example client subnet
      - fd12:3456:789a::/48
  register: ntp_server

- name: Preview the change without touching the host
  tecrax.ops.chrony_ntp_server:
    allowed_subnets:
      - 10.20.0.0/16  # secret-topology: allow example client subnet
  check_mode: true
  diff: true

- name: Roll back to the state before the most recent change
  tecrax.ops.chrony_ntp_server:
    state: previous

- name: Stop serving NTP from this file
  tecrax.ops.chrony_ntp_server:
    state: absent
"""

RETURN = r"""
before_state:
  description: The managed file before the run (same shape as RV(facts.before_state)).
  returned: always
  type: dict
after_state:
  description: The managed file after the run, or as it would be in check mode (same shape as RV(facts.after_state)).
  returned: always
  type: dict
facts:
  description:
    - Facts of the contract C(tecrax.chrony_ntp_server_mutation) 1.0, schema
      C(profile/schemas/chrony_ntp_server_mutation.v1.schema.json).
    - Also returned when the module fails, so that a failed run still says what it observed
      and whether it restored the previous state.
  returned: always
  type: dict
  contains:
    contract:
      description: Identifier and version of the facts contract.
      returned: always
      type: dict
      sample: {"id": "tecrax.chrony_ntp_server_mutation", "version": "1.0"}
    scope:
      description: >-
        Requested observations (C(managed_file), C(backup_record), C(chrony_config),
        C(chrony_service), C(udp_123_listener), C(access_rules)) split into observed and not.
      returned: always
      type: dict
    coverage:
      description: Whether every observation was made; blockers name the missing ones.
      returned: always
      type: dict
    assessment:
      description: >-
        V(healthy) when the host is in the desired state and serving as it should,
        V(unhealthy) with C(reasons) when something observed is wrong (or the run failed),
        V(unknown) when an observation needed for the verdict is missing.
      returned: always
      type: dict
    non_claims:
      description: What these facts do not claim (firewall, clients, upstream sources, external reachability).
      returned: always
      type: list
      elements: str
    action:
      description: V(apply) for O(state=present) or O(state=absent), V(rollback) for O(state=previous).
      returned: always
      type: str
      choices: [read, apply, rollback]
    check_mode:
      description: Whether the run was a check-mode run (nothing changed).
      returned: always
      type: bool
    managed_file:
      description: The one file this module manages.
      returned: always
      type: str
      sample: /etc/chrony/conf.d/tecrax-ntp-server.conf
    desired_state:
      description: >-
        The requested state; V(unspecified) only in facts of M(tecrax.ops.chrony_ntp_server_info)
        read without O(allowed_subnets).
      returned: always
      type: str
      choices: [present, absent, previous, unspecified]
    allowed_subnets:
      description: The validated subnets in canonical form and address order (empty unless O(state=present)).
      returned: always
      type: list
      elements: str
    desired_state_applied:
      description: >-
        Whether the file now holds exactly the desired content (or is absent, or holds the
        previous state); C(null) when it could not be read.
      returned: always
      type: bool
    config_present:
      description: >-
        Whether the managed file is present with its header and chrony's parsed configuration
        (C(chronyd -p)) contains each of its allow lines.
      returned: always
      type: bool
    allow_lines_effective:
      description: Whether C(chronyc accheck) allows the first address of every subnet; C(null) when nothing was checked.
      returned: always
      type: bool
    chrony_installed:
      description: Whether C(chronyd) was found.
      returned: always
      type: bool
    chrony_active:
      description: Whether C(chrony.service) is active.
      returned: always
      type: bool
    chrony_service:
      description: C(LoadState), C(ActiveState) and C(SubState) of C(chrony.service).
      returned: always
      type: dict
    udp_123_listening:
      description: Whether chronyd's main process holds a UDP socket bound to port 123.
      returned: always
      type: bool
    changed:
      description: Whether the run changed the file or restarted chrony (in check mode, whether it would).
      returned: always
      type: bool
    file_action:
      description: What happened (or would happen) to the file.
      returned: always
      type: str
      choices: [none, create, replace, remove]
    diff:
      description: Subnets added to and removed from the file by the run.
      returned: always
      type: dict
    before_state:
      description: >-
        The file before the run: C(present), C(sha256), C(managed_header), C(allowed_subnets)
        (the allow lines' arguments), C(allow_line_count), C(other_line_count).
      returned: always
      type: dict
    after_state:
      description: The file after the run (predicted in check mode), same shape as C(before_state).
      returned: always
      type: dict
    rollback_available:
      description: >-
        Whether a backup of the state before the last change is recorded and the file still
        holds what that change wrote (what O(state=previous) would undo).
      returned: always
      type: bool
    backup:
      description: C(generation) (count of changing applies), C(phase) and C(previous_present) of the backup record.
      returned: always
      type: dict
    automatic_restore:
      description: Whether the run restored the previous state after a failure.
      returned: always
      type: bool
    restore_succeeded:
      description: Whether that restore brought chrony back to active; C(null) without a restore.
      returned: always
      type: bool
    failure:
      description: Snake_case reason when the run failed, else C(null).
      returned: always
      type: str
      sample: restart_failed
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.chrony_ntp_server_host import (
    ChronyHost,
    apply,
    binaries,
    module_runner,
    rollback,
)
from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import fail_timed_out, module_commands
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_subnets import (
    SubnetError,
    validate_allowed_subnets,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "choices": ["present", "absent", "previous"], "default": "present"},
            "allowed_subnets": {"type": "list", "elements": "str"},
        },
        required_if=[("state", "present", ("allowed_subnets",))],
        supports_check_mode=True,
    )
    state = module.params["state"]
    subnets = module.params["allowed_subnets"]
    if state != "present" and subnets is not None:
        module.fail_json(msg="allowed_subnets applies to state=present only")
    if state == "present":
        try:
            subnets = validate_allowed_subnets(subnets)
        except SubnetError as error:
            module.fail_json(msg="invalid allowed_subnets, nothing was changed: %s" % error)

    commands = module_commands(module)
    host = ChronyHost(module_runner(commands), binaries(module))
    if state == "previous":
        result = rollback(host, module.check_mode)
    else:
        result = apply(host, state, subnets or [], module.check_mode)
    output = {
        "changed": result.changed,
        "facts": result.facts,
        "before_state": result.facts["before_state"],
        "after_state": result.facts["after_state"],
    }
    if module._diff and result.diff is not None:
        output["diff"] = result.diff
    if commands.timed_out is not None:
        fail_timed_out(module, commands.timed_out, result.message, **output)
    if result.failed:
        module.fail_json(msg=result.message, **output)
    module.exit_json(**output)


if __name__ == "__main__":
    main()
