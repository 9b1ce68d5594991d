"""Strict parsing of the ``tecrax_ansible`` connector configuration.

The configuration comes from the operator's RExecOp environment file
(``environment.connectors.<name>``). It is validated as strictly as user input: unknown
keys, wrong types and out-of-range values are refused with a message naming the key.

A target's ``allowed_subnets`` (the client subnets of the chrony NTP server mutation) are
checked by the very validator the collection's modules use, imported from the installed
collection's ``plugins/module_utils/ntp_subnets.py`` (pure standard library).
"""

from __future__ import annotations

import importlib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from types import ModuleType
from typing import Any


CONNECTIONS = ("ssh", "local")
DEFAULT_TIMEOUT_SECONDS = 120
MAX_TIMEOUT_SECONDS = 3600
DEFAULT_MAX_OUTPUT_BYTES = 65536
MIN_OUTPUT_BYTES = 1024
MAX_OUTPUT_BYTES = 4 * 1024 * 1024

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
    "inventory",
}
_INVENTORY_KEYS = frozenset(
    {"host", "port", "user", "python_interpreter", "allowed_subnets", "connection", "network_device", "zabbix",
     "adguard", "portainer"}
)
# Settings of a network device reached through the operator-owned wrapper on the controller.
_NETWORK_DEVICE_KEYS = frozenset({"wrapper_path", "timeout_seconds"})
NETWORK_WRAPPER_NAME = "tecrax-network-cli-readonly"
DEFAULT_WRAPPER_TIMEOUT_SECONDS = 30
MAX_WRAPPER_TIMEOUT_SECONDS = 300
SUBNET_VALIDATOR = ("plugins", "module_utils", "ntp_subnets.py")
# Settings of a Zabbix API target (read-only Zabbix intents, run on the controller). The URL
# and CA rules are the modules' own (zabbix_api.py, pure standard library, imported from the installed collection).
_ZABBIX_KEYS = frozenset({"api_url", "ca_file", "api_token_secret_ref", "timeout_seconds"})
ZABBIX_VALIDATOR = ("plugins", "module_utils", "zabbix_api.py")
DEFAULT_ZABBIX_TIMEOUT_SECONDS = 10
# Settings of AdGuard Home and Portainer targets (checks run on the controller); the rules are
# the modules' own (service_endpoints.py, pure standard library, imported from the installed collection).
SERVICE_ENDPOINTS_VALIDATOR = ("plugins", "module_utils", "service_endpoints.py")


class ConfigError(ValueError):
    """The connector configuration is invalid; the message names the offending key."""


@dataclass(frozen=True)
class InventoryHost:
    """How to reach one RExecOp target."""

    host: str
    port: int = 22
    user: str | None = None
    python_interpreter: str | None = None
    allowed_subnets: tuple[str, ...] | None = None
    # "local": Ansible runs the module on the controller (controller-side checks).
    connection: str = "ssh"
    network_device: Mapping[str, Any] | None = field(default=None, hash=False)
    zabbix: Mapping[str, Any] | None = field(default=None, hash=False)
    adguard: Mapping[str, Any] | None = field(default=None, hash=False)
    portainer: Mapping[str, Any] | None = field(default=None, hash=False)


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
            entry = self.inventory.get(target)
            if entry is None:
                return InventoryHost(host="localhost", connection="local")
            return replace(entry, host="localhost", connection="local")
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
        inventory=_inventory(raw.get("inventory"), connection),
    )
    if config.connection == "ssh":
        if not config.inventory:
            raise ConfigError("inventory must name at least one target for connection: ssh")
        if config.known_hosts_file is None:
            raise ConfigError(
                "known_hosts_file is required for connection: ssh (host keys are always checked)"
            )
    return config


def _inventory(raw: Any, connection: str = "ssh") -> dict[str, InventoryHost]:
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
        unknown = sorted(str(key) for key in spec if key not in _INVENTORY_KEYS)
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
            network_device=_optional_network_device(
                spec.get("network_device"), f"inventory.{target}.network_device", local
            ),
            port=_bounded_int(spec.get("port", 22), f"inventory.{target}.port", 1, 65535),
            user=_optional_user(spec.get("user"), f"inventory.{target}.user"),
            python_interpreter=optional_absolute_path(
                spec.get("python_interpreter"), f"inventory.{target}.python_interpreter"
            ),
            allowed_subnets=_optional_subnets(spec.get("allowed_subnets"), f"inventory.{target}."),
            zabbix=_optional_zabbix(spec.get("zabbix"), f"inventory.{target}.zabbix", local),
            adguard=_optional_service(spec.get("adguard"), f"inventory.{target}.adguard", local, "adguard"),
            portainer=_optional_service(spec.get("portainer"), f"inventory.{target}.portainer", local, "portainer"),
        )
    return hosts


