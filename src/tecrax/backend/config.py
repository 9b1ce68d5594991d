"""Strict parsing of the ``tecrax_ansible`` connector configuration.

The configuration comes from the operator's RExecOp environment file
(``environment.connectors.<name>``). It is validated as strictly as user input: unknown
keys, wrong types and out-of-range values are refused with a message naming the key.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

CONNECTIONS = ("ssh", "local")
DEFAULT_TIMEOUT_SECONDS = 120
MAX_TIMEOUT_SECONDS = 3600
DEFAULT_MAX_OUTPUT_BYTES = 65536
MIN_OUTPUT_BYTES = 1024
MAX_OUTPUT_BYTES = 4 * 1024 * 1024

_TARGET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_SECRET_REF = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

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
    "inventory",
}
_INVENTORY_KEYS = frozenset({"host", "port", "user", "python_interpreter"})


class ConfigError(ValueError):
    """The connector configuration is invalid; the message names the offending key."""


@dataclass(frozen=True)
class InventoryHost:
    """How to reach one RExecOp target."""

    host: str
    port: int = 22
    user: str | None = None
    python_interpreter: str | None = None


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

    def host_for(self, target: str) -> InventoryHost | None:
        if self.connection == "local":
            return InventoryHost(host="localhost")
        return self.inventory.get(target)


def parse_connector_config(raw: Mapping[str, Any] | None) -> ConnectorConfig:
    """Validate ``raw`` and return a typed configuration or raise :class:`ConfigError`."""
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
        known_hosts_file=_optional_absolute_path(raw.get("known_hosts_file"), "known_hosts_file"),
        identity_file_secret_ref=_optional_secret_ref(raw.get("identity_file_secret_ref")),
        python_interpreter=_optional_absolute_path(
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
        inventory=_inventory(raw.get("inventory")),
    )
    if config.connection == "ssh":
        if not config.inventory:
            raise ConfigError("inventory must name at least one target for connection: ssh")
        if config.known_hosts_file is None:
            raise ConfigError(
                "known_hosts_file is required for connection: ssh (host keys are always checked)"
            )
    return config


def _inventory(raw: Any) -> dict[str, InventoryHost]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError("inventory must be a mapping of target id to {host, port}")
    hosts: dict[str, InventoryHost] = {}
    for target, spec in raw.items():
        if not isinstance(target, str) or not _TARGET_NAME.match(target):
            raise ConfigError(f"inventory target id is invalid: {str(target)[:64]!r}")
        if not isinstance(spec, Mapping):
            raise ConfigError(f"inventory.{target} must be a mapping")
        unknown = sorted(str(key) for key in spec if key not in _INVENTORY_KEYS)
        if unknown:
            raise ConfigError(f"unknown key(s) in inventory.{target}: {', '.join(unknown)}")
        hosts[target] = InventoryHost(
            host=_host(spec.get("host"), f"inventory.{target}.host"),
            port=_bounded_int(spec.get("port", 22), f"inventory.{target}.port", 1, 65535),
            user=_optional_user(spec.get("user"), f"inventory.{target}.user"),
            python_interpreter=_optional_absolute_path(
                spec.get("python_interpreter"), f"inventory.{target}.python_interpreter"
            ),
        )
    return hosts


def _host(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key} is required (a hostname or IP address)")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if not _HOSTNAME.match(value):
        raise ConfigError(f"{key} is not a valid hostname or IP address")
    return value


def _optional_user(value: Any, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _USER.match(value):
        raise ConfigError(f"{key} must be a POSIX user name")
    return value


def _optional_absolute_path(value: Any, key: str) -> str | None:
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not value.startswith("/")
        or len(value) > 4096
        or any(ch in value for ch in "\n\r\t\0 ")
        or ".." in PurePosixPath(value).parts
    ):
        raise ConfigError(f"{key} must be an absolute path without spaces or '..'")
    return value


def _optional_secret_ref(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _SECRET_REF.match(value):
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
