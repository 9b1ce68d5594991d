#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: ntp_health
short_description: Observe which time daemon keeps a Linux host's clock and whether it is synchronized
version_added: 0.4.0
description:
  - Finds out which time daemon is in charge of the managed host's clock (chrony, ntpd in
    its ntpsec or classic form, or systemd-timesyncd), reads its systemd state and asks the
    daemon itself whether the clock is synchronized. Returns one normalized facts object of
    the contract C(tecrax.ntp_local_health) version C(1.0).
  - Fixed observations only, the module takes no options. It runs, without a shell and in
    the C locale, C(systemctl show --property=LoadState,ActiveState,SubState,UnitFileState)
    for C(chrony.service), C(chronyd.service), C(ntpsec.service), C(ntp.service),
    C(ntpd.service) and C(systemd-timesyncd.service), and C(timedatectl show). Then, for the
    daemon in charge only, C(chronyc -n tracking), or
    C(ntpq -n -c 'rv 0 stratum,offset,rootdelay,rootdisp,leap'), or
    C(timedatectl show-timesync --all).
  - chrony and ntpd are judged by their own status, not by the kernel flag C(timedatectl)
    reports as C(NTPSynchronized), which can stay C(no) while chronyd tracks a source (for
    example chronyd started with C(-x)). systemd-timesyncd sets that flag itself, so it is
    its verdict.
  - A stopped, disabled or masked unit is an observed state, and a missing program is
    reported in RV(facts.coverage); neither fails the module.
  - No server name, address or reference ID reaches the facts; only the kind of reference
    (NTP source, local clock, reference clock) is kept.
author:
  - Tecrax developers (!UNKNOWN)
options: {}
extends_documentation_fragment:
  - tecrax.ops.attributes
  - tecrax.ops.command_budget
attributes:
  platform:
    description: Linux hosts managed by systemd.
notes:
  - C(timedatectl show) asks systemd-timedated over D-Bus, which systemd starts on demand
    and stops when idle. C(timedatectl show-timesync) is run only when systemd-timesyncd
    already runs, because asking it would otherwise start it.
  - C(chronyc) talks to chronyd over its Unix socket when run as root; run the module with
    privileges (the connector does, as root) for the full observation.
seealso:
  - module: tecrax.ops.ntp_server_health
  - name: chronyc(1)
    description: The C(tracking) report of chrony.
    link: https://chrony-project.org/doc/4.3/chronyc.html
"""

EXAMPLES = r"""
- name: Observe the time synchronization of the host
  tecrax.ops.ntp_health:
  register: ntp

- name: Show the daemon in charge and whether the clock is synchronized
  ansible.builtin.debug:
    msg: "{{ ntp.facts.time_daemon }}: synchronized={{ ntp.facts.synchronization.synchronized }}"

- name: Require a healthy time synchronization
  ansible.builtin.assert:
    that:
      - ntp.facts.assessment.state == 'healthy'
"""

RETURN = r"""
facts:
  description:
    - Facts of the contract C(tecrax.ntp_local_health) 1.0, schema
      C(profile/schemas/ntp_local_health.v1.schema.json); described field by field in
      C(docs/facts/ntp_local_health.md).
    - Text that was not observed is C(unknown); numbers and flags that were not observed are C(null).
  returned: always
  type: dict
  contains:
    contract:
      description: Identifier and version of the facts contract.
      returned: always
      type: dict
      sample: {"id": "tecrax.ntp_local_health", "version": "1.0"}
    scope:
      description: >-
        Requested observations: always C(unit_states) and C(timedatectl), plus the status
        of the daemon in charge (C(chrony_tracking), C(ntpq_system_variables) or
        C(timesyncd_status)); in C(requested) in this order, split into C(observed) and
        C(not_observed).
      returned: always
      type: dict
    coverage:
      description: Whether everything requested was observed.
      returned: always
      type: dict
      contains:
        state:
          description: V(complete), V(partial) or V(blocked) (nothing observed).
          returned: always
          type: str
          choices: [complete, partial, blocked]
        blockers:
          description: >-
            C(<observation>_not_installed) (program missing), C(<observation>_failed)
            (non-zero exit), C(<observation>_unparsed) or C(<observation>_not_collected).
          returned: always
          type: list
          elements: str
          sample: [chrony_tracking_failed]
    assessment:
      description: Verdict on the host's time synchronization.
      returned: always
      type: dict
      contains:
        state:
          description: >-
            V(healthy) one daemon runs and has the clock synchronized to an NTP source or
            reference clock; V(degraded) synchronized only to the local clock, or several
            daemons run; V(unhealthy) no daemon runs or the one in charge is not
            synchronized; V(unknown) its status could not be read; V(unavailable) the unit
            states could not be read.
          returned: always
          type: str
          choices: [healthy, degraded, unhealthy, unknown, unavailable]
        reasons:
          description: Why the state is not healthy (absent when healthy).
          returned: when not healthy
          type: list
          elements: str
          sample: [no_time_daemon_active]
    non_claims:
      description: What these facts do not claim.
      returned: always
      type: list
      elements: str
    time_daemon:
      description: The daemon in charge (the first running one of chrony, ntpd, systemd_timesyncd).
      returned: always
      type: str
      choices: [chrony, ntpd, systemd_timesyncd, none, unknown]
    active_daemons:
      description: Every time daemon whose unit runs.
      returned: always
      type: list
      elements: str
      sample: [chrony]
    daemons:
      description: >-
        Per daemon (C(chrony), C(ntpd), C(systemd_timesyncd)), the systemd state of its most
        relevant unit, with keys C(unit), C(load_state), C(active_state), C(sub_state),
        C(unit_file_state) and C(active) (true when the unit is active or reloading).
      returned: always
      type: dict
      sample:
        chrony: {unit: chrony.service, load_state: loaded, active_state: active, sub_state: running,
                 unit_file_state: enabled, active: true}
    kernel_clock:
      description: >-
        C(timedatectl show) flags C(ntp_enabled) (NTP), C(ntp_synchronized)
        (NTPSynchronized, the kernel flag) and C(can_ntp) (CanNTP); informational except
        for systemd-timesyncd.
      returned: always
      type: dict
      sample: {ntp_enabled: true, ntp_synchronized: false, can_ntp: true}
    synchronization:
      description: >-
        What the daemon in charge reports: C(basis) (C(chronyc_tracking), C(ntpq),
        C(timedatectl) or C(none)), C(synchronized), C(leap_status), C(reference_kind)
        (C(ntp_source), C(local_clock), C(refclock), C(none), C(unknown)), C(stratum) and
        C(offset_seconds) (positive when the local clock is ahead).
      returned: always
      type: dict
      sample: {basis: chronyc_tracking, synchronized: true, leap_status: normal, reference_kind: ntp_source,
               stratum: 9, offset_seconds: -1.289e-06}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import run_host_observation
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_local_health import (
    collect_local_health,
    normalize_ntp_local_health,
)


def main() -> None:
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    run_host_observation(module, "ntp_health", collect_local_health, normalize_ntp_local_health)


if __name__ == "__main__":
    main()
