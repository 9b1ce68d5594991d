"""Digests of the collection files a step ran, recorded in every step's data.

RExecOp binds only files under the profile root into a plan; the playbook and module live
outside it, so the backend records their digests itself.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from tecrax import collection_root
from tecrax.backend.actions import ActionSpec


@lru_cache(maxsize=256)
def _file_digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@lru_cache(maxsize=1)
def _module_utils_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted((root / "plugins" / "module_utils").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


def collection_digests(action: ActionSpec) -> dict[str, str]:
    root = collection_root()
    module_file = root / "plugins" / "modules" / f"{action.module.rsplit('.', 1)[1]}.py"
    return {
        "playbook_digest": _file_digest(root / action.playbook),
        "module_digest": _file_digest(module_file),
        "module_utils_digest": _module_utils_digest(root),
    }
