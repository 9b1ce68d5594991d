# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Rules for the endpoints of the AdGuard Home and Portainer checks: web URLs, CA files, the
DNS resolver address and port, the DNS query name and time limits.

Pure standard library, no imports from the collection and no I/O: the modules use these rules
for their options, and the Tecrax backend imports it (without Ansible) to validate the operator's
connector configuration with the very same rules before anything runs. Error messages name
the option, never its value.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional
from urllib.parse import urlsplit

MAX_URL_CHARS = 2048
MIN_TIMEOUT_SECONDS = 1
MAX_TIMEOUT_SECONDS = 60
DEFAULT_DNS_PORT = 53
# A stable public name every resolver that forwards to the internet can answer. Operators
# whose AdGuard only serves internal names set their own query_name.
DEFAULT_QUERY_NAME = "example.com"
DEFAULT_ADGUARD_TIMEOUT_SECONDS = 5
DEFAULT_PORTAINER_TIMEOUT_SECONDS = 10

ADGUARD_KEYS = ("dns_server", "dns_port", "query_name", "web_url", "ca_file", "timeout_seconds")
PORTAINER_KEYS = ("base_url", "ca_file", "timeout_seconds")

_DNS_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = re.compile(r"(?=.{1,253}\Z)%s(?:\.%s)*\Z" % (_DNS_LABEL, _DNS_LABEL))
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,127}\Z")
_MAX_PATH_SEGMENTS = 8


class EndpointOptionError(ValueError):
    """An option is not acceptable; the message names the option and never its value."""


@dataclass(frozen=True)
class WebEndpoint:
    """A checked base URL: scheme, host (IP addresses in canonical form), port and a path
    prefix that is empty or starts with ``/`` and has no trailing ``/``."""

    scheme: str
    host: str
    port: int
    prefix: str

    def path_for(self, path: str) -> str:
        """The request path of ``path`` (a fixed path starting with ``/``) under the prefix."""
        return self.prefix + path

    def url_for(self, path: str) -> str:
        """The URL of ``path`` under this endpoint; the port only when it is not the scheme's
        default, so that the Host header is what the operator's URL implies."""
        host = "[%s]" % self.host if ":" in self.host else self.host
        port = "" if self.port == (443 if self.scheme == "https" else 80) else ":%d" % self.port
        return "%s://%s%s%s" % (self.scheme, host, port, self.path_for(path))


def parse_web_url(value: object, option: str, https_only: bool = False) -> WebEndpoint:
    """Check a base URL like ``https://adguard.example.org:8443`` or ``http://192.0.2.1/adguard``.

    Accepted: ``http://`` (unless ``https_only``) or ``https://``, a DNS name or IP literal, an
    optional port, and an optional path prefix of at most 8 plain segments; no user
    information, query, fragment, ``.`` or ``..`` segments.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_URL_CHARS:
        raise EndpointOptionError("%s must be a URL of at most %d characters" % (option, MAX_URL_CHARS))
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in value):
        raise EndpointOptionError("%s must not contain whitespace, control characters or backslashes" % option)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise EndpointOptionError("%s is not a valid URL (bad host or port)" % option)
    schemes = ("https",) if https_only else ("http", "https")
    if parts.scheme not in schemes or not value.startswith(parts.scheme + "://"):
        if https_only:
            raise EndpointOptionError("%s must start with https:// (only verified TLS is used)" % option)
        raise EndpointOptionError("%s must start with http:// or https://" % option)
    if "@" in parts.netloc:
        raise EndpointOptionError("%s must not carry user information" % option)
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise EndpointOptionError("%s must not have a query or fragment" % option)
    host = _web_host(parts.hostname, parts.netloc, option)
    if port == 0:
        raise EndpointOptionError("%s port must be between 1 and 65535" % option)
    prefix = _path_prefix(parts.path, option)
    default_port = 443 if parts.scheme == "https" else 80
    return WebEndpoint(scheme=parts.scheme, host=host, port=port or default_port, prefix=prefix)


def _web_host(hostname: Optional[str], netloc: str, option: str) -> str:
    if not hostname:
        raise EndpointOptionError("%s has no host" % option)
    if netloc.startswith("["):
        if "%" in hostname:
            raise EndpointOptionError("%s host is not a valid IPv6 address (no zone index)" % option)
        try:
            return str(ipaddress.IPv6Address(hostname))
        except ValueError:
            raise EndpointOptionError("%s host is not a valid IPv6 address" % option)
    try:
        return str(ipaddress.IPv4Address(hostname))
    except ValueError:
        pass
    if re.match(r"[0-9.]+\Z", hostname) or not _DNS_NAME.match(hostname.rstrip(".")):
        raise EndpointOptionError("%s host must be a DNS name or an IP address" % option)
    return hostname.rstrip(".").lower()


def _path_prefix(path: str, option: str) -> str:
    stripped = path.rstrip("/")
    if (path and not path.startswith("/")) or "//" in path:
        raise EndpointOptionError("%s path is not a plain path" % option)
    segments = stripped.split("/")[1:] if stripped else []
    if len(segments) > _MAX_PATH_SEGMENTS or not all(
            _PATH_SEGMENT.match(segment) and segment not in (".", "..") for segment in segments):
        raise EndpointOptionError(
            "%s path must be at most %d segments of letters, digits, '.', '_', '~', '-'" % (option, _MAX_PATH_SEGMENTS))
    return stripped


def check_ca_file(endpoint: WebEndpoint, ca_file: object, url_option: str, ca_option: str = "ca_file") -> Optional[str]:
    """An https URL needs an absolute CA file (the only trust anchor used); http takes none,
    because there is no TLS to pin."""
    if endpoint.scheme == "https":
        if (not isinstance(ca_file, str) or not ca_file.startswith("/") or len(ca_file) > 4096
                or any(ch.isspace() or ord(ch) < 32 for ch in ca_file) or "/../" in ca_file + "/"):
            raise EndpointOptionError("%s (an absolute path) is required for an https %s" % (ca_option, url_option))
        return ca_file
    if ca_file is not None:
        raise EndpointOptionError("%s is only used with an https %s" % (ca_option, url_option))
    return None


def readable_ca_file(path: str, option: str = "ca_file") -> str:
    """``path`` when it is a readable file on the host running the module (checked before any
    connection is made, so a missing CA file is an option error, not a TLS failure)."""
    if not (os.path.isfile(path) and os.access(path, os.R_OK)):
        raise EndpointOptionError("%s is not a readable file" % option)
    return path


def parse_dns_server(value: object, option: str = "dns_server") -> str:
    """The resolver's IP address (no name: resolving it would ask some other resolver)."""
    if not isinstance(value, str) or not value or len(value) > 64:
        raise EndpointOptionError("%s must be an IPv4 or IPv6 address" % option)
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise EndpointOptionError("%s must be an IPv4 or IPv6 address" % option)
    if address.is_unspecified or address.is_multicast or (
            isinstance(address, ipaddress.IPv4Address) and address == ipaddress.IPv4Address("255.255.255.255")):
        raise EndpointOptionError("%s must be a unicast address" % option)
    return str(address)


