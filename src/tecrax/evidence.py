"""Verification of an operation's SCLite evidence bundle with SCLite's own checks.

The four checks are the ones the ``sclite`` command runs for ``validate-chain``,
``verify-lifecycle``, ``verify-ticket-use`` and ``review``, called through SCLite's Python
API in this process: the same functions over the same files on disk, without starting an
interpreter per check (four of them cost about 0.2 s a run).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BUNDLE_FILES = (
    "01_intent_contract.json",
    "02_policy_decision.json",
    "03_execution_contract.json",
    "04_execution_ticket.json",
    "05_execution_receipt.json",
    "06_evidence_contract.json",
    "artifact_chain_manifest.json",
    "verification_receipt.json",
)
MAX_DETAIL_CHARS = 200


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


def sclite_bundle_dir(runtime_root: Path, operation_id: str) -> Path:
    return runtime_root / "sclite" / operation_id


def verify_bundle(bundle: Path) -> list[Check]:
    """Run SCLite's chain, lifecycle, ticket-use and review checks on ``bundle``."""
    missing = [name for name in BUNDLE_FILES if not (bundle / name).is_file()]
    if missing:
        return [Check("bundle_complete", False, "missing " + ", ".join(missing))]
    checks: dict[str, Callable[[Path], str]] = {
        "artifact_chain": _artifact_chain,
        "lifecycle": _lifecycle,
        "ticket_use": _ticket_use,
        "review": _review,
    }
    return [Check("bundle_complete", True, f"{len(BUNDLE_FILES)} artifacts")] + [
        _run_check(name, check, bundle) for name, check in checks.items()
    ]


def _run_check(name: str, check: Callable[[Path], str], bundle: Path) -> Check:
    """A check passes when SCLite returns; any exception it raises (a broken link, a bad
    digest, an unreadable or malformed file) fails it, with SCLite's message as detail."""
    try:
        return Check(name, True, check(bundle)[:MAX_DETAIL_CHARS])
    except Exception as exc:  # noqa: BLE001 - whatever SCLite rejects with is a failed check
        return Check(name, False, f"{name}_failed: {type(exc).__name__}: {exc}"[:MAX_DETAIL_CHARS])


def _artifact_chain(bundle: Path) -> str:
    return _chain_summary("artifact_chain_ok", bundle, require_lifecycle=False)


def _lifecycle(bundle: Path) -> str:
    return _chain_summary("lifecycle_ok", bundle, require_lifecycle=True)


def _chain_summary(label: str, bundle: Path, *, require_lifecycle: bool) -> str:
    from sclite.integrity import verify_artifact_chain_manifest

    result = verify_artifact_chain_manifest(
        _json_object(bundle / "artifact_chain_manifest.json"),
        root=bundle.resolve(),
        validate_schemas=True,
        require_lifecycle=require_lifecycle,
    )
    return f"{label}:{result['entry_count']}:{result['root_chain_digest']}:{result.get('lifecycle_status')}"


def _ticket_use(bundle: Path) -> str:
    from sclite.tickets import verify_ticket_use

    result = verify_ticket_use(
        _json_object(bundle / "04_execution_ticket.json"),
        _json_object(bundle / "03_execution_contract.json"),
        _json_object(bundle / "05_execution_receipt.json"),
        _json_object(bundle / "06_evidence_contract.json"),
    )
    return f"ticket_use_ok:{result['ticket_id']}:{result['receipt_id']}:{len(result['checks'])}"


def _review(bundle: Path) -> str:
    from sclite.bundles import review_bundle, review_bundle_summary

    record = review_bundle(bundle.resolve())
    summary = review_bundle_summary(record)
    if record.get("verdict") == "fail":
        raise ValueError(summary)
    return summary


def _json_object(path: Path) -> dict[str, Any]:
    value = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(value, dict):
        raise ValueError(f"{path.name}: JSON root is not an object")
    return value
