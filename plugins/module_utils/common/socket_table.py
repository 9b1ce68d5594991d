# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Parse the kernel's UDP socket tables, ``/proc/net/udp`` and ``/proc/net/udp6``.

Each table has a header line (``sl local_address rem_address st ...``) and one line per
socket: ``<slot>: <address>:<PORT> <address>:<PORT> <state> ... <inode> ...`` with
addresses and ports in hexadecimal. A socket whose remote address and port are all zeros
is unconnected: bound to its local port and ready to receive from anyone.

Pure standard library, no AnsibleModule: importable on the target and on the controller.
"""

from __future__ import annotations

import re
from typing import List, NamedTuple, Optional

UDP_TABLES = ("/proc/net/udp", "/proc/net/udp6")
MAX_LINE_CHARS = 4096
_HEX_PORT = re.compile(r"[0-9A-Fa-f]{4}\Z")
_INODE_FIELD = 9


class Socket(NamedTuple):
    local_port: int
    connected: bool
    inode: Optional[str]


class SocketTable(NamedTuple):
    has_header: bool
    sockets: List[Socket]


def local_port(address: str) -> Optional[int]:
    """The port of an ``<address>:<PORT>`` field, ``None`` when it is not one."""
    _host, sep, port = address.rpartition(":")
    return int(port, 16) if sep and _HEX_PORT.match(port) else None


def parse_socket_table(text: str) -> SocketTable:
    """The sockets of one or more concatenated tables; malformed and over-long lines are
    skipped, as are sockets whose inode field is missing (``inode`` is then ``None``)."""
    has_header = False
    sockets = []
    for line in text.splitlines():
        words = line.split()
        if len(line) > MAX_LINE_CHARS or len(words) < 4:
            continue
        if words[0] == "sl":
            has_header = True
            continue
        port = local_port(words[1])
        if port is None:
            continue
        inode = words[_INODE_FIELD] if len(words) > _INODE_FIELD and words[_INODE_FIELD].isdigit() else None
        sockets.append(Socket(port, not set(words[2].replace(":", "")) <= {"0"}, inode))
    return SocketTable(has_header, sockets)


def has_listener(text: str, port: int) -> Optional[bool]:
    """Whether an unconnected socket is bound to ``port``; ``None`` without a table header."""
    table = parse_socket_table(text)
    if any(socket.local_port == port and not socket.connected for socket in table.sockets):
        return True
    return False if table.has_header else None


def listener_inodes(text: str, port: int) -> List[str]:
    """Inodes of the sockets bound to local ``port``, connected or not."""
    return [socket.inode for socket in parse_socket_table(text).sockets
            if socket.local_port == port and socket.inode is not None]