def check_port(value: object, option: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise EndpointOptionError("%s must be an integer from 1 to 65535" % option)
    return value


def normalize_query_name(value: object, option: str = "query_name") -> str:
    """A DNS host name of letter-digit-hyphen labels, at least two labels, lower-cased and
    without a trailing dot."""
    if not isinstance(value, str):
        raise EndpointOptionError("%s must be a DNS name" % option)
    name = value[:-1] if value.endswith(".") else value
    if not _DNS_NAME.match(name) or "." not in name or re.match(r"[0-9.]+\Z", name):
        raise EndpointOptionError(
            "%s must be a DNS name of at least two labels (letters, digits, '-'), at most 253 characters" % option)
    return name.lower()


def check_timeout(value: object, option: str = "timeout_seconds") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (
            MIN_TIMEOUT_SECONDS <= value <= MAX_TIMEOUT_SECONDS):
        raise EndpointOptionError("%s must be an integer from %d to %d"
                                  % (option, MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS))
    return value


def _unknown_keys(settings: Mapping[str, Any], known: tuple) -> None:
    unknown = sorted(str(key) for key in settings if key not in known)
    if unknown:
        raise EndpointOptionError("%s is not a known key (known: %s)" % (unknown[0], ", ".join(known)))


def adguard_settings(settings: object) -> Dict[str, Any]:
    """Checked AdGuard Home settings with defaults filled in: ``dns_server``, ``dns_port``,
    ``query_name``, ``web_url``, ``ca_file`` (https only) and ``timeout_seconds``."""
    if not isinstance(settings, Mapping):
        raise EndpointOptionError("must be a mapping")
    _unknown_keys(settings, ADGUARD_KEYS)
    endpoint = parse_web_url(settings.get("web_url"), "web_url")
    checked: Dict[str, Any] = {
        "dns_server": parse_dns_server(settings.get("dns_server")),
        "dns_port": check_port(settings.get("dns_port", DEFAULT_DNS_PORT), "dns_port"),
        "query_name": normalize_query_name(settings.get("query_name", DEFAULT_QUERY_NAME)),
        "web_url": settings["web_url"],
        "timeout_seconds": check_timeout(settings.get("timeout_seconds", DEFAULT_ADGUARD_TIMEOUT_SECONDS)),
    }
    ca_file = check_ca_file(endpoint, settings.get("ca_file"), "web_url")
    if ca_file is not None:
        checked["ca_file"] = ca_file
    return checked


def portainer_settings(settings: object) -> Dict[str, Any]:
    """Checked Portainer settings: ``base_url`` (https only), ``ca_file`` and ``timeout_seconds``."""
    if not isinstance(settings, Mapping):
        raise EndpointOptionError("must be a mapping")
    _unknown_keys(settings, PORTAINER_KEYS)
    endpoint = parse_web_url(settings.get("base_url"), "base_url", https_only=True)
    return {
        "base_url": settings["base_url"],
        "ca_file": check_ca_file(endpoint, settings.get("ca_file"), "base_url"),
        "timeout_seconds": check_timeout(settings.get("timeout_seconds", DEFAULT_PORTAINER_TIMEOUT_SECONDS)),
    }
