# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The Zabbix JSON-RPC protocol as Tecrax speaks it: endpoint rules, requests, responses.

Pure standard library and no I/O: the modules hand in an ``Exchange`` (what came back over
HTTP, or why nothing did) and get a classified ``RpcOutcome``. Nothing here keeps or returns
an API credential; ``request_body`` is the only function that sees one, and only to place it
into the JSON-RPC body for Zabbix versions that take it there.

Facts verified on a real Zabbix 6.0.14:
- ``apiinfo.version`` must be sent without ``auth`` (else "must be called without the auth
  parameter").
- 6.0 takes an API token only as ``"auth"`` in the body; an ``Authorization: Bearer`` header
  is ignored there ("Not authorized."). The header works from 6.4 on, and 7.2 dropped the
  body field, so the placement is chosen from the reported version.
- A rejected, expired or missing credential is error code -32602 with data "Not authorized."
  (or "Session terminated, re-login, please." / "API token expired.").
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import urlsplit

MAX_URL_CHARS = 2048
# Bounds on what the modules read back: a count or a version is a few dozen bytes; a host
# listing of MAX_LISTED_HOSTS hosts with three interface fields each stays well below 4 MiB.
MAX_SMALL_RESPONSE_BYTES = 64 * 1024
MAX_LISTING_RESPONSE_BYTES = 4 * 1024 * 1024
MAX_LISTED_HOSTS = 20000
MIN_TIMEOUT_SECONDS = 1
MAX_TIMEOUT_SECONDS = 60

BODY_AUTH = "body_auth"
BEARER_HEADER = "bearer_header"
# API tokens exist from Zabbix 5.4; the Bearer header is accepted from 6.4.
FIRST_TOKEN_VERSION = (5, 4)
FIRST_BEARER_VERSION = (6, 4)

# Transport failures the HTTP client reports (nothing usable came back).
CONNECTION_FAILED = "connection_failed"
TIMEOUT = "timeout"
TLS_VERIFICATION_FAILED = "tls_verification_failed"
TLS_ERROR = "tls_error"
HTTP_PROTOCOL_ERROR = "http_protocol_error"
TRANSPORT_ERROR = "transport_error"
TRANSPORT_FAILURES = (CONNECTION_FAILED, TIMEOUT, TLS_VERIFICATION_FAILED, TLS_ERROR,
                      HTTP_PROTOCOL_ERROR, TRANSPORT_ERROR)

# Something answered, but not with a usable JSON-RPC result.
HTTP_ERROR_STATUS = "http_error_status"
RESPONSE_TOO_LARGE = "response_too_large"
RESPONSE_NOT_JSON = "response_not_json"
RESPONSE_NOT_JSONRPC = "response_not_jsonrpc"
AUTHENTICATION_REJECTED = "authentication_rejected"
API_ERROR = "api_error"
RESULT_UNPARSED = "result_unparsed"
API_VERSION_UNRECOGNIZED = "api_version_unrecognized"
API_VERSION_UNSUPPORTED = "api_version_unsupported"
HOST_LIMIT_EXCEEDED = "host_limit_exceeded"

_AUTH_REJECTION_MARKERS = ("not authorized", "session terminated", "api token expired", "re-login")
_VERSION = re.compile(r"([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,4})(?:(?:alpha|beta|rc)[0-9]{1,3})?\Z")
_DNS_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = re.compile(r"(?=.{1,253}\Z)%s(?:\.%s)*\.?\Z" % (_DNS_LABEL, _DNS_LABEL))
_API_PATH = re.compile(r"(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,127}){0,8}/api_jsonrpc\.php\Z")


class ZabbixOptionError(ValueError):
    """A module option is not acceptable; the message names the option and never its value."""


@dataclass(frozen=True)
class Endpoint:
    """A checked Zabbix API URL."""

    url: str
    scheme: str
    host: str
    port: int


@dataclass(frozen=True)
class Exchange:
    """One HTTP round trip as the client saw it.

    ``failure`` names a transport failure (one of TRANSPORT_FAILURES) when no HTTP response
    arrived; otherwise ``http_status`` and the first bytes of ``body`` are set, and
    ``truncated`` says the body was longer than the client's limit.
    """

    failure: Optional[str] = None
    http_status: Optional[int] = None
    body: bytes = b""
    truncated: bool = False


@dataclass(frozen=True)
class RpcOutcome:
    """A classified JSON-RPC answer: ``result`` when ``failure`` is None."""

    failure: Optional[str]
    result: Any = None
    http_status: Optional[int] = None
    error_code: Optional[int] = None

    @property
    def answered(self) -> bool:
        """Whether an HTTP response came back at all (the endpoint was reachable)."""
        return self.http_status is not None


def parse_endpoint(url: object, ca_file: object) -> Endpoint:
    """Check the ``api_url`` / ``ca_file`` pair; raise ``ZabbixOptionError`` when unusable.

    Accepted: ``http://`` or ``https://``, a DNS name or IP literal, an optional port, and a
    path ending in ``/api_jsonrpc.php``; no user info, query or fragment. ``https`` needs an
    absolute ``ca_file`` (the only trust anchor used); ``http`` takes none, because there is
    no TLS to pin.
    """
    if not isinstance(url, str) or not url or len(url) > MAX_URL_CHARS:
        raise ZabbixOptionError("api_url must be a URL of at most %d characters" % MAX_URL_CHARS)
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ZabbixOptionError("api_url must not contain whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ZabbixOptionError("api_url is not a valid URL (bad host or port)")
    if parts.scheme not in ("http", "https") or not url.startswith(parts.scheme + "://"):
        raise ZabbixOptionError("api_url must start with http:// or https://")
    if "@" in parts.netloc:
        raise ZabbixOptionError("api_url must not carry user information")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ZabbixOptionError("api_url must not have a query or fragment")
    host = _check_host(parts.hostname, parts.netloc)
    if port == 0:
        raise ZabbixOptionError("api_url port must be between 1 and 65535")
    if not _API_PATH.match(parts.path) or "/../" in parts.path + "/" or "/./" in parts.path + "/":
        raise ZabbixOptionError(
            "api_url path must end with the file api_jsonrpc.php (segments of letters, digits, '.', '_', '~', '-')")
    if parts.scheme == "https":
        if not isinstance(ca_file, str) or not ca_file.startswith("/"):
            raise ZabbixOptionError("ca_file (an absolute path) is required for an https api_url")
    elif ca_file is not None:
        raise ZabbixOptionError("ca_file is only used with an https api_url")
    default_port = 443 if parts.scheme == "https" else 80
    return Endpoint(url=url, scheme=parts.scheme, host=host, port=port or default_port)


def _check_host(hostname: Optional[str], netloc: str) -> str:
    if not hostname:
        raise ZabbixOptionError("api_url has no host")
    if netloc.startswith("["):
        if "%" in hostname:
            raise ZabbixOptionError("api_url host is not a valid IPv6 address (no zone index)")
        try:
            return str(ipaddress.IPv6Address(hostname))
        except ValueError:
            raise ZabbixOptionError("api_url host is not a valid IPv6 address")
    try:
        return str(ipaddress.IPv4Address(hostname))
    except ValueError:
        pass
    if re.match(r"[0-9.]+\Z", hostname) or not _DNS_NAME.match(hostname):
        raise ZabbixOptionError("api_url host must be a DNS name or an IP address")
    return hostname.lower()


DEFAULT_TIMEOUT_SECONDS = 10
SETTINGS_KEYS = ("api_url", "ca_file", "timeout_seconds")


def api_settings(settings: Mapping[str, Any]) -> Dict[str, Any]:
    """A target's checked Zabbix settings (``api_url``, ``ca_file`` for https,
    ``timeout_seconds``) as the Tecrax backend passes them to the modules; messages start
    with the offending key."""
    unknown = sorted(str(key) for key in settings if key not in SETTINGS_KEYS)
    if unknown:
        raise ZabbixOptionError("%s is not a known key (known: %s)" % (unknown[0], ", ".join(SETTINGS_KEYS)))
    endpoint = parse_endpoint(settings.get("api_url"), settings.get("ca_file"))
    checked: Dict[str, Any] = {
        "api_url": endpoint.url,
        "timeout_seconds": check_timeout(settings.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)),
    }
    if settings.get("ca_file") is not None:
        checked["ca_file"] = settings["ca_file"]
    return checked


def check_timeout(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (
            MIN_TIMEOUT_SECONDS <= value <= MAX_TIMEOUT_SECONDS):
        raise ZabbixOptionError("timeout_seconds must be an integer from %d to %d"
                                % (MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS))
    return value


def request_body(method: str, params: Any, request_id: int, body_credential: Optional[str] = None) -> bytes:
    """The JSON-RPC 2.0 request; ``body_credential`` goes into ``auth`` (Zabbix < 6.4 only)."""
    body: dict = {"jsonrpc": "2.0", "method": method, "params": params, "id": request_id}
    if body_credential is not None:
        body["auth"] = body_credential
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def parse_version(value: object) -> Optional[Tuple[int, int, int]]:
    """``"6.0.14"`` -> ``(6, 0, 14)``; anything else (also pre-release suffixes kept) -> None."""
    if not isinstance(value, str):
        return None
    match = _VERSION.match(value)
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def auth_method_for(version: Tuple[int, int, int]) -> Optional[str]:
    """Where this Zabbix version takes an API token; None before tokens existed (5.4)."""
    if version[:2] >= FIRST_BEARER_VERSION:
        return BEARER_HEADER
    if version[:2] >= FIRST_TOKEN_VERSION:
        return BODY_AUTH
    return None


def classify(exchange: Exchange, request_id: int) -> RpcOutcome:
    """Turn one exchange into a result or a named failure. Total: any input gives an outcome."""
    if exchange.failure is not None or exchange.http_status is None:
        failure = exchange.failure if exchange.failure in TRANSPORT_FAILURES else TRANSPORT_ERROR
        return RpcOutcome(failure)
    status = exchange.http_status
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 999:
        return RpcOutcome(HTTP_PROTOCOL_ERROR)  # no real HTTP status line came back
    if status != 200:
        return RpcOutcome(HTTP_ERROR_STATUS, http_status=status)
    if exchange.truncated:
        return RpcOutcome(RESPONSE_TOO_LARGE, http_status=status)
    try:
        document = json.loads(exchange.body.decode("utf-8"))
    except (ValueError, RecursionError):
        return RpcOutcome(RESPONSE_NOT_JSON, http_status=status)
    if not isinstance(document, dict) or document.get("jsonrpc") != "2.0" or document.get("id") != request_id:
        return RpcOutcome(RESPONSE_NOT_JSONRPC, http_status=status)
    has_result, has_error = "result" in document, "error" in document
    if has_result == has_error:
        return RpcOutcome(RESPONSE_NOT_JSONRPC, http_status=status)
    if has_result:
        return RpcOutcome(None, result=document["result"], http_status=status)
    error = document["error"]
    if not isinstance(error, dict):
        return RpcOutcome(RESPONSE_NOT_JSONRPC, http_status=status)
    code = error.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) and -2 ** 31 <= code < 2 ** 31 else None
    text = " ".join(str(error.get(key))[:512] for key in ("message", "data") if isinstance(error.get(key), str))
    if any(marker in text.casefold() for marker in _AUTH_REJECTION_MARKERS):
        return RpcOutcome(AUTHENTICATION_REJECTED, http_status=status, error_code=code)
    return RpcOutcome(API_ERROR, http_status=status, error_code=code)


def count_result(result: Any) -> Optional[int]:
    """A ``countOutput`` result (Zabbix sends a decimal string); None when it is not one."""
    if isinstance(result, bool):
        return None
    if isinstance(result, int):
        return result if 0 <= result < 2 ** 53 else None
    if isinstance(result, str) and result.isascii() and result.isdigit() and len(result) <= 15:
        return int(result)
    return None


AgentTally = Mapping[str, int]
AGENT_STATES = ("available", "unavailable", "unknown", "without_agent_interface")
_AVAILABILITY = {"0": "unknown", "1": "available", "2": "unavailable"}
_AGENT_INTERFACE_TYPE = "1"


def agent_availability(result: Any) -> Union[dict, str]:
    """Tally hosts by the availability of their main agent interface.

    ``result`` is the answer to ``host.get`` with ``selectInterfaces: [type, main,
    available]``. Returns the tally, or a failure name when the listing is not in that shape
    (nothing is guessed) or longer than MAX_LISTED_HOSTS.
    """
    if not isinstance(result, list):
        return RESULT_UNPARSED
    if len(result) > MAX_LISTED_HOSTS:
        return HOST_LIMIT_EXCEEDED
    tally = dict.fromkeys(AGENT_STATES, 0)
    for host in result:
        state = _host_agent_state(host)
        if state is None:
            return RESULT_UNPARSED
        tally[state] += 1
    return tally


def _host_agent_state(host: Any) -> Optional[str]:
    if not isinstance(host, dict) or not isinstance(host.get("interfaces"), list):
        return None
    agent_interfaces = 0
    main_agent = None
    for interface in host["interfaces"]:
        if not isinstance(interface, dict):
            return None
        kind, main, available = (interface.get(key) for key in ("type", "main", "available"))
        if not all(isinstance(value, str) for value in (kind, main, available)):
            return None
        if kind != _AGENT_INTERFACE_TYPE:
            continue
        agent_interfaces += 1
        if main == "1":
            if main_agent is not None:
                return None  # two main agent interfaces: not a shape Zabbix produces
            main_agent = available
    if agent_interfaces == 0:
        return "without_agent_interface"
    if main_agent is None:
        return None  # agent interfaces without a main one: not a shape Zabbix produces
    return _AVAILABILITY.get(main_agent)


def failure_reasons(failures: Sequence[Optional[str]]) -> list:
    """Unique failure names in first-seen order."""
    seen: list = []
    for failure in failures:
        if failure is not None and failure not in seen:
            seen.append(failure)
    return seen
