"""What the benchmarks share: other tecrax builds to time beside this one, the variants a run
times, and the machine's load average while it runs."""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path


def compare_venv(value: str) -> tuple[str, Path]:
    """``--compare-venv [LABEL=]DIR``: a venv holding another tecrax build, and its label."""
    label, separator, directory = value.rpartition("=")
    path = Path(directory if separator else value)
    if not (path / "bin" / "tecrax").is_file():
        raise argparse.ArgumentTypeError(f"{path} has no bin/tecrax")
    return (label if separator else "", path)


def labelled(venvs: list[tuple[str, Path]]) -> dict[str, Path]:
    """``{label: venv}``: an unlabelled venv is ``compare`` (``compare-2``, ... after the first)."""
    found: dict[str, Path] = {}
    for index, (label, path) in enumerate(venvs, start=1):
        name = label or ("compare" if index == 1 else f"compare-{index}")
        if name in found:
            raise SystemExit(f"--compare-venv label {name} given twice")
        found[name] = path
    return found


def selected(available: list[str], wanted: str | None) -> list[str]:
    """The variants named in ``--variants a,b`` (all when not given), in their own order."""
    if not wanted:
        return available
    names = [name.strip() for name in wanted.split(",") if name.strip()]
    unknown = sorted(set(names) - set(available))
    if unknown:
        raise SystemExit(f"unknown variant(s): {', '.join(unknown)} (known: {', '.join(available)})")
    return [name for name in available if name in names]


class LoadAverage:
    """The 1-minute load average, read once per round: the machine is shared, and the figures
    of a run are only comparable with others measured under a similar load."""

    def __init__(self) -> None:
        self.samples: list[float] = []

    def sample(self) -> None:
        self.samples.append(os.getloadavg()[0])

    def summary(self) -> str:
        if not self.samples:
            return "load average: not sampled"
        return (f"load average (1 min, {os.cpu_count()} CPUs) over the rounds: median "
                f"{statistics.median(self.samples):.2f}, min {min(self.samples):.2f}, max {max(self.samples):.2f}")

    def as_dict(self) -> dict[str, float]:
        if not self.samples:
            return {}
        return {"median": round(statistics.median(self.samples), 2), "min": round(min(self.samples), 2),
                "max": round(max(self.samples), 2)}
