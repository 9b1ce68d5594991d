"""Shared fixtures for the unit tests.

Collection code imports itself as ``ansible_collections.tecrax.ops``. The installed wheel
provides that package too, but the tests are about the source tree: unless a runner such as
``ansible-test units`` already provides the source as that package, a temporary directory
holding the link chain ``ansible_collections/tecrax/ops -> <repository root>`` goes first on
``sys.path`` (the portions are namespace packages, so the first one that has a file wins).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from unit.collection_link import REPO_ROOT, ansible_environment, link_collection

SCHEMA_DIR = REPO_ROOT / "profile" / "schemas"
DATA_DIR = Path(__file__).resolve().parent / "data"


def _collection_importable() -> bool:
    """Whether ``ansible_collections.tecrax.ops`` already resolves to this source tree."""
    try:
        spec = importlib.util.find_spec("ansible_collections.tecrax.ops")
    except ImportError:
        return False
    locations = list(spec.submodule_search_locations or []) if spec else []
    return bool(locations) and Path(locations[0]).resolve() == REPO_ROOT


if not _collection_importable():
    sys.path.insert(0, str(link_collection()))


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


def _validator(name: str) -> Any:
    from tecrax.backend.facts_check import validator_for

    return validator_for(str(SCHEMA_DIR / name))


def schema_errors(facts: Any, name: str) -> list[str]:
    """Messages of every violation of ``profile/schemas/<name>`` (empty when valid)."""
    return [
        "/".join(str(part) for part in error.absolute_path) + ": " + error.message
        for error in _validator(name).iter_errors(facts)
    ]


@pytest.fixture(scope="session")
def facts_schema_errors() -> Callable[[Any, str], list[str]]:
    return schema_errors


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA_DIR


@pytest.fixture
def playbook_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The backend's ansible-runner calls, recorded instead of made (each one answers
    ``successful`` with no host outcome)."""
    from tecrax.backend import runtime as backend_runtime

    calls: list[dict[str, Any]] = []

    def record(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return backend_runtime.PlaybookRun("successful", 0, 0.1, {})

    monkeypatch.setattr(backend_runtime, "run_playbook", record)
    return calls


def _cut_raw(raw: Any, limit: int) -> Any:
    if isinstance(raw, (str, bytes, bytearray)):
        return raw[:limit]
    if isinstance(raw, dict):
        return {key: _cut_raw(value, limit) for key, value in raw.items()}
    if isinstance(raw, list):
        return [_cut_raw(value, limit) for value in raw]
    return raw


@pytest.fixture(scope="session")
def raw_prefix() -> Callable[[Any], Any]:
    """``raw`` with every text and bytes value cut to the bound normalizers read (MAX_RAW_BYTES):
    facts of a huge input must equal the facts of this prefix (nothing past the bound is read)."""
    from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import MAX_RAW_BYTES

    return lambda raw: _cut_raw(raw, MAX_RAW_BYTES)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A test CA and a server certificate for 127.0.0.1 (the service probes' local servers)."""
    from unit.openssl_pki import make_pki

    return make_pki(tmp_path_factory.mktemp("pki"), "127.0.0.1")


@pytest.fixture
def servers() -> Iterator[list[Any]]:
    """Local servers a test starts; closed when it ends."""
    started: list[Any] = []
    yield started
    for server in started:
        server.close()


@pytest.fixture
def ansible_env(tmp_path: Path) -> dict[str, str]:
    """Environment for the Ansible command-line tools, seeing only this checkout's collection."""
    return ansible_environment(tmp_path)
