"""Digests of the collection files a step ran, recorded in every step's data.

RExecOp binds only files under the profile root into a plan; the playbook and module live
outside it, so the backend records their digests itself.
"""

from __future__ import annotations

import ast
import hashlib
from functools import lru_cache
from pathlib import Path

from tecrax import collection_root
from tecrax.backend.actions import ActionSpec

MODULE_UTILS_PACKAGE = "ansible_collections.tecrax.ops.plugins.module_utils"


def _file_digest(path: Path) -> str:
    """The file's digest, computed again whenever the file may have changed: the cache key is
    the path with the inode, size and modification time, not the path alone."""
    info = path.stat()
    return _content_digest(path, info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


@lru_cache(maxsize=256)
def _content_digest(path: Path, _device: int, _inode: int, _size: int, _mtime_ns: int) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def _imported_module_utils(source: Path, module_utils: Path) -> set[Path]:
    """The module_utils files (``<family>/<module>.py``) that ``source`` imports directly."""
    found: set[Path] = set()
    for node in ast.walk(ast.parse(source.read_bytes(), filename=str(source))):
        if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith(MODULE_UTILS_PACKAGE + "."):
            continue
        package = module_utils.joinpath(*node.module[len(MODULE_UTILS_PACKAGE) + 1:].split("."))
        candidates = [package.with_suffix(".py")] + [package / f"{alias.name}.py" for alias in node.names]
        found.update(path for path in candidates if path.is_file())
    return found


@lru_cache(maxsize=64)
def module_utils_used(module_file: Path) -> tuple[Path, ...]:
    """Every module_utils file a module imports, directly or through other module_utils, sorted."""
    module_utils = module_file.parents[1] / "module_utils"
    seen: set[Path] = set()
    pending = _imported_module_utils(module_file, module_utils)
    while pending:
        path = pending.pop()
        seen.add(path)
        pending |= _imported_module_utils(path, module_utils) - seen
    return tuple(sorted(seen))


def _module_utils_digest(module_file: Path) -> str:
    module_utils = module_file.parents[1] / "module_utils"
    digest = hashlib.sha256()
    for path in module_utils_used(module_file):
        digest.update(path.relative_to(module_utils).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


def collection_digests(action: ActionSpec) -> dict[str, str]:
    root = collection_root()
    module_file = root / "plugins" / "modules" / f"{action.module.rsplit('.', 1)[1]}.py"
    return {
        "playbook_digest": _file_digest(root / action.playbook),
        "module_digest": _file_digest(module_file),
        "module_utils_digest": _module_utils_digest(module_file),
    }
