"""Tecrax: the tecrax.ops Ansible collection wrapped as an RExecOp profile.

This module is the target of the ``rexecop.profiles`` entry point, so it stays import-light.
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.4.0"

# CPython's cyclic collector thresholds for Tecrax's short-lived processes (the ``tecrax``
# command and the ansible-playbook it runs): they allocate objects that live until exit, and at
# the default first threshold (700) the collector scans them hundreds of times per run.
GC_THRESHOLD = (100_000, 20, 20)

_PACKAGE_DIR = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE_DIR / "_bundled"
_INSTALLED_COLLECTION = _PACKAGE_DIR.parent / "ansible_collections" / "tecrax" / "ops"
_SOURCE_TREE = _PACKAGE_DIR.parent.parent


def _from_wheel() -> bool:
    return (_BUNDLED / "profile" / "profile.yaml").is_file()


def profile_root() -> str:
    """Directory of the bundled RExecOp profile (entry point ``rexecop.profiles: tecrax``)."""
    if _from_wheel():
        return str(_BUNDLED / "profile")
    return str(_SOURCE_TREE / "profile")


def collection_root() -> Path:
    """Directory holding the ``tecrax.ops`` collection of this very version: installed beside
    this package by the wheel, else the source tree."""
    if (_INSTALLED_COLLECTION / "galaxy.yml").is_file():
        return _INSTALLED_COLLECTION
    return _SOURCE_TREE
