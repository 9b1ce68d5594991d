"""Module documentation agrees with the facts contracts and shares its common parts.

RETURN is what `ansible-doc` shows an Ansible user; the JSON Schema is what the backend
enforces. Its `facts` entry is generated from the schema (scripts/generate_module_docs.py);
these tests check the generator's result: for every module of the action catalog, each
documented facts key exists in the schema with a compatible type and the same choices, and
each contract is documented in full (every schema key) by at least one module.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import generate_facts_docs
import generate_module_docs
import pytest
import yaml

from unit.conftest import REPO_ROOT

CATALOG = yaml.safe_load((REPO_ROOT / "profile/connectors/tecrax_ansible/actions.yaml").read_text())["actions"]
MODULE_SCHEMAS = {spec["module"].rsplit(".", 1)[1]: spec["schema"] for spec in CATALOG.values()}
MUTATING_MODULES = {spec["module"].rsplit(".", 1)[1] for spec in CATALOG.values() if spec["mutating"]}
EXPANDED = generate_facts_docs.expanded_schemas(REPO_ROOT)
RETURN_TYPES = {"dict": {"object"}, "list": {"array"}, "str": {"string"}, "int": {"integer"},
                "bool": {"boolean"}, "float": {"number", "integer"}}


def module_docs(module: str) -> tuple[dict[str, Any], dict[str, Any]]:
    source = generate_module_docs.sidecar(module)
    return source["DOCUMENTATION"], source["RETURN"]


def expanded_schema(relative: str) -> dict[str, Any]:
    """The schema with every ``$ref`` inlined and merged with its sibling keywords."""
    return EXPANDED[relative.split("/", 1)[1]]


def _properties(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in (schema.get("properties") or {}).items() if value is not False}


def disagreements(documented: Mapping[str, Any], schema: Mapping[str, Any], where: str) -> list[str]:
    found = []
    schema_types = schema.get("type")
    schema_types = {schema_types} if isinstance(schema_types, str) else set(schema_types or [])
    allowed = RETURN_TYPES.get(str(documented.get("type")))
    if allowed and schema_types and not allowed & schema_types:
        found.append(f"{where}: type {documented.get('type')} vs {sorted(schema_types)}")
    enum = schema.get("enum") or (schema.get("items") or {}).get("enum")
    if "choices" in documented and enum is not None and set(documented["choices"]) != set(enum) - {None}:
        found.append(f"{where}: choices {documented['choices']} vs {enum}")
    contains = documented.get("contains") or {}
    properties = _properties(schema if documented.get("type") == "dict" else schema.get("items") or {})
    for key in sorted(set(contains) - set(properties)):
        found.append(f"{where}.{key}: documented but not in the schema")
    for key in sorted(set(contains) & set(properties)):
        found.extend(disagreements(contains[key], properties[key], f"{where}.{key}"))
    return found


def undocumented(documented: Mapping[str, Any], schema: Mapping[str, Any], where: str) -> list[str]:
    contains = documented.get("contains") or {}
    properties = _properties(schema if documented.get("type") == "dict" else schema.get("items") or {})
    if not contains:
        return []
    missing = [f"{where}.{key}" for key in sorted(set(properties) - set(contains))]
    for key in sorted(set(contains) & set(properties)):
        missing.extend(undocumented(contains[key], properties[key], f"{where}.{key}"))
    return missing


@pytest.mark.parametrize("module", sorted(MODULE_SCHEMAS))
def test_documented_facts_agree_with_the_schema(module: str) -> None:
    facts = module_docs(module)[1]["facts"]
    assert disagreements(facts, expanded_schema(MODULE_SCHEMAS[module]), "facts") == []


@pytest.mark.parametrize("schema", sorted(set(MODULE_SCHEMAS.values())))
def test_every_contract_is_documented_in_full_by_one_module(schema: str) -> None:
    expanded = expanded_schema(schema)
    gaps = {module: undocumented(module_docs(module)[1]["facts"], expanded, "facts")
            for module, own in MODULE_SCHEMAS.items() if own == schema}
    assert min(gaps.values(), key=len) == [], gaps


@pytest.mark.parametrize("module", sorted(set(MODULE_SCHEMAS) - MUTATING_MODULES))
def test_read_only_modules_take_the_shared_attributes(module: str) -> None:
    documentation = module_docs(module)[0]
    assert "tecrax.ops.attributes" in documentation["extends_documentation_fragment"]
    assert set(documentation["attributes"]) == {"platform"}
    assert set(documentation["attributes"]["platform"]) == {"description"}


def test_the_attributes_fragment_declares_read_only_behaviour() -> None:
    fragment = importlib.import_module("ansible_collections.tecrax.ops.plugins.doc_fragments.attributes")
    attributes = yaml.safe_load(fragment.ModuleDocFragment.DOCUMENTATION)["attributes"]
    assert (attributes["check_mode"]["support"], attributes["diff_mode"]["support"]) == ("full", "none")


def test_the_documentation_check_sees_a_wrong_key() -> None:
    facts = module_docs("host_inventory")[1]["facts"]
    broken = {**facts, "contains": {**facts["contains"], "uptime_minutes": {"type": "int"}}}
    assert disagreements(broken, expanded_schema(MODULE_SCHEMAS["host_inventory"]), "facts") == [
        "facts.uptime_minutes: documented but not in the schema"]
