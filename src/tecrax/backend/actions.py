"""The connector actions the backend may run, read once from the profile.

``profile/connectors/tecrax_ansible.yaml`` is the single source: each action names the module
it runs, the facts contract and schema it must return, the shared-state key its facts are
lifted to, whether it mutates, and which per-target values of the connector configuration
(``inputs``) the playbook receives as extra vars ``tecrax_<input>``. The playbook is always
``playbooks/<action>.yml``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CONNECTOR_FILE = Path("connectors") / "tecrax_ansible.yaml"
# Whole-value patterns, applied with fullmatch.
_ACTION_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_MODULE_NAME = re.compile(r"tecrax\.ops\.[a-z][a-z0-9_]{0,63}")
_FACTS_CONTRACT = re.compile(r"tecrax\.[a-z][a-z0-9_]{0,63}")
_SCHEMA_REF = re.compile(r"schemas/[a-z0-9_]+\.v[0-9]+\.schema\.json")
# Per-target values an action may receive, each validated by the connector config parser.
KNOWN_INPUTS = frozenset({"allowed_subnets", "network_device", "zabbix", "zabbix_api_token", "adguard", "portainer"})


class ActionCatalogError(ValueError):
    """The profile's action catalog is malformed."""


@dataclass(frozen=True)
class ActionSpec:
    name: str
    module: str
    facts_contract: str
    schema: str
    facts_key: str
    mutating: bool
    inputs: tuple[str, ...] = ()

    @property
    def playbook(self) -> str:
        return f"playbooks/{self.name}.yml"


def load_action_catalog(profile_root: Path) -> dict[str, ActionSpec]:
    path = profile_root / CONNECTOR_FILE
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ActionCatalogError(f"cannot read {CONNECTOR_FILE}: {type(exc).__name__}") from exc
    connector = document.get("connector") if isinstance(document, Mapping) else None
    actions = connector.get("actions") if isinstance(connector, Mapping) else None
    if not isinstance(actions, Mapping) or not actions:
        raise ActionCatalogError(f"{CONNECTOR_FILE} declares no actions")
    capabilities = set(connector.get("capabilities") or [])
    catalog: dict[str, ActionSpec] = {}
    for name, spec in actions.items():
        catalog[name] = _action(name, spec)
    if capabilities != set(catalog):
        raise ActionCatalogError(f"{CONNECTOR_FILE}: capabilities and actions differ")
    return catalog


def _action(name: Any, spec: Any) -> ActionSpec:
    if not isinstance(name, str) or not _ACTION_NAME.fullmatch(name):
        raise ActionCatalogError(f"invalid action name: {name!r}")
    if not isinstance(spec, Mapping):
        raise ActionCatalogError(f"action {name} must be a mapping")
    module = spec.get("module")
    schema = spec.get("schema")
    contract = spec.get("facts_contract")
    facts_key = spec.get("facts_key")
    mutating = spec.get("mutating", False)
    if not isinstance(module, str) or not _MODULE_NAME.fullmatch(module):
        raise ActionCatalogError(f"action {name}: module must be tecrax.ops.<name>")
    if not isinstance(schema, str) or not _SCHEMA_REF.fullmatch(schema):
        raise ActionCatalogError(f"action {name}: schema must be schemas/<name>.vN.schema.json")
    if not isinstance(contract, str) or not _FACTS_CONTRACT.fullmatch(contract):
        raise ActionCatalogError(f"action {name}: facts_contract must be tecrax.<name>")
    if not isinstance(facts_key, str) or not _ACTION_NAME.fullmatch(facts_key):
        raise ActionCatalogError(f"action {name}: facts_key must be a snake_case name")
    if not isinstance(mutating, bool):
        raise ActionCatalogError(f"action {name}: mutating must be true or false")
    return ActionSpec(name, module, contract, schema, facts_key, mutating, _inputs(name, spec.get("inputs", [])))


def _inputs(name: str, inputs: Any) -> tuple[str, ...]:
    if (
        not isinstance(inputs, list)
        or not all(isinstance(item, str) and item in KNOWN_INPUTS for item in inputs)
        or len(set(inputs)) != len(inputs)
    ):
        known = ", ".join(sorted(KNOWN_INPUTS))
        raise ActionCatalogError(f"action {name}: inputs must be a list of distinct names among: {known}")
    return tuple(inputs)
