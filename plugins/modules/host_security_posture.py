#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_security_posture
short_description: Observe a read-only security posture of a Debian-family host
version_added: 0.4.0
description:
  - Observes whether unattended upgrades are enabled, how many package updates (and security
    updates) are pending, the ASLR mode C(kernel.randomize_va_space), C(kernel.dmesg_restrict)
    and the reboot-required marker, and returns them as one normalized facts object of the
    contract C(tecrax.host_security_posture) version C(1.0).
  - Fixed observations only, the module takes no options. Commands run without a shell in the
    C locale; nothing on the host is changed, no package list is refreshed.
  - Runs C(dpkg-query -W -f=${db:Status-Status}\n unattended-upgrades),
    C(apt-config dump) of C(APT::Periodic), C(systemctl show) of C(apt-daily-upgrade.timer) and
    C(unattended-upgrades.service), and C(apt-get -s dist-upgrade) with locking and apt's
    binary cache files disabled, so that the simulation neither waits for nor writes anything.
    It lists C(/var/lib/apt/lists), reads C(/proc/sys/kernel/randomize_va_space),
    C(/proc/sys/kernel/dmesg_restrict) and C(/var/run/reboot-required.pkgs), and checks
    whether C(/var/run/reboot-required) exists.
  - I(Unattended upgrades enabled) means the package is installed, C(APT::Periodic::Enable) is
    not C(0), C(APT::Periodic::Unattended-Upgrade) is set and not C(0), and
    C(apt-daily-upgrade.timer) (which starts the periodic run) is loaded, active and enabled or
    static. C(unattended-upgrades.service) is reported only, because it installs nothing on a schedule.
  - The assessment is V(degraded) when anything observed is bad (with one reason per finding),
    V(healthy) when everything was observed and nothing is bad, V(unknown) when some
    observations could not be made and nothing observed is bad, V(unavailable) when none could.
  - A command or file that is missing is reported in RV(facts.scope) and RV(facts.coverage);
    the module does not fail for it.
author:
  - Tecrax developers (!UNKNOWN)
options: {}
extends_documentation_fragment:
  - tecrax.ops.attributes
  - tecrax.ops.command_budget
attributes:
  platform:
    description: Debian and Ubuntu hosts managed by systemd; on other Linux hosts the apt-based observations are reported as not made.
notes:
  - Pending updates are computed from the package lists already on the host, which may be
    old; RV(facts.pending_updates.package_index_age_seconds) says how old.
  - In a container, the kernel values may be those of the machine the container runs on.
seealso:
  - name: apt-get(8)
    description: The C(--simulate) option used to count pending updates.
    link: https://manpages.debian.org/bookworm/apt/apt-get.8.en.html
  - name: Debian UnattendedUpgrades
    description: How the periodic unattended upgrade run is configured.
    link: https://wiki.debian.org/UnattendedUpgrades
"""

EXAMPLES = r"""
- name: Observe the security posture
  tecrax.ops.host_security_posture:
  register: posture

- name: Show the findings
  ansible.builtin.debug:
    msg: "{{ posture.facts.assessment.state }}: {{ posture.facts.assessment.reasons | default([]) | join(', ') }}"

- name: Require every observation
  ansible.builtin.assert:
    that:
      - posture.facts.coverage.state == 'complete'