def _controller_block(value: Any, key: str, local: bool, known: frozenset[str], why: str) -> Mapping[str, Any] | None:
    """A settings block of a controller-side target, or None when absent: it needs
    ``connection: local``, must be a mapping and may use only the ``known`` keys."""
    if value is None:
        return None
    if not local:
        raise ConfigError(f"{key} needs connection: local ({why})")
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key} must be a mapping")
    unknown = sorted(str(name) for name in value if name not in known)
    if unknown:
        raise ConfigError(f"unknown key(s) in {key}: {', '.join(unknown)}")
    return value


def _optional_network_device(value: Any, key: str, local: bool) -> dict[str, Any] | None:
    """``{wrapper_path, timeout_seconds}`` of a network device, or ``None`` when absent."""
    value = _controller_block(value, key, local, _NETWORK_DEVICE_KEYS, "the wrapper runs on the controller")
    if value is None:
        return None
    path = optional_absolute_path(value.get("wrapper_path"), f"{key}.wrapper_path")
    if (
        path is None
        or PurePosixPath(path).name != NETWORK_WRAPPER_NAME
        or any(part in path + "/" for part in ("//", "/./"))
    ):
        raise ConfigError(f"{key}.wrapper_path must be the absolute path of a file called {NETWORK_WRAPPER_NAME}")
    timeout = _bounded_int(
        value.get("timeout_seconds", DEFAULT_WRAPPER_TIMEOUT_SECONDS),
        f"{key}.timeout_seconds", 1, MAX_WRAPPER_TIMEOUT_SECONDS,
    )
    return {"wrapper_path": path, "timeout_seconds": timeout}


def _optional_zabbix(value: Any, key: str, local: bool) -> dict[str, Any] | None:
    """``{api_url, ca_file?, api_token_secret_ref?, timeout_seconds}`` of a Zabbix API target."""
    value = _controller_block(value, key, local, _ZABBIX_KEYS, "the API is called from the controller")
    if value is None:
        return None
    ca_file = optional_absolute_path(value.get("ca_file"), f"{key}.ca_file")
    validator = zabbix_validator()
    try:
        endpoint = validator.parse_endpoint(value.get("api_url"), ca_file)
    except validator.ZabbixOptionError as exc:
        # The validator names api_url / ca_file; prefix them with the target's block.
        raise ConfigError(f"{key}.{exc}") from None
    settings: dict[str, Any] = {
        "api_url": endpoint.url,
        "timeout_seconds": _bounded_int(
            value.get("timeout_seconds", DEFAULT_ZABBIX_TIMEOUT_SECONDS), f"{key}.timeout_seconds",
            validator.MIN_TIMEOUT_SECONDS, validator.MAX_TIMEOUT_SECONDS,
        ),
    }
    if ca_file is not None:
        settings["ca_file"] = ca_file
    ref = value.get("api_token_secret_ref")
    if ref is not None:
        if not isinstance(ref, str) or not _SECRET_REF.fullmatch(ref):
            raise ConfigError(f"{key}.api_token_secret_ref must be a secret reference name ([A-Za-z0-9_-])")
        settings["api_token_secret_ref"] = ref
    return settings


def _optional_service(value: Any, key: str, local: bool, service: str) -> dict[str, Any] | None:
    """An ``adguard`` or ``portainer`` settings block, checked by the modules' own rules
    (``<service>_settings`` in service_endpoints.py), or None when absent."""
    if value is None:
        return None
    validator = service_endpoints_validator()
    known = frozenset(getattr(validator, f"{service.upper()}_KEYS"))
    value = _controller_block(value, key, local, known, "the check runs on the controller")
    optional_absolute_path(value.get("ca_file"), f"{key}.ca_file")
    try:
        return dict(getattr(validator, f"{service}_settings")(value))
    except validator.EndpointOptionError as exc:
        # The rules' messages start with the option (web_url, ca_file, ...).
        raise ConfigError(f"{key}.{exc}") from None


def service_endpoints_validator() -> ModuleType:
    """The collection's AdGuard/Portainer endpoint rules."""
    return _collection_module(SERVICE_ENDPOINTS_VALIDATOR)


def zabbix_validator() -> ModuleType:
    """The collection's Zabbix endpoint rules."""
    return _collection_module(ZABBIX_VALIDATOR)


def _optional_subnets(value: Any, prefix: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    validator = subnet_validator()
    try:
        return tuple(validator.validate_allowed_subnets(value))
    except validator.SubnetError as exc:
        # The validator's messages start with "allowed_subnets"; prefix them with the target.
        raise ConfigError(prefix + str(exc)) from None


def subnet_validator() -> ModuleType:
    """The collection's allowed-subnets validator."""
    return _collection_module(SUBNET_VALIDATOR)


def _collection_module(parts: tuple[str, ...]) -> ModuleType:
    """A pure-stdlib module_utils module of the installed collection (imported without
    Ansible), so the backend applies exactly the rules the modules apply."""
    name = ".".join(("ansible_collections", "tecrax", "ops", *parts[:-1], parts[-1].removesuffix(".py")))
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ConfigError(f"the installed collection has no {parts[-1]}") from None


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
