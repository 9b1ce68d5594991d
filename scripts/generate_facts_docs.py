#!/usr/bin/env python3
"""Write docs/facts/*.md from the facts JSON Schemas and the connector's action declarations.

What a facts contract means lives in its schema, in ``title`` and ``description`` keywords at
the top level and on the properties; which module, connector action and intent return it is
read from profile/connectors/tecrax_ansible/actions.yaml. This script renders one page per schema
(named after the facts key of its action, or after the schema when several actions share it);
a unit test fails when a page on disk is not what this script writes.

    python scripts/generate_facts_docs.py          # write the pages
    python scripts/generate_facts_docs.py --check  # exit 1 and list the stale ones
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

import generate_profile
import generated_files

REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEMA_DIR = Path("profile/schemas")
DECLARATIONS_FILE = Path("profile") / generate_profile.DECLARATIONS_FILE
DOCS_DIR = Path("docs/facts")
ENVELOPE_SCHEMA = "facts_envelope.v1.schema.json"
WIDTH = 94
MAX_SAFE_INTEGER = 2**53 - 1
# The bound that holds when a $ref target and the keywords beside the $ref both set one.
TIGHTEST = {"maximum": min, "maxLength": min, "maxItems": min, "minimum": max, "minLength": max, "minItems": max}
LIST_ITEM = re.compile(r"^(?:\d+\.|-) ")


class SchemaDocError(ValueError):
    """A schema or its declaration cannot be rendered as a facts page."""


def expanded_schemas(root: Path = REPO_ROOT) -> dict[str, dict[str, Any]]:
    """Every facts schema by file name, with each ``$ref`` replaced by its target (see
    ``_expanded``): what a contract allows, field by field, in one document."""
    schemas = {path.name: json.loads(path.read_text(encoding="utf-8"))
               for path in sorted((root / SCHEMA_DIR).glob("*.schema.json"))}
    if ENVELOPE_SCHEMA not in schemas:
        raise SchemaDocError(f"{SCHEMA_DIR / ENVELOPE_SCHEMA} is missing")
    registry = Registry().with_resources((schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012))
                                         for schema in schemas.values())
    return {name: _expanded(schema, registry.resolver(base_uri=schema["$id"])) for name, schema in schemas.items()}


def rendered(root: Path = REPO_ROOT) -> dict[Path, str]:
    """Every facts page (relative to the repository root) and its text."""
    schemas = expanded_schemas(root)
    envelope_keys = tuple(schemas[ENVELOPE_SCHEMA]["properties"])
    actions = generate_profile.connector_declarations(root / "profile")["actions"]
    declared = {action: (intent_id, *generate_profile.condition(spec, intent)[:2])
                for intent_id, (action, spec, intent) in generate_profile.declarations(root / "profile").items()}
    intent_contracts = {}
    for path in sorted((root / "profile" / "intents").glob("*.yaml")):
        intent = yaml.safe_load(path.read_text(encoding="utf-8"))["intent"]
        intent_contracts[intent["id"]] = intent.get("facts_contract")
    pages: dict[Path, str] = {}
    for name, expanded in schemas.items():
        if name == ENVELOPE_SCHEMA:
            pages[DOCS_DIR / "facts_envelope.md"] = _envelope_page(expanded)
            continue
        own = {action: spec for action, spec in actions.items() if spec.get("schema") == f"schemas/{name}"}
        if not own:
            raise SchemaDocError(f"{name}: no action of {DECLARATIONS_FILE} names this schema")
        keys = {spec["facts_key"] for spec in own.values()}
        page = DOCS_DIR / f"{keys.pop() if len(keys) == 1 else name.split('.', 1)[0]}.md"
        if page in pages:
            raise SchemaDocError(f"{name}: its page {page} is also another schema's")
        contract_id, version = _contract(name, expanded, own)
        origin = _origin(own, declared, [intent_id for intent_id, contract in intent_contracts.items()
                                         if contract == f"{contract_id}@{version}"])
        pages[page] = _contract_page(name, expanded, envelope_keys, origin)
    return pages


def _expanded(node: Any, resolver: Any) -> Any:
    """``node`` with each ``$ref`` replaced by its target, merged under the keywords beside it.

    The target's own title and description are left behind: they describe the target, not
    the field that refers to it (the fields inside the target keep theirs).
    """
    if isinstance(node, list):
        return [_expanded(value, resolver) for value in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    if "$ref" in node:
        target = resolver.lookup(node["$ref"])
        contents = _expanded(target.contents, target.resolver)
        result = {key: value for key, value in contents.items() if key not in ("title", "description")}
    for key, value in node.items():
        if key != "$ref":
            result = _merged(result, key, _expanded(value, resolver))
    return result


def _merged(base: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    if key not in base:
        return {**base, key: value}
    current = base[key]
    if key in TIGHTEST:
        return {**base, key: TIGHTEST[key](current, value)}
    if isinstance(current, dict) and isinstance(value, dict):
        for inner, inner_value in value.items():
            current = _merged(current, inner, inner_value)
        return {**base, key: current}
    return {**base, key: value}


def _contract(name: str, schema: Mapping[str, Any], actions: Mapping[str, Mapping[str, Any]]) -> tuple[str, str]:
    """The contract id and version, checked against the title and the actions' declarations."""
    contract = schema["properties"]["contract"]["properties"]
    contract_id, version = contract["id"].get("const"), contract["version"].get("const")
    if schema.get("title") != f"{contract_id} {version}":
        raise SchemaDocError(f"{name}: title must be '{contract_id} {version}' (contract id and version),"
                             f" found {schema.get('title')!r}")
    for action, spec in actions.items():
        if spec.get("facts_contract") != contract_id:
            raise SchemaDocError(f"{name}: action {action} declares contract {spec.get('facts_contract')!r},"
                                 f" the schema {contract_id!r}")
    return contract_id, version


