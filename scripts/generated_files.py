"""What the generators in scripts/ share: which generated files are stale, and their command line.

Each generator renders ``{path relative to its root: text}``; this module compares that with
the tree, writes it, and gives every generator the same two commands:

    python scripts/<generator>.py          # write the files
    python scripts/<generator>.py --check  # exit 1 and list the stale ones
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path


def stale(root: Path, files: Mapping[Path, str]) -> list[Path]:
    """The generated files that are missing under ``root`` or differ from their rendering."""
    return [path for path, text in files.items()
            if not (root / path).is_file() or (root / path).read_text(encoding="utf-8") != text]


def main(argv: list[str] | None, name: str, description: str, root: Path,
         render: Callable[[], Mapping[Path, str]], errors: tuple[type[Exception], ...]) -> int:
    """Write (or with ``--check`` list) the files ``render`` returns; a declaration error
    (one of ``errors``) is one line on stderr and exit 1."""
    parser = argparse.ArgumentParser(prog=name, description=description)
    parser.add_argument("--check", action="store_true", help="list stale files and exit 1 instead of writing")
    args = parser.parse_args(argv)
    try:
        files = render()
    except errors as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    outdated = stale(root, files)
    if args.check:
        for path in outdated:
            print(f"{name}: stale: {path} (run scripts/{name}.py)", file=sys.stderr)
        return 1 if outdated else 0
    for path in outdated:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(files[path], encoding="utf-8")
    print(f"{name}: {len(outdated)} file(s) written, {len(files) - len(outdated)} already current")
    return 0
