"""The connector actions the backend may run, read once from the profile.

``profile/connectors/tecrax_ansible/actions.yaml`` is the single source (the connector
contract ``connectors/tecrax_ansible.yaml``, which RExecOp reads, only lists them as
capabilities): each action names the module it runs, the facts contract and schema it must
return, the shared-state key its facts are lifted to, whether it mutates, and which per-target
values of the connector configuration (``inputs``, and ``optional_inputs`` the playbook does
without) it receives as extra vars ``tecrax_<input>``. The playbook is always
``playbooks/<action>.yml``. An action that needs a controller-side input (``controller:
true``) runs on the controller whatever the target's connection; one that only takes such
inputs as optional runs on the target (its playbook delegates the controller part). The same
file declares those inputs once (``inputs`` and ``secret_inputs`` beside ``actions``): which
module_utils function checks each, and how.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CONNECTOR_FILE = Path("connectors") / "tecrax_ansible.yaml"
# Kept apart from the contract, which RExecOp parses with PyYAML's pure-Python loader three
# times per run: this file is the larger part and only the backend and the generators read it.
DECLARATIONS_FILE = Path("connectors") / "tecrax_ansible" / "actions.yaml"
# Whole-value patterns, applied with fullmatch.
_ACTION_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_MODULE_NAME = re.compile(r"tecrax\.ops\.[a-z][a-z0-9_]{0,63}")
_FACTS_CONTRACT = re.compile(r"tecrax\.[a-z][a-z0-9_]{0,63}")
_SCHEMA_REF = re.compile(r"schemas/[a-z0-9_]+\.v[0-9]+\.schema\.json")
_CHECK = re.compile(r"([a-z][a-z0-9_]{0,63}\.[a-z][a-z0-9_]{0,63})\.([a-z][a-z0-9_]{0,63})")
# host_option: read by scripts/generate_playbooks.py only (the module option that gets the host name).
_INPUT_KEYS = frozenset({"check", "block", "controller", "paths", "secret_refs", "host_option"})


class ActionCatalogError(ValueError):
    """The profile's action catalog is malformed."""


@dataclass(frozen=True)
class InputSpec:
    """One per-target setting (``inventory.<target>.<name>``) and the collection function that
    checks it: ``check(value)`` returns the normalized value or raises ``ValueError`` whose
    message starts with the offending name (the input's own for a plain value, the key for
    a ``block``)."""

    name: str
    check: Callable[[Any], Any]
    block: bool = False
    controller: bool = False
    paths: tuple[str, ...] = ()
    secret_refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecretInputSpec:
    """A secret an action receives, named by ``inventory.<target>.<block>.<ref_key>``."""

    name: str
    block: str
    ref_key: str


@dataclass(frozen=True)
class InputCatalog:
    inputs: Mapping[str, InputSpec]
    secrets: Mapping[str, SecretInputSpec]

    def names(self) -> frozenset[str]:
        return frozenset(self.inputs) | frozenset(self.secrets)


@dataclass(frozen=True)
class ActionSpec:
    name: str
    module: str
    facts_contract: str
    schema: str
    facts_key: str
    mutating: bool
    inputs: tuple[str, ...] = ()
    optional_inputs: tuple[str, ...] = ()

    @property
    def playbook(self) -> str:
        return f"playbooks/{self.name}.yml"

    def runs_on_controller(self, catalog: InputCatalog) -> bool:
        """Whether the module runs on the controller (local connection) for any target: it
        needs a setting that only the controller uses (a service URL and its CA file, a
        wrapper path)."""
        return any(name in catalog.inputs and catalog.inputs[name].controller for name in self.inputs)


def _yaml_mapping(profile_root: Path, relative: Path) -> Mapping[str, Any]:
    try:
        # libyaml's parser when PyYAML has it: the declarations are some 20 KiB, which the
        # pure-Python parser takes about 20 ms for.
        text = (profile_root / relative).read_text(encoding="utf-8")
        document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise ActionCatalogError(f"cannot read {relative}: {type(exc).__name__}") from exc
    if not isinstance(document, Mapping):
        raise ActionCatalogError(f"{relative} must be a mapping")
    return document


def _capabilities(profile_root: Path) -> set[Any]:
    """The capability list of the connector contract RExecOp reads."""
    connector = _yaml_mapping(profile_root, CONNECTOR_FILE).get("connector")
    if not isinstance(connector, Mapping):
        raise ActionCatalogError(f"{CONNECTOR_FILE} has no connector mapping")
    return set(connector.get("capabilities") or [])


