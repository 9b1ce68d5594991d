"""Preflight of the operator's environment and catalog files, before RExecOp sees them.

RExecOp's own loader expands YAML aliases without bound and reports a wrong shape with a
traceback; and it cannot check a plugin backend's connector settings at plan time. So
``tecrax run`` reads each file once here, refuses oversized files, alias-expanding documents,
broken YAML and wrong shapes, and parses every ``tecrax_ansible`` connector with the backend's
own parser: a bad value is a one-line error naming its field, and no operation is recorded.
A policy ``timeout`` constraint is refused the same way: RExecOp 0.2.16a0 plans such an
operation and then refuses to start it for any plugin backend ("policy timeout unsupported
by connector backend"), so the step's time bound belongs in the connector's ``timeout_seconds``.
The same goes for a group target with a member no connector can reach, and for a mutation
over a group that the policy does not admit by naming the group.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tecrax.backend.config import ConfigError, parse_connector_config
from tecrax.backend.groups import GroupError, check_members_known, declared_group, group_mutation_rule

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
    configs = {}
    for name, connector in (environment.get("connectors") or {}).items():
        connector = _mapping(connector, path, f"environment.connectors.{name}")
        if connector.get("backend") != BACKEND:
            continue
        try:
            configs[name] = parse_connector_config(connector)
        except ConfigError as exc:
            raise OperatorFileError(f"{path.name}: environment.connectors.{name}: {exc}") from None
    if configs:
        _refuse_policy_timeout(environment.get("policy_pack") or {}, path, next(iter(configs)))
    _check_groups(path, environment.get("targets") or {}, configs)


def _refuse_policy_timeout(policy_pack: Mapping[str, Any], path: Path, connector: str) -> None:
    """GovEngine checks the policy's shape itself; only a well-formed timeout is looked for."""
    rules = policy_pack.get("rules")
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        constraints = rule.get("constraints") if isinstance(rule, Mapping) else None
        for position, constraint in enumerate(constraints if isinstance(constraints, list) else []):
            if isinstance(constraint, Mapping) and constraint.get("kind") == "timeout":
                raise OperatorFileError(
                    f"{path.name}: environment.policy_pack.rules[{index}].constraints[{position}]: a policy timeout "
                    f"cannot bound {BACKEND} steps (RExecOp would refuse to start: policy timeout unsupported by "
                    f"connector backend); set environment.connectors.{connector}.timeout_seconds instead"
                )


def _check_groups(path: Path, targets: Mapping[str, Any], configs: Mapping[str, Any]) -> None:
    """Every member of a group must be a target the connectors can reach (RExecOp itself
    accepts any member name)."""
    for target in targets:
        try:
            group = declared_group(targets, target)
            for name, config in configs.items() if group is not None else ():
                check_members_known(group, lambda member, config=config: config.host_for(member) is not None, name)
        except GroupError as exc:
            raise OperatorFileError(f"{path.name}: {exc}") from None


def check_group_mutation(path: Path, *, intent: str, target: str, mode: str, risk: str) -> None:
    """Refuse a mutating run on a group unless a policy rule admits it by naming the group
    (the backend refuses it too, at start; this says so before anything is planned)."""
    environment = _mapping(load_yaml(path, "environment").get("environment"), path, "environment")
    if declared_group(environment.get("targets") or {}, target) is None:
        return
    policy = environment.get("policy_pack")
    rule = None
    if isinstance(policy, Mapping):
        rule = group_mutation_rule(policy_pack=policy, environment_path=path, intent=intent, group=target,
                                   mode=mode, risk=risk)
    if rule is None:
        raise OperatorFileError(
            f"{path.name}: {mode} of {intent} on group {target} refused: no policy rule admits it by naming "
            f"the group (conditions resource.target_ref: {target})"
        )


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
