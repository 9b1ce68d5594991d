"""What the repository checks in scripts/ report: one finding per file and line, then one
verdict line; and the ``--root`` option they all take."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: file (relative, POSIX), 1-based line number (0 for the whole file) and reason."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}" if self.line else f"{self.path}: {self.reason}"


def root_arguments(doc: str) -> argparse.ArgumentParser:
    """A check's argument parser: described by the first line of its ``doc``, with ``--root``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPOSITORY_ROOT, help="repository root")
    return parser


def report_findings(check: str, findings: Sequence[object], *, noun: str = "problem", where: str = "",
                    summary: str = "") -> int:
    """Print every finding on a line of its own, then the verdict: ``<check>: N <noun>(s)<where>``
    on stderr and exit status 1, or ``<check>: OK`` (with `` (<summary>)``) and 0."""
    for finding in findings:
        print(finding)
    if findings:
        print(f"{check}: {len(findings)} {noun}(s){where}", file=sys.stderr)
        return 1
    print(f"{check}: OK" + (f" ({summary})" if summary else ""))
    return 0
