"""Preflight of the operator's environment and catalog files, before RExecOp sees them.

RExecOp's own loader expands YAML aliases without bound and reports a wrong shape with a
traceback; and it cannot check a plugin backend's connector settings at plan time. So
``tecrax run`` reads each file once here, refuses oversized files, alias-expanding documents,
broken YAML and wrong shapes, and parses every ``tecrax_ansible`` connector with the backend's
own parser: a bad value is a one-line error naming its field, and no operation is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tecrax.backend.config import ConfigError, parse_connector_config

MAX_FILE_BYTES = 1024 * 1024
BACKEND = "tecrax_ansible"


class OperatorFileError(ValueError):
    """An operator file is unusable; the message is one line naming the file and the field."""


def check_environment(path: Path) -> None:
    """Refuse an environment file RExecOp must not be given (see the module docstring)."""
    document = load_yaml(path, "environment")
    environment = _mapping(document.get("environment"), path, "environment")
    for key in ("targets", "connectors", "safety", "policy_pack"):
        if environment.get(key) is not None:
            _mapping(environment[key], path, f"environment.{key}")
    for name, connector in (environment.get("connectors") or {}).items():
        connector = _mapping(connector, path, f"environment.connectors.{name}")
        if connector.get("backend") != BACKEND:
            continue
        try:
            parse_connector_config(connector)
        except ConfigError as exc:
            raise OperatorFileError(f"{path.name}: environment.connectors.{name}: {exc}") from None


def check_catalog(path: Path, target: str) -> None:
    """Refuse a bad catalog, and a bad environment file behind the catalog entry ``target``."""
    document = load_yaml(path, "catalog")
    catalog = _mapping(document.get("target_catalog"), path, "target_catalog")
    entries = catalog.get("targets")
    if not isinstance(entries, list):
        raise OperatorFileError(f"{path.name}: target_catalog.targets must be a list")
    for index, entry in enumerate(entries):
        entry = _mapping(entry, path, f"target_catalog.targets[{index}]")
        if entry.get("id") != target:
            continue
        reference = entry.get("environment_ref")
        if not isinstance(reference, str) or not reference or "\0" in reference:
            raise OperatorFileError(f"{path.name}: target_catalog.targets[{index}].environment_ref must be a path")
        check_environment((path.parent / reference).resolve())


def load_yaml(path: Path, what: str) -> Mapping[str, Any]:
    """One YAML mapping from ``path``: bounded in size, without aliases."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise OperatorFileError(f"{path.name}: {what} file of {size} bytes exceeds {MAX_FILE_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OperatorFileError(f"cannot read {what} file {path.name}: {exc.strerror or type(exc).__name__}") from None
    except UnicodeDecodeError:
        raise OperatorFileError(f"{path.name}: {what} file is not UTF-8 text") from None
    try:
        document = yaml.load(text, Loader=_alias_refusing_loader(path, what))  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise OperatorFileError(f"{path.name}: {where}invalid YAML ({problem})") from None
    return _mapping(document, path, "the document")


def _alias_refusing_loader(path: Path, what: str) -> type[yaml.SafeLoader]:
    """RExecOp's own (safe, pure-Python) loader, refusing the first alias it meets: one pass
    over the text instead of a scan for aliases and then a second parse."""

    class AliasRefusingLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                line = mark.line + 1 if mark else 0
                raise OperatorFileError(f"{path.name}: line {line}: YAML aliases are not accepted in a {what} file")
            return super().compose_node(parent, index)

    return AliasRefusingLoader


def _mapping(value: Any, path: Path, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise OperatorFileError(f"{path.name}: {field} must be a mapping")
    return value
