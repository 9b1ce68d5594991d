"""Replay of the recorded AdGuard/Portainer stand-in answers, for the unit tests.

The recordings (tests/unit/data/adguard_portainer/, made by
tests/integration/record_service_responses.py) come from unbound and nginx on a lab host
standing in for AdGuard Home and Portainer. Here they are served again from 127.0.0.1:

- ``DnsReplayServer``: a UDP server that answers each query with a recorded reply, its id
  replaced by the query's (as a resolver would), or misbehaves as told.
- ``HttpReplayServer``: a TCP server (optionally TLS) that reads one request and writes a
  recorded raw HTTP response byte for byte, then closes.
- ``exchange_from_raw``: a recorded response parsed by the standard library's own HTTP
  response parser into the ``HttpExchange`` the normalizers take.
"""

from __future__ import annotations

import http.client
import io
import json
import socket
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ansible_collections.tecrax.ops.plugins.module_utils.services.service_probes import HttpExchange

DATA = Path(__file__).resolve().parent / "data" / "adguard_portainer"
DNS_REPLIES: dict[str, dict[str, Any]] = json.loads((DATA / "dns_replies.json").read_text())
HTTP_RESPONSES: dict[str, dict[str, Any]] = json.loads((DATA / "http_responses.json").read_text())


def dns_reply(case: str) -> bytes:
    return bytes.fromhex(DNS_REPLIES[case]["reply_hex"])


def http_response(case: str) -> bytes:
    return HTTP_RESPONSES[case]["raw"].encode("latin-1")


class _RawSocket:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def makefile(self, *_args: Any, **_kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(io.BytesIO(self._data))  # type: ignore[arg-type]


def exchange_from_raw(raw: bytes, tls_verified: bool = False, max_bytes: int = 65536) -> HttpExchange:
    response = http.client.HTTPResponse(_RawSocket(raw))  # type: ignore[arg-type]
    response.begin()
    body = response.read()
    return HttpExchange(status=response.status, body=body[:max_bytes], truncated=len(body) > max_bytes,
                        tls_verified=tls_verified)


class _LocalServer:
    """A socket on 127.0.0.1 served by a thread that calls ``_serve_one`` until close()."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _start(self) -> None:
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                self._serve_one()
            except socket.timeout:
                continue
            except OSError:
                return

    def _serve_one(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()


class DnsReplayServer(_LocalServer):
    """Answers on 127.0.0.1 with ``reply(query) -> list of datagrams`` (empty: stay silent)."""

    def __init__(self, reply: Callable[[bytes], list[bytes]]) -> None:
        super().__init__(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        self._reply = reply
        self.queries: list[bytes] = []
        self._start()

    def _serve_one(self) -> None:
        query, peer = self._sock.recvfrom(4096)
        self.queries.append(query)
        for datagram in self._reply(query):
            self._sock.sendto(datagram, peer)


def recorded_dns(case: str) -> Callable[[bytes], list[bytes]]:
    """Answer every query with the recorded reply of ``case``, under the query's id."""
    reply = dns_reply(case)
    return lambda query: [query[:2] + reply[2:]]


class HttpReplayServer(_LocalServer):
    """Serves ``raw`` to every connection on 127.0.0.1 (over TLS when ``context`` is given)."""

    def __init__(self, raw: bytes, context: ssl.SSLContext | None = None, *, hold_body: bool = False,
                 whole_request: bool = True) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        super().__init__(listener)
        self._raw = raw
        self._context = context
        # True: send the head, then hold the body back until close(): a server that hangs.
        self._hold_body = hold_body
        # False: answer after the first bytes, as nginx answers a TLS ClientHello on a plain port.
        self._whole_request = whole_request
        self.requests: list[bytes] = []
        self._sock.listen(8)
        self._start()

    def _serve_one(self) -> None:
        connection, _peer = self._sock.accept()
        threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        try:
            connection.settimeout(5)
            if self._context is not None:
                connection = self._context.wrap_socket(connection, server_side=True)
            request = b""
            while not request or (self._whole_request and b"\r\n\r\n" not in request):
                chunk = connection.recv(4096)
                if not chunk:
                    return
                request += chunk
            self.requests.append(request)
            head, _separator, body = self._raw.partition(b"\r\n\r\n")
            connection.sendall(head + b"\r\n\r\n")
            if self._hold_body:
                self._stop.wait()
            connection.sendall(body)
        except (OSError, ssl.SSLError):
            pass  # the client gave up (e.g. certificate refused): nothing to answer
        finally:
            connection.close()


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