@lru_cache(maxsize=8)
def load_input_catalog(profile_root: Path) -> InputCatalog:
    """The declared per-target inputs and secret inputs, their checks imported from the
    installed collection's module_utils."""
    declared = _yaml_mapping(profile_root, DECLARATIONS_FILE)
    inputs = {name: _input(name, spec) for name, spec in (declared.get("inputs") or {}).items()}
    secrets = {name: _secret_input(name, spec, inputs) for name, spec in (declared.get("secret_inputs") or {}).items()}
    return InputCatalog(inputs, secrets)


def _input(name: Any, spec: Any) -> InputSpec:
    if not isinstance(name, str) or not _ACTION_NAME.fullmatch(name) or not isinstance(spec, Mapping):
        raise ActionCatalogError(f"input {name!r} must be a snake_case name with a mapping")
    unknown = sorted(set(spec) - _INPUT_KEYS)
    if unknown:
        raise ActionCatalogError(f"input {name}: unknown key(s) {', '.join(map(str, unknown))}")
    match = _CHECK.fullmatch(str(spec.get("check", "")))
    if match is None:
        raise ActionCatalogError(f"input {name}: check must be <module_utils family>.<module>.<function>")
    try:
        module = importlib.import_module(f"ansible_collections.tecrax.ops.plugins.module_utils.{match.group(1)}")
        check = getattr(module, match.group(2))
    except (ImportError, AttributeError):
        raise ActionCatalogError(f"input {name}: the installed collection has no {match.group(0)}") from None
    lists = {key: spec.get(key, []) for key in ("paths", "secret_refs")}
    if not all(isinstance(value, list) and all(isinstance(item, str) for item in value) for value in lists.values()):
        raise ActionCatalogError(f"input {name}: paths and secret_refs must be lists of key names")
    return InputSpec(name, check, bool(spec.get("block", False)), bool(spec.get("controller", False)),
                     tuple(lists["paths"]), tuple(lists["secret_refs"]))


def _secret_input(name: Any, spec: Any, inputs: Mapping[str, InputSpec]) -> SecretInputSpec:
    ref = spec.get("ref") if isinstance(spec, Mapping) else None
    block, _, ref_key = str(ref or "").partition(".")
    if not isinstance(name, str) or block not in inputs or ref_key not in inputs[block].secret_refs:
        raise ActionCatalogError(f"secret input {name!r}: ref must be <input>.<one of its secret_refs>")
    return SecretInputSpec(name, block, ref_key)


def load_action_catalog(profile_root: Path) -> dict[str, ActionSpec]:
    input_catalog = load_input_catalog(profile_root)
    known_inputs = input_catalog.names()
    actions = _yaml_mapping(profile_root, DECLARATIONS_FILE).get("actions")
    if not isinstance(actions, Mapping) or not actions:
        raise ActionCatalogError(f"{DECLARATIONS_FILE} declares no actions")
    capabilities = _capabilities(profile_root)
    catalog: dict[str, ActionSpec] = {}
    for name, spec in actions.items():
        catalog[name] = _action(name, spec, known_inputs)
        if set(catalog[name].optional_inputs) & set(input_catalog.secrets):
            raise ActionCatalogError(f"action {name}: a secret input cannot be optional")
    if capabilities != set(catalog):
        raise ActionCatalogError(f"{CONNECTOR_FILE}: capabilities and the actions of {DECLARATIONS_FILE} differ")
    return catalog


def _action(name: Any, spec: Any, known_inputs: frozenset[str]) -> ActionSpec:
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
    inputs = _inputs(name, "inputs", spec.get("inputs", []), known_inputs)
    optional = _inputs(name, "optional_inputs", spec.get("optional_inputs", []), known_inputs)
    if set(inputs) & set(optional):
        raise ActionCatalogError(f"action {name}: an input cannot be both required and optional")
    return ActionSpec(name, module, contract, schema, facts_key, mutating, inputs, optional)


def _inputs(name: str, key: str, inputs: Any, known_inputs: frozenset[str]) -> tuple[str, ...]:
    if (
        not isinstance(inputs, list)
        or not all(isinstance(item, str) and item in known_inputs for item in inputs)
        or len(set(inputs)) != len(inputs)
    ):
        known = ", ".join(sorted(known_inputs))
        raise ActionCatalogError(f"action {name}: {key} must be a list of distinct names among: {known}")
    return tuple(inputs)
