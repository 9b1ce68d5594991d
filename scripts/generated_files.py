"""What the generators in scripts/ share: which generated files are stale, and their command line.

Each generator renders ``{path relative to its root: text}`` from a root directory; a
``Generator`` compares that with the tree, writes it, and gives every generator the same two
commands:

    python scripts/<generator>.py          # write the files
    python scripts/<generator>.py --check  # exit 1 and list the stale ones
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

Render = Callable[[Path], Mapping[Path, str]]


@dataclass(frozen=True)
class Generator:
    """``render(root)`` of the script ``name``; ``errors`` are the declaration errors it raises."""

    name: str
    root: Path
    render: Render
    errors: tuple[type[Exception], ...]

    def stale(self, root: Path | None = None) -> list[Path]:
        """The generated files that are missing under ``root`` or differ from their rendering."""
        root = root or self.root
        return [path for path, text in self.render(root).items()
                if not (root / path).is_file() or (root / path).read_text(encoding="utf-8") != text]

    def main(self, argv: list[str] | None = None) -> int:
        """Write (or with ``--check`` list) the files; a declaration error is one line on stderr, exit 1."""
        parser = argparse.ArgumentParser(prog=self.name, description=f"Write the files {self.name} generates.")
        parser.add_argument("--check", action="store_true", help="list stale files and exit 1 instead of writing")
        args = parser.parse_args(argv)
        try:
            files = self.render(self.root)
            outdated = self.stale()
        except self.errors as exc:
            print(f"{self.name}: {exc}", file=sys.stderr)
            return 1
        if args.check:
            for path in outdated:
                print(f"{self.name}: stale: {path} (run scripts/{self.name}.py)", file=sys.stderr)
            return 1 if outdated else 0
        for path in outdated:
            (self.root / path).parent.mkdir(parents=True, exist_ok=True)
            (self.root / path).write_text(files[path], encoding="utf-8")
        print(f"{self.name}: {len(outdated)} file(s) written, {len(files) - len(outdated)} already current")
        return 0
