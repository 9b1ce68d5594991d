#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: monitoring_host_local
short_description: Make the host-local observations of a monitoring host diagnosis in one run
version_added: 0.4.0
description:
  - Makes, side by side on the managed host, the five observations of
    M(tecrax.ops.host_inventory), M(tecrax.ops.ntp_health), M(tecrax.ops.ntp_server_health),
    M(tecrax.ops.docker_service_health) and M(tecrax.ops.host_security_posture), with those
    modules' own collectors and normalizers, and returns each one's facts object, or why there
    is none.
  - The host half of a monitoring host diagnosis. The action M(tecrax.ops.monitoring_host_diagnosis)
    runs it while it probes the services from the controller, and aggregates the result. One module
    run instead of five saves four module transfers and interpreter starts on the host.
  - Fixed observations only, the module takes no options. An observation that fails, or is still
    running when the budget is spent, is reported as unavailable; the module itself does not fail
    for it.
author:
  - Tecrax developers (!UNKNOWN)
options: {}
extends_documentation_fragment:
  - tecrax.ops.attributes
  - tecrax.ops.command_budget
attributes:
  platform:
    description: Linux hosts managed by systemd; the security posture needs a Debian-family host.
notes:
  - The five observations share the module's budget; one that outlives it is killed with its
    commands and reported as C(timeout) while the others keep what they observed.
seealso:
  - module: tecrax.ops.monitoring_host_diagnosis
"""

EXAMPLES = r"""
- name: Observe the host-local components of a monitoring host
  tecrax.ops.monitoring_host_local:
  register: local

- name: Show the time daemon's verdict
  ansible.builtin.debug:
    msg: "{{ local.observations.ntp.facts.assessment.state | default('not observed') }}"
"""

RETURN = r"""
observations:
  description:
    - One entry per observation, keyed C(inventory), C(ntp), C(ntp_server), C(docker) and
      C(host_security).
    - Each is either a mapping with the key C(facts), the facts object of the single module's
      contract (C(tecrax.basic_host_inventory), C(tecrax.ntp_local_health),
      C(tecrax.ntp_server_observation), C(tecrax.docker_service_health),
      C(tecrax.host_security_posture)), or a mapping with the key C(unavailable) holding the cause,
      C(timeout) or C(observation_failed).
  returned: always
  type: dict
  sample:
    docker: {"unavailable": "timeout"}
"""

from typing import Any, Callable, Dict, Mapping

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import CommandRunner, module_commands
from ansible_collections.tecrax.ops.plugins.module_utils.common.observation_set import observe_concurrently
from ansible_collections.tecrax.ops.plugins.module_utils.host.docker_service_health import (
    collect_docker_units,
    normalize_docker_service_health,
)
from ansible_collections.tecrax.ops.plugins.module_utils.host.host_inventory import (
    collect_host_inventory,
    normalize_host_inventory,
)
from ansible_collections.tecrax.ops.plugins.module_utils.host.host_security_posture import (
    collect_security_posture,
    normalize_host_security_posture,
)
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_local_health import (
    collect_local_health,
    normalize_ntp_local_health,
)
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_server_health import (
    collect_server_observation,
    normalize_ntp_server_observation,
)

# Component of the diagnosis -> (collector, normalizer) of its single module.
OBSERVATIONS = {
    "inventory": (collect_host_inventory, normalize_host_inventory),
    "ntp": (collect_local_health, normalize_ntp_local_health),
    "ntp_server": (collect_server_observation, normalize_ntp_server_observation),
    "docker": (collect_docker_units, normalize_docker_service_health),
    "host_security": (collect_security_posture, normalize_host_security_posture),
}
# An observation whose command the budget ends raises at the budget; this is how much longer
# the module waits for one stuck elsewhere before reporting it as timed out.
GRACE_SECONDS = 1.0


def observation(module: Any, budget: float, collect: Callable[[CommandRunner], Any],
                normalize: Callable[[Any], Mapping[str, Any]]) -> Callable[[], Mapping[str, Any]]:
    """One observation with a command runner of its own (same budget, own deadline)."""
    return lambda: normalize(collect(CommandRunner(budget, which=module.get_bin_path)))


def main() -> None:
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    commands = module_commands(module)
    observations = {name: observation(module, commands.budget_seconds, collect, normalize)
                    for name, (collect, normalize) in OBSERVATIONS.items()}
    outcomes: Dict[str, Dict[str, Any]] = observe_concurrently(observations, commands.deadline + GRACE_SECONDS)
    module.exit_json(changed=False, observations=outcomes)


if __name__ == "__main__":
    main()
