"""The monitoring-host diagnosis as the reaction side reads it: the finding taxonomy, a
saved diagnosis read from a file, and the checks a diagnosis passes before Tecrax builds an
observation or a proposal from it.

The facts contract (``tecrax.monitoring_host_diagnosis`` 1.0) belongs to
``diagnose_monitoring_host``; when its JSON Schema is in the profile, every diagnosis is
checked against it. The checks here are the ones the reactions themselves depend on: the
contract, and one status per component the taxonomy knows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FACTS_KEY = "monitoring_host_diagnosis"
CONTRACT_ID = "tecrax.monitoring_host_diagnosis"
CONTRACT_VERSION = "1.0"
INTENT = "diagnose_monitoring_host"
SCHEMA = "schemas/monitoring_host_diagnosis.v1.schema.json"
TAXONOMY_FILE = "finding_taxonomy.yaml"
MAX_INPUT_BYTES = 1024 * 1024
MAX_FACTS_BYTES = 16 * 1024
# Ids RExecOp accepts for targets and operations, and the words a diagnosis uses for states.
IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
STATE_WORD = re.compile(r"[a-z][a-z0-9_]{0,63}")


class InputError(ValueError):
    """An input file or value Tecrax refuses; the message is one line naming the field."""


class DiagnosisError(InputError):
    """Input that is no usable diagnosis."""


@dataclass(frozen=True)
class FindingKind:
    kind: str
    severity: str
    summary: str
    components: tuple[str, ...]
    reason_codes: tuple[str, ...]
    reasons_from: str | None  # "component": the component's own reason words
    recheck_intent: str | None

    def allows(self, reason_code: str) -> bool:
        if self.reasons_from == "component":
            return bool(STATE_WORD.fullmatch(reason_code))
        return reason_code in self.reason_codes


@dataclass(frozen=True)
class Taxonomy:
    severities: tuple[str, ...]
    kinds: Mapping[str, FindingKind]

    @property
    def components(self) -> tuple[str, ...]:
        """The diagnosis' components, in the order the taxonomy names them."""
        seen: dict[str, None] = {}
        for kind in self.kinds.values():
            seen.update((name, None) for name in kind.components if name != "all")
        return tuple(seen)


def load_taxonomy(profile_root: str | Path) -> Taxonomy:
    path = Path(profile_root) / TAXONOMY_FILE
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    root = document["finding_taxonomy"]
    kinds = {
        name: FindingKind(
            kind=name,
            severity=str(spec["severity"]),
            summary=str(spec["summary"]),
            components=tuple(str(item) for item in spec["components"]),
            reason_codes=tuple(str(item) for item in spec.get("reason_codes") or ()),
            reasons_from=spec.get("reasons_from"),
            recheck_intent=spec.get("recheck_intent"),
        )
        for name, spec in root["kinds"].items()
    }
    return Taxonomy(severities=tuple(root["severities"]), kinds=kinds)


def check_identifier(value: str, option: str) -> str:
    if not IDENTIFIER.fullmatch(value):
        raise DiagnosisError(f"{option} {value!r} is not an id (letters, digits and ._:- , at most 128)")
    return value


def read_diagnosis(path: Path, *, operation_id: str, target_id: str, profile_root: str | Path) -> dict[str, Any]:
    """The diagnosis facts saved in ``path``: the facts object itself, or the JSON report of
    ``tecrax run`` / ``tecrax evidence`` holding them (whose operation and target must then
    be ``operation_id`` and ``target_id``)."""
    document = read_json(path)
    if not isinstance(document, dict):
        raise DiagnosisError(f"{path.name}: a diagnosis must be a JSON object")
    if "contract" not in document and isinstance(document.get("facts"), dict):
        for field, expected in (("operation_id", operation_id), ("target", target_id)):
            if field in document and document[field] != expected:
                raise DiagnosisError(f"{path.name}: the report's {field} is {document[field]!r}, not {expected!r}")
        if FACTS_KEY not in document["facts"]:
            raise DiagnosisError(f"{path.name}: the report holds no {FACTS_KEY} facts")
        document = document["facts"][FACTS_KEY]
    return check_diagnosis(document, profile_root)


def read_json(path: Path) -> Any:
    """One JSON document of at most 1 MiB of UTF-8, or :class:`InputError`."""
    try:
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise InputError(f"{path.name}: {size} bytes exceeds {MAX_INPUT_BYTES} bytes")
        return json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path.name}: {exc.strerror or type(exc).__name__}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path.name}: invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})") from None


def check_diagnosis(facts: Any, profile_root: str | Path) -> dict[str, Any]:
    """``facts`` if they are a diagnosis the reactions can read, else :class:`DiagnosisError`."""
    if not isinstance(facts, dict):
        raise DiagnosisError(f"{FACTS_KEY} must be a JSON object")
    contract = facts.get("contract")
    if contract != {"id": CONTRACT_ID, "version": CONTRACT_VERSION}:
        expected = f"{{id: {CONTRACT_ID}, version: {CONTRACT_VERSION!r}}}"
        raise DiagnosisError(f"contract must be {expected}, found {contract!r:.80}")
    size = len(json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=True))
    if size > MAX_FACTS_BYTES:
        raise DiagnosisError(f"{FACTS_KEY} of {size} bytes exceeds {MAX_FACTS_BYTES} bytes")
    _check_components(facts.get("components"), load_taxonomy(profile_root).components)
    schema = Path(profile_root) / SCHEMA
    if schema.is_file():
        from tecrax.backend.facts_check import FactsRejected, check_facts

        try:
            check_facts(facts, schema_path=schema, contract_id=CONTRACT_ID)
        except FactsRejected as exc:
            raise DiagnosisError(str(exc)) from None
    return facts


def _check_components(components: Any, expected: tuple[str, ...]) -> None:
    if not isinstance(components, dict):
        raise DiagnosisError("components must be a mapping of the diagnosis' components")
    missing = [name for name in expected if name not in components]
    unknown = sorted(set(components) - set(expected))
    if missing or unknown:
        raise DiagnosisError(
            "components must be exactly " + ", ".join(expected)
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unknown: {', '.join(unknown)[:120]}" if unknown else "")
        )
    for name in expected:
        component = components[name]
        status = component.get("status") if isinstance(component, dict) else None
        if not isinstance(status, str) or not STATE_WORD.fullmatch(status):
            raise DiagnosisError(f"components.{name}.status must be a state word such as healthy, found {status!r:.40}")


def component_statuses(facts: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(component["status"]) for name, component in facts["components"].items()}
