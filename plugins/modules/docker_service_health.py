#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_service_health
short_description: Observe the systemd state of the Docker service and socket units
version_added: 0.4.0
description:
  - Runs C(systemctl show --no-pager --property=Id,LoadState,ActiveState,SubState,UnitFileState,Result
    docker.service docker.socket) without a shell and returns the unit states as one
    normalized facts object of the contract C(tecrax.docker_service_health) version C(1.0).
  - Fixed observation only, the module takes no options. It never contacts the Docker
    daemon, its API or its socket, and lists no containers.
  - The assessment is V(healthy) when C(docker.service) is loaded and active (or reloading),
    V(unhealthy) when it was observed in any other state, including C(LoadState=not-found)
    (Docker is not installed), V(unknown) when only C(docker.socket) could be observed, and
    V(unavailable) when nothing could be observed (no C(systemctl), systemd not running).
  - An inactive, failed or unknown unit is a state, not an error; the module does not fail
    for it.
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
  - C(docker.socket) is reported but does not change the assessment.
  - An active C(docker.service) does not prove that the Docker API answers.
seealso:
  - name: systemctl(1)
    description: The C(show) command and the unit properties it prints.
    link: https://www.freedesktop.org/software/systemd/man/latest/systemctl.html
"""

EXAMPLES = r"""
- name: Observe the Docker units
  tecrax.ops.docker_service_health:
  register: docker_units

- name: Show the state of docker.service
  ansible.builtin.debug:
    msg: "{{ docker_units.facts.units.docker_service.active_state }} / {{ docker_units.facts.units.docker_service.sub_state }}"

- name: Require a running Docker service
  ansible.builtin.assert:
    that:
      - docker_units.facts.assessment.state == 'healthy'
"""

RETURN = r"""
facts:
  description:
    - Facts of the contract C(tecrax.docker_service_health) 1.0, schema
      C(profile/schemas/docker_service_health.v1.schema.json).
    - A state field systemd printed empty, or of a unit that was not observed, is C(null).
  returned: always
  type: dict
  contains:
    contract:
      description: Identifier and version of the facts contract.
      returned: always
      type: dict
      sample: {"id": "tecrax.docker_service_health", "version": "1.0"}
    scope:
      description: >-
        Requested observations (C(docker_service), C(docker_socket)) in C(requested) in this
        order, split into C(observed) and C(not_observed).
      returned: always
      type: dict
    coverage:
      description: Whether both units were observed.
      returned: always
      type: dict
      contains:
        state:
          description: V(complete), V(partial) or V(blocked).
          returned: always
          type: str
          choices: [complete, partial, blocked]
        blockers:
          description: >-
            Why a unit was not observed: C(systemctl_not_found), C(systemctl_show_failed)
            (systemd not running or not reachable) or C(<unit>_unparsed).
          returned: always
          type: list
          elements: str
          sample: [systemctl_show_failed]
    assessment:
      description: Health of C(docker.service).
      returned: always
      type: dict
      contains:
        state:
          description: V(healthy), V(unhealthy), V(unknown) or V(unavailable) (see the description).
          returned: always
          type: str
          choices: [healthy, unhealthy, unknown, unavailable]
        reasons:
          description: >-
            Present when unhealthy, one of C(docker_not_installed), C(docker_masked),
            C(docker_not_loaded), C(docker_failed), C(docker_inactive), C(docker_activating),
            C(docker_deactivating), C(docker_not_active).
          returned: when unhealthy
          type: list
          elements: str
          sample: [docker_failed]
    non_claims:
      description: What these facts do not claim.
      returned: always
      type: list
      elements: str
    units:
      description: The state of each unit, keyed C(docker_service) and C(docker_socket).
      returned: always
      type: dict
      contains:
        docker_service:
          description: State of C(docker.service).
          returned: always
          type: dict
          contains:
            unit:
              description: The unit name.
              returned: always
              type: str
              sample: docker.service
            load_state:
              description: C(LoadState), for example C(loaded), C(not-found), C(masked).
              returned: always
              type: str
              sample: loaded
            active_state:
              description: C(ActiveState), for example C(active), C(inactive), C(failed), C(activating).
              returned: always
              type: str
              sample: active
            sub_state:
              description: C(SubState), for example C(running), C(dead), C(failed), C(auto-restart).
              returned: always
              type: str
              sample: running
            unit_file_state:
              description: C(UnitFileState), for example C(enabled), C(disabled), C(masked); C(null) when the unit is not found.
              returned: always
              type: str
              sample: enabled
            result:
              description: C(Result) of the last run, for example C(success), C(exit-code), C(start-limit-hit).
              returned: always
              type: str
              sample: success
        docker_socket:
          description: State of C(docker.socket), with the same fields as RV(facts.units.docker_service).
          returned: always
          type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import run_host_observation
from ansible_collections.tecrax.ops.plugins.module_utils.host.docker_service_health import (
    collect_docker_units,
    normalize_docker_service_health,
)


def main() -> None:
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    run_host_observation(module, "docker_service_health", collect_docker_units, normalize_docker_service_health)


if __name__ == "__main__":
    main()
