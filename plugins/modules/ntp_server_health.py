#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: ntp_server_health
short_description: Observe the NTP server side of a Linux host without keeping peer identities
version_added: 0.4.0
description:
  - Observes the NTP daemon that serves time from the managed host (chrony, or ntpd in its
    ntpsec or classic form), its stratum, leap status, offset, root delay and root
    dispersion, and whether it serves NTP. Returns one normalized facts object of the
    contract C(tecrax.ntp_server_observation) version C(1.0).
  - Fixed observations only, the module takes no options. It runs, without a shell and in
    the C locale, C(systemctl show --property=LoadState,ActiveState,SubState,UnitFileState)
    for C(chrony.service), C(chronyd.service), C(ntpsec.service), C(ntp.service) and
    C(ntpd.service), and reads the port-123 lines of C(/proc/net/udp) and
    C(/proc/net/udp6). Then, for the running daemon only, C(chronyc -n tracking) and
    C(chronyc -n serverstats), or C(ntpq -n -c 'rv 0 stratum,offset,rootdelay,rootdisp,leap').
  - Serving means the daemon runs and a UDP socket is bound to port 123. chronyd opens that
    port only when an C(allow) directive admits clients, so a chrony client-only host is
    reported as not serving. chrony's counters of NTP packets received and dropped are
    reported as evidence of client traffic.
  - Peer identities never reach the facts, no reference ID, refid, server name or address;
    only the kind of reference (NTP source, local clock, reference clock) is kept.
  - A stopped, disabled or masked unit is an observed state, and a missing program is
    reported in RV(facts.coverage); neither fails the module.
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
  - C(chronyc serverstats) is answered over chronyd's Unix socket, which needs root; run
    the module with privileges (the connector does, as root).
  - systemd-timesyncd is a client only and is not considered here; see
    M(tecrax.ops.ntp_health) for the host's own synchronization.
seealso:
  - module: tecrax.ops.ntp_health
  - name: chronyc(1)
    description: The C(tracking) and C(serverstats) reports of chrony.
    link: https://chrony-project.org/doc/4.3/chronyc.html
"""

EXAMPLES = r"""
- name: Observe the NTP server side of the host
  tecrax.ops.ntp_server_health:
  register: ntp_server

- name: Show stratum and serving state
  ansible.builtin.debug:
    msg: "stratum {{ ntp_server.facts.stratum }}, {{ ntp_server.facts.serving.state }}"

- name: Require a healthy NTP server
  ansible.builtin.assert:
    that:
      - ntp_server.facts.assessment.state == 'healthy'
"""

RETURN = r"""
facts:
  description:
    - Facts of the contract C(tecrax.ntp_server_observation) 1.0, schema
      C(profile/schemas/ntp_server_observation.v1.schema.json); described field by field in
      C(docs/facts/ntp_server_observation.md).
    - Text that was not observed is C(unknown); numbers and flags that were not observed are C(null).
  returned: always
  type: dict
  contains:
    contract:
      description: Identifier and version of the facts contract.
      returned: always
      type: dict
      sample: {"id": "tecrax.ntp_server_observation", "version": "1.0"}
    scope:
      description: >-
        Requested observations: always C(unit_states) and C(udp_sockets), plus
        C(chrony_tracking) and C(chrony_serverstats) when chrony runs, or
        C(ntpq_system_variables) when ntpd runs; in C(requested) in this order, split into
        C(observed) and C(not_observed).
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
            (non-zero exit or unreadable), C(<observation>_unparsed) or
            C(<observation>_not_collected).
          returned: always
          type: list
          elements: str
          sample: [chrony_serverstats_failed]
    assessment:
      description: Verdict on the host as an NTP server.
      returned: always
      type: dict
      contains:
        state:
          description: >-
            V(healthy) an NTP daemon runs, is synchronized, has stratum 1..15 and serves;
            V(degraded) healthy but more than one NTP daemon runs; V(unhealthy) no NTP daemon
            runs, or it is not synchronized, out of stratum range or not serving; V(unknown)
            its status or the sockets could not be read; V(unavailable) the unit states
            could not be read.
          returned: always
          type: str
          choices: [healthy, degraded, unhealthy, unknown, unavailable]
        reasons:
          description: Every reason that applies (absent when healthy).
          returned: when not healthy
          type: list
          elements: str
          sample: [not_serving]
    non_claims:
      description: What these facts do not claim.
      returned: always
      type: list
      elements: str
    ntp_daemon:
      description: The running NTP daemon (chrony before ntpd).
      returned: always
      type: str
      choices: [chrony, ntpd, none, unknown]
    active_daemons:
      description: Every NTP daemon whose unit runs.
      returned: always
      type: list
      elements: str
      sample: [chrony]
    daemons:
      description: >-
        Per daemon (C(chrony), C(ntpd)), the systemd state of its most relevant unit, with
        keys C(unit), C(load_state), C(active_state), C(sub_state), C(unit_file_state) and
        C(active).
      returned: always
      type: dict
    stratum:
      description: The host's stratum (0..16; 16 or 0 when unsynchronized).
      returned: always
      type: int
      sample: 8
    leap_status:
      description: Leap status of the daemon.
      returned: always
      type: str
      choices: [normal, insert_second, delete_second, unsynchronized, unknown]
    reference_kind:
      description: >-
        Kind of reference the daemon tracks, never its identity; C(unknown) for a
        synchronized ntpd, whose refid is not read.
      returned: always
      type: str
      choices: [ntp_source, local_clock, refclock, none, unknown]
    offset_seconds:
      description: Offset of the local clock from NTP time in seconds, positive when the local clock is ahead.
      returned: always
      type: float
      sample: 0.0
    root_delay_seconds:
      description: Root delay in seconds.
      returned: always
      type: float
      sample: 0.000024
    root_dispersion_seconds:
      description: Root dispersion in seconds.
      returned: always
      type: float
      sample: 0.000118
    serving:
      description: >-
        C(state) (C(serving), C(not_serving), C(unknown)), C(udp_123_listening), and for
        chrony C(ntp_packets_received) and C(ntp_packets_dropped) since chronyd started.
      returned: always
      type: dict
      sample: {state: serving, udp_123_listening: true, ntp_packets_received: 4, ntp_packets_dropped: 0}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import run_host_observation
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_server_health import (
    collect_server_observation,
    normalize_ntp_server_observation,
)


def main() -> None:
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    run_host_observation(module, "ntp_server_health", collect_server_observation, normalize_ntp_server_observation)


if __name__ == "__main__":
    main()