def _origin(actions: Mapping[str, Mapping[str, Any]], declared: Mapping[str, tuple[str, str, str]],
            intents_with_contract: list[str]) -> str:
    """Which module, action and intent return the facts, and what the intent's rule checks."""
    sources = []
    for action, spec in actions.items():
        key = spec["facts_key"]
        source = f"the module `{spec['module']}` (connector action `{action}`, facts key `{key}`"
        if action in declared:
            intent_id, path, value = declared[action]
            source += (f", intent `{intent_id}`); its validation rule `profile/validation_rules/{intent_id}.yaml`"
                       f" passes only when `{key}.{path}` is `{value}`")
        else:
            source += ")"
        sources.append(source)
    if len(sources) == 1:
        text = f"Returned as `facts` by {sources[0]}."
    else:
        text = "Returned as `facts` by these connector actions:\n" + "\n".join(f"- {line}" for line in sources)
    if intents_with_contract and not any(action in declared for action in actions):
        text += ("\n\nIntents (written by hand) with this contract: "
                 + ", ".join(f"`{intent_id}`" for intent_id in intents_with_contract) + ".")
    return text


def _contract_page(name: str, schema: Mapping[str, Any], envelope_keys: tuple[str, ...], origin: str) -> str:
    contract = schema["properties"]["contract"]["properties"]
    envelope = {key: value for key, value in schema["properties"].items() if key in envelope_keys}
    payload = {key: value for key, value in schema["properties"].items() if key not in envelope_keys}
    return "".join([
        _generated_note(SCHEMA_DIR / name, DECLARATIONS_FILE),
        f"# Facts contract `{contract['id']['const']}` {contract['version']['const']}\n\n",
        _prose(origin),
        _prose(f"Schema: `{SCHEMA_DIR / name}`, within the [envelope](facts_envelope.md) of"
               f" `{SCHEMA_DIR / ENVELOPE_SCHEMA}`."),
        _prose(schema.get("description", "")),
        "## Envelope\n\n", _table(("key", "value", "meaning"), _rows(envelope, "", name)),
        "## Payload\n\n", _table(("field", "type", "meaning"), _rows(payload, "", name)),
    ]).rstrip("\n") + "\n"


def _envelope_page(schema: Mapping[str, Any]) -> str:
    value_types = {name: definition for name, definition in schema["$defs"].items()
                   if name not in schema["properties"] and name != "envelope" and definition.get("type") != "object"}
    return "".join([
        _generated_note(SCHEMA_DIR / ENVELOPE_SCHEMA),
        f"# {schema['title']}\n\n",
        _prose(schema.get("description", "")),
        "## Envelope\n\n", _table(("key", "value", "meaning"), _rows(schema["properties"], "", ENVELOPE_SCHEMA)),
        "## Value types\n\n", _table(("name", "type", "meaning"), (
            (f"`{name}`", _type(definition), _one_paragraph(definition.get("description", ""), ENVELOPE_SCHEMA, name))
            for name, definition in value_types.items())),
    ]).rstrip("\n") + "\n"


def _generated_note(*sources: Path) -> str:
    named = " and ".join(map(str, sources))
    return f"<!-- Generated by scripts/generate_facts_docs.py from {named}; do not edit. -->\n"


