"""Command line for lab hosts (run from the repo root with PYTHONPATH=tests).

    python -m lab up --hosts 3 [--name-prefix h] [--state-dir DIR]   # prints JSON
    python -m lab down --state-dir DIR
    python -m lab cleanup        # labs whose owner died
    python -m lab list
    python -m lab rootfs         # build or find the cached rootfs, print its path

A lab started by `up` outlives the command (molecule's create/destroy use this); it
lives until `down`, or is cleaned up once none of its hosts runs any more.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from lab.errors import LabError
from lab.lab import DEFAULT_BOOT_TIMEOUT, Lab
from lab.rootfs import ensure_rootfs
from lab.stale import cleanup_stale, list_labs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lab", description="Lab hosts on this machine.")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="boot a lab and print its description as JSON")
    up.add_argument("--hosts", type=int, required=True, help="how many hosts to boot (>= 1)")
    up.add_argument("--name-prefix", default="h", help="hosts are named PREFIX1, PREFIX2, ... (default h)")
    up.add_argument("--state-dir", type=Path, help="where the lab keeps its state (default: a new dir)")
    up.add_argument("--boot-timeout", type=float, default=DEFAULT_BOOT_TIMEOUT,
                    help=f"seconds to wait per boot (default {DEFAULT_BOOT_TIMEOUT:.0f})")

    down = commands.add_parser("down", help="tear down the lab in a state dir")
    down.add_argument("--state-dir", type=Path, required=True)

    commands.add_parser("cleanup", help="tear down labs whose owner process died")
    commands.add_parser("list", help="list the labs registered on this machine")
    commands.add_parser("rootfs", help="build (once) and print the cached base rootfs")
    return parser


def _up(hosts: int, name_prefix: str, state_dir: Path | None, boot_timeout: float) -> dict[str, object]:
    if hosts < 1:
        raise LabError("--hosts must be at least 1")
    cleanup_stale()
    lab = Lab(state_dir, boot_timeout=boot_timeout).start()
    try:
        lab.boot([f"{name_prefix}{number}" for number in range(1, hosts + 1)])
        lab.write_inventory()
        lab.detach()
    except BaseException:
        lab.teardown()
        raise
    return {**lab.describe(), "boot_seconds": round(lab.last_boot_seconds or 0.0, 2)}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "up":
            print(json.dumps(_up(args.hosts, args.name_prefix, args.state_dir, args.boot_timeout), indent=2))
        elif args.command == "down":
            Lab.attach(args.state_dir).teardown()
        elif args.command == "cleanup":
            removed = cleanup_stale()
            print(json.dumps({"removed": [str(path) for path in removed]}, indent=2))
        elif args.command == "list":
            print(json.dumps(list_labs(), indent=2))
        elif args.command == "rootfs":
            print(ensure_rootfs())
    except LabError as error:
        print(f"lab: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
