#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_inventory
short_description: Observe a bounded basic inventory of a Linux host
version_added: 0.4.0
description:
  - Reads the operating system release, kernel, hostname, uptime, load average, root
    filesystem usage and memory figures of the managed host and returns them as one
    normalized facts object of the contract C(tecrax.basic_host_inventory) version C(1.0).
  - Fixed observations only, the module takes no options. It reads C(/etc/os-release)
    (falling back to C(/usr/lib/os-release)), C(/proc/uptime), C(/proc/loadavg) and
    C(/proc/meminfo), runs C(df -P -k /) without a shell, and takes the kernel and hostname
    from the running system.
  - An observation that cannot be made (missing file, missing C(df), unparsable output) is
    reported in RV(facts.scope) and RV(facts.coverage); the module does not fail for it.
  - Every value is bounded; text that was not observed is the string C(unknown) and numbers
    that were not observed are C(null).
author:
  - Tecrax developers (!UNKNOWN)
options: {}
extends_documentation_fragment:
  - tecrax.ops.attributes
  - tecrax.ops.command_budget
attributes:
  platform:
    description: Linux hosts with C(/proc) and a POSIX C(df).
notes:
  - Memory figures follow C(free -m) of procps-ng 4 for C(/proc/meminfo); they do not
    reflect cgroup limits of a container.
seealso:
  - name: os-release(5)
    description: Format of the operating system identification file.
    link: https://www.freedesktop.org/software/systemd/man/latest/os-release.html
"""

EXAMPLES = r"""
- name: Observe basic host inventory
  tecrax.ops.host_inventory:
  register: inventory

- name: Show the operating system and free memory
  ansible.builtin.debug:
    msg: "{{ inventory.facts.os.pretty_name }}, {{ inventory.facts.memory_mib.available }} MiB available"

- name: Require a complete observation
  ansible.builtin.assert:
    that:
      - inventory.facts.coverage.state == 'complete'
"""

RETURN = r"""
facts:
  description:
    - Facts of the contract C(tecrax.basic_host_inventory) 1.0, schema
      C(profile/schemas/basic_host_inventory.v1.schema.json).
    - Text that was not observed is C(unknown); numbers that were not observed are C(null).
  returned: always
  type: dict
  contains:
    contract:
      description: Identifier and version of the facts contract.
      returned: always
      type: dict
      sample: {"id": "tecrax.basic_host_inventory", "version": "1.0"}
    scope:
      description: >-
        Requested observations (C(os_release), C(kernel), C(hostname), C(uptime),
        C(load_average), C(root_filesystem), C(memory)) in C(requested) in this order, split
        into C(observed) and C(not_observed).
      returned: always
      type: dict
    coverage:
      description: Whether the inventory is complete.
      returned: always
      type: dict
      contains:
        state:
          description: >-
            V(complete) when every observation was made, V(blocked) when none was,
            V(partial) otherwise.
          returned: always
          type: str
          choices: [complete, partial, blocked]
        blockers:
          description: >-
            One entry per missing observation, C(<observation>_unavailable) when there was
            nothing to read and C(<observation>_unparsed) when the output did not parse.
          returned: always
          type: list
          elements: str
          sample: [root_filesystem_unavailable]
    assessment:
      description: Verdict on the observation itself, not on the health of the host.
      returned: always
      type: dict
      contains:
        state:
          description: V(healthy) when complete, V(unknown) when partial, V(unavailable) when blocked.
          returned: always
          type: str
          choices: [healthy, unknown, unavailable]
    non_claims:
      description: What these facts do not claim.
      returned: always
      type: list
      elements: str
    os:
      description: Fields of os-release(5).
      returned: always
      type: dict
      contains:
        id:
          description: C(ID), for example C(debian).
          returned: always
          type: str
          sample: debian
        version_id:
          description: C(VERSION_ID); C(unknown) on distributions without one such as Arch Linux.
          returned: always
          type: str
          sample: "12"
        pretty_name:
          description: C(PRETTY_NAME).
          returned: always
          type: str
          sample: Debian GNU/Linux 12 (bookworm)
    kernel:
      description: The kernel as C(uname -srm) shows it.
      returned: always
      type: dict
      contains:
        name:
          description: Kernel name.
          returned: always
          type: str
          sample: Linux
        release:
          description: Kernel release.
          returned: always
          type: str
          sample: 6.1.0-18-amd64
        machine:
          description: Hardware name.
          returned: always
          type: str
          sample: x86_64
    hostname:
      description: The host name of the running system.
      returned: always
      type: str
      sample: web01
    uptime_seconds:
      description: Whole seconds since boot, from C(/proc/uptime).
      returned: always
      type: int
      sample: 86400
    load_average:
      description: C(/proc/loadavg) figures.
      returned: always
      type: dict
      contains:
        one:
          description: Load average over 1 minute.
          returned: always
          type: float
          sample: 0.1
        five:
          description: Load average over 5 minutes.
          returned: always
          type: float
          sample: 0.2
        fifteen:
          description: Load average over 15 minutes.
          returned: always
          type: float
          sample: 0.3
        runnable:
          description: Currently runnable scheduling entities.
          returned: always
          type: int
          sample: 1
        total:
          description: Existing scheduling entities.
          returned: always
          type: int
          sample: 123
    root_filesystem:
      description: The filesystem holding C(/), from C(df -P -k /); sizes in KiB, C(null) where C(df) printed C(-).
      returned: always
      type: dict
      contains:
        device:
          description: Source device of the filesystem.
          returned: always
          type: str
          sample: /dev/sda1
        size_kib:
          description: Size in KiB.
          returned: always
          type: int
          sample: 20511312
        used_kib:
          description: Used space in KiB.
          returned: always
          type: int
          sample: 5123456
        available_kib:
          description: Space available to unprivileged users in KiB; negative when the reserved space is in use.
          returned: always
          type: int
          sample: 14323456
        capacity_percent:
          description: Used percentage as C(df) rounds it.
          returned: always
          type: int
          sample: 27
        mount:
          description: Mount point.
          returned: always
          type: str
          sample: /
    memory_mib:
      description: >-
        Memory in MiB as C(free -m) of procps-ng 4 shows it (KiB // 1024):
        used = MemTotal - MemAvailable, buff_cache = Buffers + Cached + SReclaimable,
        shared = Shmem.
      returned: always
      type: dict
      contains:
        total:
          description: MemTotal.
          returned: always
          type: int
          sample: 1967
        used:
          description: MemTotal minus the available figure.
          returned: always
          type: int
          sample: 412
        free:
          description: MemFree.
          returned: always
          type: int
          sample: 1012
        shared:
          description: Shmem.
          returned: always
          type: int
          sample: 8
        buff_cache:
          description: Buffers + Cached + SReclaimable.
          returned: always
          type: int
          sample: 650
        available:
          description: MemAvailable, or MemFree when the kernel does not provide a usable MemAvailable.
          returned: always
          type: int
          sample: 1555
    memory_available_basis:
      description: >-
        Which counter memory_mib.available comes from; V(mem_free) when MemAvailable is
        missing or implausible, as C(free) does.
      returned: always
      type: str
      choices: [mem_available, mem_free, unknown]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import run_host_observation
from ansible_collections.tecrax.ops.plugins.module_utils.host.host_inventory import (
    collect_host_inventory,
    normalize_host_inventory,
)


def main() -> None:
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    run_host_observation(module, "host_inventory", collect_host_inventory, normalize_host_inventory)


if __name__ == "__main__":
    main()
