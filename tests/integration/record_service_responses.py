"""Record real DNS replies and HTTP responses of the AdGuard/Portainer stand-ins as unit-test data.

    python tests/integration/record_service_responses.py [--out DIR]

Boots the stand-in host of service_lab.py (unbound and nginx from Debian bookworm), sends the
exact DNS query the tecrax.ops.adguard_health module sends for each case and the exact GET
requests the modules send, and writes what came back byte for byte:

- ``dns_replies.json``: per case the query name, the query id used and the reply in hex;
- ``http_responses.json``: per case the request path and the raw HTTP response (status line,
  headers, body) as read from the socket, as text (latin-1, so byte for byte); the case
  ``tls_hello_to_plain_port`` is what the plain HTTP port answers to a TLS ClientHello.

The unit tests replay these against the normalizers and the real HTTP client. Nothing secret
is involved: the lab's test CA lives only for the run.
"""

from __future__ import annotations

import argparse
import json
import socket
import ssl
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(HERE.parent), str(HERE)]

from lab import Lab  # noqa: E402
import service_lab as sl  # noqa: E402

DEFAULT_OUT = HERE.parent / "unit" / "data" / "adguard_portainer"
DNS_CASES = {
    "addresses": sl.PROBE_NAME,
    "cname_without_address": sl.ALIAS_NAME,
    "nxdomain": sl.MISSING_NAME,
    "refused": sl.REFUSED_NAME,
    "servfail": sl.SERVFAIL_NAME,
}
# case -> (port, tls, path); the paths are the ones the modules request.
HTTP_CASES = {
    "login_200": (sl.WEB_PORT, False, "/login.html"),
    "login_302": (sl.WEB_PORT, False, "/noauth/login.html"),
    "login_500": (sl.WEB_PORT, False, "/broken/login.html"),
    "login_404": (sl.WEB_PORT, False, "/elsewhere/login.html"),
    "portainer_status": (sl.PORTAINER_PORT, True, "/api/status"),
    "portainer_not_json": (sl.PORTAINER_PORT, True, "/not-portainer/api/status"),
    "portainer_503": (sl.PORTAINER_PORT, True, "/failing/api/status"),
    "http_to_tls_port": (sl.PORTAINER_PORT, False, "/api/status"),
}
USER_AGENT = "tecrax.ops-readonly"


def _collection_imports() -> None:
    link_root = Path(tempfile.mkdtemp(prefix="tecrax-collection-"))
    (link_root / "ansible_collections" / "tecrax").mkdir(parents=True)
    (link_root / "ansible_collections" / "tecrax" / "ops").symlink_to(REPO, target_is_directory=True)
    sys.path.insert(0, str(link_root))


def record_dns(address: str) -> dict:
    from ansible_collections.tecrax.ops.plugins.module_utils.services import dns_wire, service_probes

    recorded = {}
    for case, name in DNS_CASES.items():
        txid = service_probes.new_query_id()
        exchange = service_probes.dns_exchange(address, 53, dns_wire.build_query(name, txid), txid, 5)
        if exchange.failure is not None:
            raise SystemExit(f"{case}: no DNS reply ({exchange.failure})")
        recorded[case] = {"query_name": name, "query_id": txid, "reply_hex": exchange.message.hex(),
                          "server": "unbound 1.17.1 (Debian bookworm), standing in for AdGuard Home"}
    return recorded


def record_http(address: str, port: int, tls: bool, path: str, ca_file: Path) -> bytes:
    request = (f"GET {path} HTTP/1.1\r\nHost: {address}:{port}\r\nAccept-Encoding: identity\r\n"
               f"User-Agent: {USER_AGENT}\r\nAccept: */*\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection((address, port), timeout=5) as raw:
        sock: socket.socket = raw
        if tls:
            context = ssl.create_default_context(cafile=str(ca_file))
            sock = context.wrap_socket(raw, server_hostname=address)
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def record_tls_hello_to_plain_port(address: str, port: int) -> bytes:
    """What a plain HTTP server answers to a TLS ClientHello (what tls_required is about)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = ssl.create_default_context().wrap_bio(incoming, outgoing, server_hostname=address)
    try:
        client.do_handshake()
    except ssl.SSLWantReadError:
        pass
    with socket.create_connection((address, port), timeout=5) as sock:
        sock.sendall(outgoing.read())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    _collection_imports()
    with tempfile.TemporaryDirectory(prefix="tecrax-pki-") as pki_dir, Lab() as lab:
        host, pki = sl.boot_services_host(lab, "standins", Path(pki_dir))
        replies = record_dns(host.address)
        (args.out / "dns_replies.json").write_text(json.dumps(replies, indent=1, sort_keys=True) + "\n")
        responses = {
            case: {"path": path, "tls": tls, "server": "nginx 1.22.1 (Debian bookworm), standing in",
                   "raw": record_http(host.address, port, tls, path, pki.ca_file).decode("latin-1")}
            for case, (port, tls, path) in HTTP_CASES.items()
        }
        responses["tls_hello_to_plain_port"] = {
            "path": None, "tls": False, "server": "nginx 1.22.1 (Debian bookworm), standing in",
            "raw": record_tls_hello_to_plain_port(host.address, sl.PORTAINER_PLAIN_PORT).decode("latin-1"),
        }
        (args.out / "http_responses.json").write_text(json.dumps(responses, indent=1, sort_keys=True) + "\n")
    print(f"recorded {len(replies)} DNS replies and {len(responses)} HTTP responses in {args.out}")


if __name__ == "__main__":
    main()
