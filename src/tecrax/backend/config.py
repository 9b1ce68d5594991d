"""Strict parsing of the ``tecrax_ansible`` connector configuration.

The configuration comes from the operator's RExecOp environment file
(``environment.connectors.<name>``). It is validated as strictly as user input: unknown
keys, wrong types and out-of-range values are refused with a message naming the key.

A target's settings for actions (``allowed_subnets``, ``zabbix``, ...) are the inputs the
connector's declarations (``profile/connectors/tecrax_ansible/actions.yaml``) name; each is
checked by the function of the collection's module_utils that the declaration names (the
modules' own rules), so nothing here knows a service.
"""

from __future__ import annotations

import importlib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

from tecrax.backend.actions import ActionCatalogError, InputCatalog, InputSpec, load_input_catalog
from tecrax.backend.node_run import ExecutionNode


CONNECTIONS = ("ssh", "local")
DEFAULT_TIMEOUT_SECONDS = 120
MAX_TIMEOUT_SECONDS = 3600
DEFAULT_MAX_OUTPUT_BYTES = 65536
MIN_OUTPUT_BYTES = 1024
MAX_OUTPUT_BYTES = 4 * 1024 * 1024
# Parallel hosts of one run over a group target (Ansible's forks).
DEFAULT_FORKS = 10
MAX_FORKS = 100
# How long an idle SSH master stays up for the next run to the same target (0: no reuse).
DEFAULT_CONTROL_PERSIST_SECONDS = 60
MAX_CONTROL_PERSIST_SECONDS = 3600

# Whole-value patterns: always applied with fullmatch (a "$" anchor would let "name\n" through).
_TARGET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
MAX_HOSTNAME_CHARS = 253
_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")
_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_SECRET_REF = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SAFE_PATH = re.compile(r"/[A-Za-z0-9._+@/-]{0,4095}")

# Keys RExecOp itself reads from every connector entry; accepted and ignored here.
_RUNTIME_KEYS = frozenset({"enabled", "backend", "description"})
_KNOWN_KEYS = _RUNTIME_KEYS | {
    "connection",
    "user",
    "known_hosts_file",
    "identity_file_secret_ref",
    "python_interpreter",
    "timeout_seconds",
    "max_output_bytes",
    "ssh_pipelining",
    "ssh_control_persist_seconds",
    "inventory",
    "forks",
    "execution_node",
}
_NODE_KEYS = frozenset({"host", "port", "user", "ansible_runner", "work_dir"})
# Keys of an inventory entry besides the declared inputs.
_HOST_KEYS = frozenset({"host", "port", "user", "python_interpreter", "connection"})


class ConfigError(ValueError):
    """The connector configuration is invalid; the message names the offending key."""


@dataclass(frozen=True)
class InventoryHost:
    """How to reach one RExecOp target."""

    host: str
    port: int = 22
    user: str | None = None
    python_interpreter: str | None = None
    # "local": Ansible runs the module on the controller (controller-side checks).
    connection: str = "ssh"
    # The declared inputs this target sets, checked and normalized.
    inputs: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class ConnectorConfig:
    connection: str
    user: str | None
    known_hosts_file: str | None
    identity_file_secret_ref: str | None
    python_interpreter: str | None
    timeout_seconds: int
    max_output_bytes: int
    ssh_pipelining: bool
    inventory: Mapping[str, InventoryHost] = field(default_factory=dict)
    forks: int = DEFAULT_FORKS
    # Run SSH targets' steps on this node (ansible-runner worker over SSH); None: locally.
    execution_node: ExecutionNode | None = None
    ssh_control_persist_seconds: int = DEFAULT_CONTROL_PERSIST_SECONDS

    def host_for(self, target: str) -> InventoryHost | None:
        if self.connection == "local":
            entry = self.inventory.get(target)
            if entry is None:
                return InventoryHost(host="localhost", connection="local")
            return replace(entry, host="localhost", connection="local")
        return self.inventory.get(target)


