"""Where the lab keeps things on the machine (documented defaults, overridable by env)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

DEFAULT_CACHE_DIR = Path("/var/cache/tecrax-lab")
DEFAULT_RUNTIME_DIR = Path("/var/tmp/tecrax-lab")


def cache_dir() -> Path:
    """Rootfs and flavor layers: expensive to build, shared by every lab on the machine."""
    return Path(os.environ.get("TECRAX_LAB_CACHE") or DEFAULT_CACHE_DIR)


def runtime_dir() -> Path:
    """Subnet registry and default lab state dirs.

    On disk rather than in /run: overlay upper dirs may grow large, and the registry
    must outlive a reboot as long as the state dirs it points to do.
    """
    return Path(os.environ.get("TECRAX_LAB_RUNTIME") or DEFAULT_RUNTIME_DIR)


def debian_mirror() -> str | None:
    """A mirror for debootstrap, or None for debootstrap's own default."""
    return os.environ.get("TECRAX_LAB_MIRROR") or None


def progress(message: str) -> None:
    """A progress line on stderr (slow steps say what they are doing)."""
    print(f"lab: {message}", file=sys.stderr, flush=True)
