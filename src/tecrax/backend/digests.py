"""Digests of the collection files a step ran, recorded in every step's data.

RExecOp binds only files under the profile root into a plan; the playbook and module live
outside it, so the backend records their digests itself. A module with an action plugin of the
same name (the code that really runs on the controller) records the plugin too, and the
modules it runs on the host (named ``tecrax.ops.<module>`` in its code).
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from tecrax import collection_root
from tecrax.backend.actions import ActionSpec

MODULE_UTILS_PACKAGE = "ansible_collections.tecrax.ops.plugins.module_utils"
_MODULE_NAME = re.compile(r"tecrax\.ops\.([a-z][a-z0-9_]{0,63})")


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
    """Every module_utils file a module (or an action plugin) imports, directly or through other
    module_utils, sorted."""
    module_utils = module_file.parents[1] / "module_utils"
    seen: set[Path] = set()
    pending = _imported_module_utils(module_file, module_utils)
    while pending:
        path = pending.pop()
        seen.add(path)
        pending |= _imported_module_utils(path, module_utils) - seen
    return tuple(sorted(seen))


def _module_utils_digest(code_files: Iterable[Path], module_utils: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted({used for code in code_files for used in module_utils_used(code)}):
        digest.update(path.relative_to(module_utils).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


def modules_run_by(action_plugin: Path, modules: Path) -> dict[str, Path]:
    """The collection's modules an action plugin names in full (``tecrax.ops.<module>``)."""
    found: dict[str, Path] = {}
    for node in ast.walk(ast.parse(action_plugin.read_bytes(), filename=str(action_plugin))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = _MODULE_NAME.fullmatch(node.value)
            if match and (modules / f"{match.group(1)}.py").is_file():
                found[node.value] = modules / f"{match.group(1)}.py"
    return found


def collection_digests(action: ActionSpec) -> dict[str, object]:
    root = collection_root()
    name = action.module.rsplit(".", 1)[1]
    modules = root / "plugins" / "modules"
    module_file = modules / f"{name}.py"
    action_plugin = root / "plugins" / "action" / f"{name}.py"
    digests: dict[str, object] = {
        "playbook_digest": _file_digest(root / action.playbook),
        "module_digest": _file_digest(module_file),
    }
    code = [module_file]
    if action_plugin.is_file():
        run_on_host = modules_run_by(action_plugin, modules)
        digests["action_plugin_digest"] = _file_digest(action_plugin)
        digests["host_module_digests"] = {fqcn: _file_digest(path) for fqcn, path in sorted(run_on_host.items())}
        code += [action_plugin, *run_on_host.values()]
    digests["module_utils_digest"] = _module_utils_digest(code, root / "plugins" / "module_utils")
    return digests
