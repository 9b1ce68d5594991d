"""What the lab benchmarks share: their command line, one lab and one scratch directory per
run, plain ansible-playbook set up against the lab's hosts, and interleaved rounds.

Importing it puts tests/ and tests/integration/ on ``sys.path`` (the lab and the integration
harness live there).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "integration")]

from lab import Lab  # noqa: E402

import tecrax  # noqa: E402


@contextmanager
def bench_lab(doc: str, runs: int, scratch_prefix: str) -> Iterator[tuple[int, Lab, Path]]:
    """The benchmark's ``--runs`` (``runs`` by default; the command line is described by
    ``doc``), a lab and a scratch directory, both gone when the block ends."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=runs)
    args = parser.parse_args()
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
