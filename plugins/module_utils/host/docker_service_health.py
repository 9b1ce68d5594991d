# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Normalizer of the ``tecrax.docker_service_health`` 1.0 facts contract.

The only observation is one ``systemctl show`` of ``docker.service`` and ``docker.socket``
(see ``systemd_show``). Nothing is read from the Docker API or socket.

Assessment (from ``docker.service`` alone; ``docker.socket`` is reported, not judged):

- ``healthy``: LoadState ``loaded`` and ActiveState ``active`` (or ``reloading``, which
  systemd uses for an active unit re-reading its configuration);
- ``unhealthy``: observed otherwise, with reasons; a unit systemd does not know
  (``LoadState=not-found``) is an observation: Docker is not installed;
- ``unknown``: only ``docker.socket`` could be observed;
- ``unavailable``: nothing could be observed (no systemctl, systemd not running, output
  that does not parse).

``collect_docker_units`` runs that ``systemctl show`` on the managed host (see
``run_host_module`` for why here).
"""

from __future__ import annotations

from typing import Any, Mapping

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import CommandRunner
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import (
    build_facts,
    judged_assessment,
    raw_text,
)
from ansible_collections.tecrax.ops.plugins.module_utils.common.systemd_show import (
    parse_unit_states,
    show_argv,
    unknown_unit_state,
)

CONTRACT_ID = "tecrax.docker_service_health"

# Observation name -> unit. The observation names are the keys of the ``units`` payload.
UNITS = (
    ("docker_service", "docker.service"),
    ("docker_socket", "docker.socket"),
)
UNIT_NAMES = tuple(unit for _name, unit in UNITS)

NON_CLAIMS = (
    "reports systemd unit states only; does not contact the Docker daemon, API or socket",
    "does not list, inspect or judge containers, images, networks or volumes",
    "an active docker.service does not prove that the Docker API answers",
    "docker.socket state is reported but does not change the assessment",
    "values are a point-in-time sample",
)

_ACTIVE = ("active", "reloading")
_LOAD_REASONS = {"not-found": "docker_not_installed", "masked": "docker_masked"}
_ACTIVE_REASONS = {
    "failed": "docker_failed",
    "inactive": "docker_inactive",
    "activating": "docker_activating",
    "deactivating": "docker_deactivating",
}

# No pager or colours (the runner adds the C locale): the output the normalizer parses.
COMMAND_ENVIRONMENT = {"SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0"}


def collect_docker_units(commands: CommandRunner) -> dict[str, dict[str, object]]:
    """The raw input of ``normalize_docker_service_health``, read on this host."""
    systemctl = commands.find("systemctl")
    if not systemctl:
        return {"systemctl_show": {"rc": None, "out": b""}}
    ended = commands.run(show_argv(systemctl, UNIT_NAMES), environ_update=COMMAND_ENVIRONMENT)
    return {"systemctl_show": {"rc": ended.rc, "out": ended.stdout}}


def normalize_docker_service_health(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``tecrax.docker_service_health`` facts for one ``systemctl show`` run.

    ``raw["systemctl_show"]`` is ``{"rc": int | None, "out": str | bytes}``: ``rc`` is
    ``None`` when systemctl is not on the host. Anything else counts as not observed.
    """
    source: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    probe = source.get("systemctl_show")
    probe = probe if isinstance(probe, Mapping) else {}
    rc = probe.get("rc")
    if isinstance(rc, bool) or not isinstance(rc, int):
        rc = None
    states = parse_unit_states(raw_text(probe.get("out")), UNIT_NAMES) if rc is not None else {}

    blockers: list[str] = []
    for name, unit in UNITS:
        if unit in states:
            continue
        if rc is None:
            blocker = "systemctl_not_found"
        elif rc != 0:
            blocker = "systemctl_show_failed"
        else:
            blocker = name + "_unparsed"
        if blocker not in blockers:
            blockers.append(blocker)

    requested = [name for name, _unit in UNITS]
    observed = [name for name, unit in UNITS if unit in states]
    service = states.get("docker.service")
    reasons = service_reasons(service) if service is not None else []
    payload = {
        "units": {
            name: {"unit": unit, **states.get(unit, unknown_unit_state())} for name, unit in UNITS
        },
    }
    return build_facts(CONTRACT_ID, requested=requested, observed=observed, blockers=blockers,
                       assessment=judged_assessment(observed, reasons, "unhealthy", service is not None),
                       reasons=reasons, non_claims=NON_CLAIMS, payload=payload)


def service_reasons(service: Mapping[str, Any]) -> list[str]:
    """Why ``docker.service`` is not healthy; empty when it is loaded and active."""
    load_state = service.get("load_state")
    if load_state != "loaded":
        return [_LOAD_REASONS.get(str(load_state), "docker_not_loaded")]
    active_state = service.get("active_state")
    if active_state in _ACTIVE:
        return []
    return [_ACTIVE_REASONS.get(str(active_state), "docker_not_active")]
