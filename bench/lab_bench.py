"""What the lab benchmarks share: their command line, one lab and one scratch directory per
run, plain ansible-playbook set up against the lab's hosts, interleaved rounds, other tecrax
builds to time beside this one, and the machine's load average while they run.

Importing it puts tests/ and tests/integration/ on ``sys.path`` (the lab and the integration
harness live there).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "integration")]

from lab import Lab  # noqa: E402

import tecrax  # noqa: E402


def bench_parser(doc: str, runs: int) -> argparse.ArgumentParser:
    """The benchmark's command line (described by ``doc``) with ``--runs`` (``runs`` by default)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=runs)
    return parser


@contextmanager
def bench_lab(doc: str, runs: int, scratch_prefix: str,
              args: argparse.Namespace | None = None) -> Iterator[tuple[int, Lab, Path]]:
    """The benchmark's ``--runs`` (from ``args`` when the benchmark parsed its own command line
    with ``bench_parser``), a lab and a scratch directory, both gone when the block ends."""
    args = args or bench_parser(doc, runs).parse_args()
    with Lab() as lab, tempfile.TemporaryDirectory(prefix=scratch_prefix) as scratch:
        yield args.runs, lab, Path(scratch)


def plain_ansible(lab: Lab, work: Path) -> tuple[Path, dict[str, str]]:
    """The lab's inventory and the environment of a plain ``ansible-playbook`` run with this
    tecrax's collection: an empty ansible.cfg, pipelining on, fact gathering off."""
    collections = work / "collections" / "ansible_collections" / "tecrax"
    collections.mkdir(parents=True)
    (collections / "ops").symlink_to(tecrax.collection_root())
    inventory = lab.write_inventory(work / "inventory.yml")
    (work / "ansible.cfg").write_text("[defaults]\n")
    return inventory, {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(work / "collections"),
                       "ANSIBLE_PIPELINING": "True", "ANSIBLE_GATHERING": "explicit",
                       "ANSIBLE_CONFIG": str(work / "ansible.cfg")}


def rounds(variants: Mapping[str, Callable[[], None]], runs: int) -> Iterator[tuple[str, Callable[[], None]]]:
    """One warm-up run of every variant (page cache, first SSH handshakes, bytecode, ARP), then
    ``runs`` rounds that each give every variant once, in an order that rotates from round to
    round, so that a slow phase of the machine hits every variant alike."""
    for action in variants.values():
        action()
    names = list(variants)
    for number in range(runs):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            yield name, variants[name]


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
