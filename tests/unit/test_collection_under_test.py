"""The unit tests exercise the source tree's collection, not the copy the wheel installed."""

from __future__ import annotations

from pathlib import Path

from ansible_collections.tecrax.ops.plugins.module_utils.common import facts_envelope
from tecrax.backend.config import subnet_validator
from unit.conftest import REPO_ROOT


def test_collection_imports_resolve_to_the_source_tree() -> None:
    assert Path(facts_envelope.__file__).resolve().is_relative_to(REPO_ROOT)
    assert Path(subnet_validator().__file__).resolve().is_relative_to(REPO_ROOT)
