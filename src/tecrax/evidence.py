"""Verification of an operation's SCLite evidence bundle with SCLite's own checks."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

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


# SCLite's own CLI entry, run with this interpreter so no PATH lookup is involved.
_SCLITE_MAIN = "import sys; from sclite.cli import main; sys.exit(main(sys.argv[1:]))"


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
    manifest = str(bundle / "artifact_chain_manifest.json")
    commands = {
        "artifact_chain": ["validate-chain", manifest, "--format", "summary"],
        "lifecycle": ["verify-lifecycle", manifest, "--format", "summary"],
        "ticket_use": [
            "verify-ticket-use",
            str(bundle / "04_execution_ticket.json"),
            "--contract",
            str(bundle / "03_execution_contract.json"),
            "--receipt",
            str(bundle / "05_execution_receipt.json"),
            "--evidence-contract",
            str(bundle / "06_evidence_contract.json"),
            "--format",
            "summary",
        ],
        "review": ["review", str(bundle), "--fail-on", "fail", "--format", "summary"],
    }
    return [Check("bundle_complete", True, f"{len(BUNDLE_FILES)} artifacts")] + [
        _run_sclite(name, argv) for name, argv in commands.items()
    ]


def _run_sclite(name: str, argv: list[str]) -> Check:
    completed = subprocess.run(
        [sys.executable, "-c", _SCLITE_MAIN, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = (completed.stdout or completed.stderr).strip().splitlines()
    detail = lines[-1][:200] if lines else ""
    return Check(name, completed.returncode == 0, detail)