def _rows(properties: Mapping[str, Any], prefix: str, where: str) -> Iterator[tuple[str, str, str]]:
    """One row per field; an object or a list of objects gets a row of its own only when it
    has a description, and then its fields follow."""
    for key, schema in properties.items():
        described = schema.get("description", "") if isinstance(schema, Mapping) else ""
        items = schema.get("items") if isinstance(schema, Mapping) else None
        nested = schema.get("properties") if isinstance(schema, Mapping) else None
        path = prefix + key
        if nested is None and isinstance(items, Mapping) and "properties" in items:
            nested, path = items["properties"], path + "[]"
        if nested is None or described:
            yield f"`{prefix + key}`", _type(schema), _one_paragraph(described, where, path)
        if nested is not None:
            yield from _rows(nested, path + ".", where)


def _type(schema: Any) -> str:
    """What a value may be, in words, from the validation keywords."""
    if schema is False:
        return "never present"
    if not isinstance(schema, Mapping) or not schema:
        return "any value"
    if "const" in schema:
        value = schema["const"]
        return (", ".join(_literal(item) for item in value) + " (always, in this order)" if isinstance(value, list)
                else _literal(value))
    if "enum" in schema:
        values = schema["enum"]
        return _literal(values[0]) if len(values) == 1 else "one of " + ", ".join(_literal(item) for item in values)
    for alternatives in ("anyOf", "oneOf"):
        if alternatives in schema:
            return " or ".join(_type(alternative) for alternative in schema[alternatives])
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    named = [_typed(kind, schema) for kind in types if kind != "null"]
    return " or ".join(named + (["null"] if "null" in types else [])) or "any value"


def _typed(kind: str, schema: Mapping[str, Any]) -> str:
    if kind in ("integer", "number"):
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            return f"{kind} {_number(low)}..{_number(high)}"
        if low is not None:
            return f"{kind}, at least {_number(low)}"
        return kind if high is None else f"{kind}, at most {_number(high)}"
    if kind == "string":
        # The envelope's bounded text is a string with a `not` pattern that excludes control characters.
        words = "text" if "not" in schema else "string"
        if "maxLength" in schema:
            words += f", at most {schema['maxLength']} characters"
        if "pattern" in schema:
            words += f", matching `{schema['pattern']}`"
        return words
    if kind == "array":
        bounds = []
        if "maxItems" in schema:
            bounds.append(f"{_number(schema['minItems'])}..{_number(schema['maxItems'])}" if "minItems" in schema
                          else f"at most {_number(schema['maxItems'])}")
        if schema.get("uniqueItems"):
            bounds.append("unique")
        items = schema.get("items")
        if isinstance(items, Mapping) and "properties" in items:
            element = " of objects"
        elif isinstance(items, Mapping) and "enum" in items:
            element = ", each " + _type(items)
        else:
            element = " of " + _type(items)
        return "list" + (f" ({', '.join(bounds)})" if bounds else "") + element
    return {"boolean": "boolean", "object": "object"}.get(kind, kind)


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number(value)
    return f"`{value}`"


def _number(value: float) -> str:
    if value in (MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER):
        return ("-" if value < 0 else "") + "(2^53 - 1)"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) and abs(value) >= 10_000 else str(value)


def _one_paragraph(text: str, where: str, path: str) -> str:
    if "\n" in text:
        raise SchemaDocError(f"{where}: the description of {path} must be one paragraph, it is a table cell")
    return text


def _table(header: tuple[str, ...], rows: Iterator[tuple[str, str, str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n\n"


def _prose(text: str) -> str:
    """Paragraphs (separated by blank lines) wrapped; `## ` headings and list items kept."""
    blocks = []
    for block in text.split("\n\n"):
        if block.startswith("#"):
            blocks.append(block.strip())
            continue
        lines: list[str] = []
        for line in block.split("\n"):
            marker = LIST_ITEM.match(line)
            if marker and lines and not LIST_ITEM.match(lines[-1]):
                lines.append("")  # a list after a paragraph line starts a block of its own
            lines.append(textwrap.fill(line, WIDTH, subsequent_indent=" " * (len(marker.group(0)) if marker else 0),
                                       break_long_words=False, break_on_hyphens=False))
        blocks.append("\n".join(lines))
    return "".join(f"{block}\n\n" for block in blocks if block)


GENERATOR = generated_files.Generator("generate_facts_docs", REPO_ROOT, rendered, (SchemaDocError, generate_profile.DeclarationError))
stale, main = GENERATOR.stale, GENERATOR.main

if __name__ == "__main__":
    sys.exit(main())