def parse_connector_config(raw: Mapping[str, Any] | None, inputs: InputCatalog | None = None) -> ConnectorConfig:
    """Validate ``raw`` and return a typed configuration or raise :class:`ConfigError`.
    ``inputs``: the declared per-target inputs (default: the installed profile's)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError("connector config must be a mapping")
    unknown = sorted(str(key) for key in raw if key not in _KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"unknown connector config key(s): {', '.join(unknown)}")

    connection = raw.get("connection", "ssh")
    if connection not in CONNECTIONS:
        raise ConfigError(f"connection must be one of {', '.join(CONNECTIONS)}")

    config = ConnectorConfig(
        connection=connection,
        user=_optional_user(raw.get("user"), "user"),
        known_hosts_file=optional_absolute_path(raw.get("known_hosts_file"), "known_hosts_file"),
        identity_file_secret_ref=_optional_secret_ref(raw.get("identity_file_secret_ref")),
        python_interpreter=optional_absolute_path(
            raw.get("python_interpreter"), "python_interpreter"
        ),
        timeout_seconds=_bounded_int(
            raw.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS), "timeout_seconds", 1, MAX_TIMEOUT_SECONDS
        ),
        max_output_bytes=_bounded_int(
            raw.get("max_output_bytes", DEFAULT_MAX_OUTPUT_BYTES),
            "max_output_bytes",
            MIN_OUTPUT_BYTES,
            MAX_OUTPUT_BYTES,
        ),
        ssh_pipelining=_bool(raw.get("ssh_pipelining", True), "ssh_pipelining"),
        ssh_control_persist_seconds=_bounded_int(
            raw.get("ssh_control_persist_seconds", DEFAULT_CONTROL_PERSIST_SECONDS),
            "ssh_control_persist_seconds",
            0,
            MAX_CONTROL_PERSIST_SECONDS,
        ),
        inventory=_inventory(raw.get("inventory"), connection, inputs or _declared_inputs()),
        forks=_bounded_int(raw.get("forks", DEFAULT_FORKS), "forks", 1, MAX_FORKS),
        execution_node=_execution_node(raw.get("execution_node")),
    )
    if config.execution_node is not None and config.known_hosts_file is None:
        raise ConfigError("execution_node needs known_hosts_file (the node's and the targets' host keys)")
    if config.connection == "ssh":
        if not config.inventory:
            raise ConfigError("inventory must name at least one target for connection: ssh")
        if config.known_hosts_file is None:
            raise ConfigError(
                "known_hosts_file is required for connection: ssh (host keys are always checked)"
            )
    return config


def _declared_inputs() -> InputCatalog:
    from tecrax import profile_root

    try:
        return load_input_catalog(Path(profile_root()))
    except ActionCatalogError as exc:
        raise ConfigError(f"the profile's input declarations are unusable: {exc}") from None


def _inventory(raw: Any, connection: str, inputs: InputCatalog) -> dict[str, InventoryHost]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError("inventory must be a mapping of target id to {host, port}")
    hosts: dict[str, InventoryHost] = {}
    for target, spec in raw.items():
        if not isinstance(target, str) or not _TARGET_NAME.fullmatch(target):
            raise ConfigError(f"inventory target id is invalid: {str(target)[:64]!r}")
        if not isinstance(spec, Mapping):
            raise ConfigError(f"inventory.{target} must be a mapping")
        unknown = sorted(str(key) for key in spec if key not in _HOST_KEYS and key not in inputs.inputs)
        if unknown:
            raise ConfigError(f"unknown key(s) in inventory.{target}: {', '.join(unknown)}")
        target_connection = spec.get("connection", connection)
        if target_connection not in CONNECTIONS:
            raise ConfigError(f"inventory.{target}.connection must be one of {', '.join(CONNECTIONS)}")
        local = target_connection == "local"
        hosts[target] = InventoryHost(
            host="localhost" if local and spec.get("host") is None
            else _host(spec.get("host"), f"inventory.{target}.host"),
            connection=target_connection,
            port=_bounded_int(spec.get("port", 22), f"inventory.{target}.port", 1, 65535),
            user=_optional_user(spec.get("user"), f"inventory.{target}.user"),
            python_interpreter=optional_absolute_path(
                spec.get("python_interpreter"), f"inventory.{target}.python_interpreter"
            ),
            inputs={name: _input_value(declared, spec[name], f"inventory.{target}")
                    for name, declared in inputs.inputs.items() if spec.get(name) is not None},
        )
    return hosts


def _input_value(declared: InputSpec, value: Any, prefix: str) -> Any:
    """One declared input of a target, checked by the collection function it names."""
    key = f"{prefix}.{declared.name}"
    if not declared.block:
        try:
            checked = declared.check(value)
        except ValueError as exc:  # the check names the input itself
            raise ConfigError(f"{prefix}.{exc}") from None
        return tuple(checked) if isinstance(checked, list) else checked
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key} must be a mapping")
    for path_key in declared.paths:
        optional_absolute_path(value.get(path_key), f"{key}.{path_key}")
    refs = {}
    for ref_key in declared.secret_refs:
        ref = value.get(ref_key)
        if ref is not None:
            if not isinstance(ref, str) or not _SECRET_REF.fullmatch(ref):
                raise ConfigError(f"{key}.{ref_key} must be a secret reference name ([A-Za-z0-9_-])")
            refs[ref_key] = ref
    try:
        checked = declared.check({name: item for name, item in value.items() if name not in declared.secret_refs})
    except ValueError as exc:  # the check names the offending key of the block
        raise ConfigError(f"{key}.{exc}") from None
    return {**checked, **refs}


def subnet_validator() -> ModuleType:
    """The collection's allowed-subnets validator (the check of the ``allowed_subnets`` input)."""
    return importlib.import_module("ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_subnets")


