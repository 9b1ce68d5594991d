"""Runtime enforcement of the facts contracts' JSON Schemas, and digests of bounded data."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

MAX_FACTS_BYTES = 16 * 1024


class FactsRejected(ValueError):
    """The module returned facts that break their contract; the message holds no values."""


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=8)
def schema_registry(schema_dir: str) -> Any:
    """Every ``*.schema.json`` of ``schema_dir`` by its ``$id``: contract schemas ``$ref`` the
    one envelope schema (and each other) by relative URI."""
    from referencing import Registry, Resource  # lazy: keeps the backend factory cheap
    from referencing.jsonschema import DRAFT202012

    resources = []
    for path in sorted(Path(schema_dir).glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents, default_specification=DRAFT202012)))
    return Registry().with_resources(resources).crawl()


@lru_cache(maxsize=64)
def validator_for(schema_path: str) -> Any:
    """A compiled, cached validator of one contract schema. Schemas are checked against the
    metaschema by the test suite, not at run time."""
    from jsonschema import Draft202012Validator

    path = Path(schema_path)
    schema = json.loads(path.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, registry=schema_registry(str(path.parent)))


def check_facts(facts: Any, *, schema_path: Path, contract_id: str) -> bytes:
    """Validate ``facts``; return their canonical JSON or raise :class:`FactsRejected`."""
    if not isinstance(facts, dict):
        raise FactsRejected("module returned no facts object")
    try:
        encoded = canonical_json(facts)
    except (TypeError, ValueError) as exc:
        raise FactsRejected("facts are not JSON-serialisable") from exc
    if len(encoded) > MAX_FACTS_BYTES:
        raise FactsRejected(f"facts exceed {MAX_FACTS_BYTES} bytes ({len(encoded)})")
    contract = facts.get("contract")
    if not isinstance(contract, dict) or contract.get("id") != contract_id:
        raise FactsRejected(f"facts do not carry contract {contract_id}")
    error = next(iter(sorted(validator_for(str(schema_path)).iter_errors(facts), key=_error_order)), None)
    if error is not None:
        location = "/".join(str(part) for part in error.absolute_path) or "(root)"
        raise FactsRejected(f"facts violate {schema_path.name} at {location}: {error.validator} check failed")
    return encoded


def _error_order(error: Any) -> tuple[int, str]:
    return (len(error.absolute_path), "/".join(str(part) for part in error.absolute_path))
