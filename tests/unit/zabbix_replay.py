"""Replays the Zabbix 6.0.14 API responses recorded in tests/unit/data/zabbix/, as a ``call``
for zabbix_facts (Replay) or over HTTP from a local server (FakeZabbix, serve_zabbix).

The files were recorded from a real Zabbix 6.0.14 (Debian bookworm packages) in a lab host by
tests/integration/record_zabbix_responses.py: ``<name>.body`` is the response body byte for
byte, ``responses.json`` the request (credentials shown as placeholders) and HTTP status.
"""

from __future__ import annotations

import json
import secrets
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_api import Exchange

DATA = Path(__file__).resolve().parent / "data" / "zabbix"
INDEX: dict[str, Any] = json.loads((DATA / "responses.json").read_text(encoding="utf-8"))

# The recordings a healthy run of each module replays, keyed by (method, canonical params).
HEALTHY = (
    "apiinfo_version",
    *(f"problem_count_severity_{severity}" for severity in range(6)),
    "host_count_enabled",
    "host_count_disabled",
    "host_listing",
)


def body(name: str) -> bytes:
    return (DATA / f"{name}.body").read_bytes()


def recorded(name: str) -> Exchange:
    return Exchange(http_status=INDEX[name]["http_status"], body=body(name))


def request_key(method: str, params: Any) -> str:
    return method + " " + json.dumps(params, sort_keys=True)


@dataclass
class Replay:
    """A ``call`` for zabbix_facts that answers from recordings and logs every request.

    ``overrides`` maps a recording name (or the method name) to the Exchange to return instead,
    e.g. a transport failure or another recording.
    """

    overrides: dict[str, Exchange] = field(default_factory=dict)
    calls: list[tuple[str, Any, int, Any, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_request = {request_key(INDEX[name]["request"]["method"], INDEX[name]["request"]["params"]): name
                            for name in HEALTHY}

    def __call__(self, method: str, params: Any, request_id: int, auth_method: Any, max_bytes: int) -> Exchange:
        self.calls.append((method, params, request_id, auth_method, max_bytes))
        name = self._by_request.get(request_key(method, params))
        if name is None:
            raise AssertionError(f"no recording for {request_key(method, params)}")
        if INDEX[name]["request"]["id"] != request_id:
            raise AssertionError(f"{name} was recorded with id {INDEX[name]['request']['id']}, asked with {request_id}")
        for key in (name, method):
            if key in self.overrides:
                return self.overrides[key]
        return recorded(name)

    @property
    def methods(self) -> list[str]:
        return [call[0] for call in self.calls]


# --- a local server answering like the recorded Zabbix ---------------------------------------

TOKEN = secrets.token_hex(32)
RECORDED_ANSWERS = {request_key(INDEX[name]["request"]["method"], INDEX[name]["request"]["params"]): name
                    for name in HEALTHY}


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeZabbix:
    """Answers like the recorded Zabbix 6.0.14 (token only as body ``auth``, accepting only
    TOKEN), or per ``behaviour``: ``zabbix64`` is composed from the documented 6.4 rule (token
    only as a Bearer header); ``redirect`` and ``oversized`` misbehave, and ``hang`` takes the
    request and never answers until ``release`` is set."""

    behaviour: str = "zabbix60"
    seen: list[Seen] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def answer(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], bytes]:
        request = json.loads(raw)
        self.seen.append(Seen(path, headers, request))
        if self.behaviour == "redirect":
            return 302, {"Location": "/elsewhere/api_jsonrpc.php"}, b""
        if self.behaviour == "oversized":
            return 200, {}, b'{"jsonrpc":"2.0","result":"' + b"6" * 70000 + b'","id":1}'
        if self.behaviour == "hang":
            self.release.wait()
        method, bearer = request["method"], headers.get("authorization")
        if method == "apiinfo.version":
            if "auth" in request:
                return 200, {}, body("apiinfo_version_with_auth")
            version = "6.4.0" if self.behaviour == "zabbix64" else "6.0.14"
            return 200, {}, json.dumps({"jsonrpc": "2.0", "result": version, "id": request["id"]}).encode()
        if self.behaviour == "zabbix64":
            authorized = bearer == "Bearer " + TOKEN and "auth" not in request
        else:
            authorized = request.get("auth") == TOKEN
        if not authorized:
            return 200, {}, body("problem_count_wrong_token").replace(b'"id":2', b'"id":%d' % request["id"])
        return 200, {}, body(RECORDED_ANSWERS[request_key(method, request["params"])])


@dataclass
class Server:
    url: str
    zabbix: FakeZabbix
    httpd: ThreadingHTTPServer


def serve_zabbix(zabbix: FakeZabbix, context: ssl.SSLContext | None = None) -> Server:
    """Serve ``zabbix`` on 127.0.0.1 (HTTPS with ``context``) until ``httpd.shutdown()``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            headers = {key.lower(): value for key, value in self.headers.items()}
            try:
                status, extra, answer = zabbix.answer(self.path, headers, raw)
            except (BrokenPipeError, ConnectionResetError):
                return
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            try:
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    scheme = "https" if context is not None else "http"
    return Server(f"{scheme}://127.0.0.1:{server.server_address[1]}/zabbix/api_jsonrpc.php", zabbix, server)