def _execution_node(raw: Any) -> ExecutionNode | None:
    """``execution_node: {host, port, user, ansible_runner, work_dir}``: where ansible-runner
    worker runs the steps of SSH targets (``tecrax.backend.node_run``)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ConfigError("execution_node must be a mapping of host, port, user, ansible_runner, work_dir")
    unknown = sorted(str(key) for key in raw if key not in _NODE_KEYS)
    if unknown:
        raise ConfigError(f"unknown key(s) in execution_node: {', '.join(unknown)}")
    runner = optional_absolute_path(raw.get("ansible_runner"), "execution_node.ansible_runner")
    if runner is None:
        raise ConfigError("execution_node.ansible_runner is required (absolute path of ansible-runner on the node)")
    return ExecutionNode(
        host=_host(raw.get("host"), "execution_node.host"),
        port=_bounded_int(raw.get("port", 22), "execution_node.port", 1, 65535),
        user=_optional_user(raw.get("user"), "execution_node.user"),
        ansible_runner=runner,
        work_dir=optional_absolute_path(raw.get("work_dir"), "execution_node.work_dir") or "/tmp",
    )


def _host(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key} is required (a hostname or IP address)")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if len(value) > MAX_HOSTNAME_CHARS or not _HOSTNAME.fullmatch(value):
        raise ConfigError(f"{key} is not a valid hostname or IP address")
    return value


def _optional_user(value: Any, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _USER.fullmatch(value):
        raise ConfigError(f"{key} must be a POSIX user name")
    return value


def optional_absolute_path(value: Any, key: str) -> str | None:
    """An absolute path of plain characters without '..', or None when absent.

    Paths reach Ansible's connection and interpreter handling, which templates and may pass
    them to a shell: letters, digits and ``._+@-`` only, so no Jinja delimiter, quote, shell
    metacharacter or whitespace can be in one."""
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not _SAFE_PATH.fullmatch(value)
        or ".." in PurePosixPath(value).parts
    ):
        raise ConfigError(
            f"{key} must be an absolute path without spaces or '..', of letters, digits and '._+@-/' only"
        )
    return value


def _optional_secret_ref(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _SECRET_REF.fullmatch(value):
        raise ConfigError("identity_file_secret_ref must be a secret reference name ([A-Za-z0-9_-])")
    return value


def _bounded_int(value: Any, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{key} must be an integer")
    if not low <= value <= high:
        raise ConfigError(f"{key} must be between {low} and {high}")
    return value


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false")
    return value