"""

RETURN = r"""
facts:
  description:
    - Facts of the contract C(tecrax.host_security_posture) 1.0, schema
      C(profile/schemas/host_security_posture.v1.schema.json).
    - Values that were not observed are C(null).
  returned: always
  type: dict
  contains:
    contract:
      description: Identifier and version of the facts contract.
      returned: always
      type: dict
      sample: {"id": "tecrax.host_security_posture", "version": "1.0"}
    scope:
      description: >-
        Requested observations (C(unattended_upgrades), C(pending_updates), C(aslr),
        C(dmesg_restrict), C(reboot_required)) in C(requested) in this order, split into
        C(observed) and C(not_observed).
      returned: always
      type: dict
    coverage:
      description: Whether every observation was made.
      returned: always
      type: dict
      contains:
        state:
          description: V(complete), V(partial) or V(blocked).
          returned: always
          type: str
          choices: [complete, partial, blocked]
        blockers:
          description: Why an observation was not made, for example C(apt_get_not_found) or C(package_lists_missing).
          returned: always
          type: list
          elements: str
          sample: [package_lists_missing]
    assessment:
      description: The posture verdict.
      returned: always
      type: dict
      contains:
        state:
          description: V(healthy), V(degraded), V(unknown) or V(unavailable) (see the description).
          returned: always
          type: str
          choices: [healthy, degraded, unknown, unavailable]
        reasons:
          description: >-
            Findings when degraded: C(unattended_upgrades_not_installed),
            C(apt_periodic_disabled), C(unattended_upgrade_interval_off),
            C(upgrade_timer_not_scheduled), C(security_updates_pending), C(aslr_not_full),
            C(dmesg_not_restricted), C(reboot_required).
          returned: when degraded
          type: list
          elements: str
          sample: [security_updates_pending, reboot_required]
    non_claims:
      description: What these facts do not claim.
      returned: always
      type: list
      elements: str
    unattended_upgrades:
      description: Whether and how the periodic unattended upgrade run is configured.
      returned: always
      type: dict
      contains:
        enabled:
          description: Whether the periodic run would install upgrades (see the description); C(null) when unknown.
          returned: always
          type: bool
        package_installed:
          description: Whether the C(unattended-upgrades) package is installed.
          returned: always
          type: bool
        periodic_enable:
          description: C(APT::Periodic::Enable) as configured; C(null) when unset (apt then treats it as C(1)).
          returned: always
          type: str
        unattended_upgrade_interval:
          description: C(APT::Periodic::Unattended-Upgrade) as configured; C(null) when unset (off).
          returned: always
          type: str
          sample: "1"
        update_package_lists_interval:
          description: C(APT::Periodic::Update-Package-Lists) as configured; C(null) when unset (off).
          returned: always
          type: str
          sample: "1"
        upgrade_timer:
          description: >-
            systemd state of C(apt-daily-upgrade.timer): C(unit), C(load_state),
            C(active_state), C(sub_state), C(unit_file_state), C(result).
          returned: always
          type: dict
        shutdown_service:
          description: systemd state of C(unattended-upgrades.service), with the same fields.
          returned: always
          type: dict
    pending_updates:
      description: Updates that C(apt-get -s dist-upgrade) would install from the package lists on the host.
      returned: always
      type: dict
      contains:
        total:
          description: Installed packages that would be upgraded.
          returned: always
          type: int
          sample: 3
        security:
          description: Of those, upgrades from an archive whose origin or suite contains C(-security).
          returned: always
          type: int
          sample: 2
        package_index_files:
          description: Package index files in C(/var/lib/apt/lists).
          returned: always
          type: int
          sample: 4
        package_index_age_seconds:
          description: Age of the newest package index file, by its modification time.
          returned: always
          type: int
          sample: 86400
    kernel:
      description: Kernel settings as the host sees them.
      returned: always
      type: dict
      contains:
        randomize_va_space:
          description: C(kernel.randomize_va_space) (0 off, 1 partial, 2 full ASLR).
          returned: always
          type: int
          sample: 2
        dmesg_restrict:
          description: C(kernel.dmesg_restrict) (1 restricts the kernel log to privileged users).
          returned: always
          type: int
          sample: 1
    reboot_required:
      description: The reboot-required marker Debian and Ubuntu package scripts write.
      returned: always
      type: dict
      contains:
        required:
          description: Whether C(/var/run/reboot-required) exists.
          returned: always
          type: bool
        packages:
          description: Distinct package names in C(/var/run/reboot-required.pkgs); C(null) when that file does not exist.
          returned: always
          type: int
          sample: 1
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import run_host_observation
from ansible_collections.tecrax.ops.plugins.module_utils.host.host_security_posture import (
    collect_security_posture,
    normalize_host_security_posture,
)


def main() -> None:
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    run_host_observation(module, "host_security_posture", collect_security_posture, normalize_host_security_posture)


if __name__ == "__main__":
    main()
