# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""DNS messages as the AdGuard Home check speaks them: one query, one bounded reply parser.

Pure standard library and no I/O (RFC 1035 section 4). ``build_query`` makes a recursive
query for the ``A`` records of one name; ``parse_reply`` reads a reply to it and is total:
any bytes give a ``DnsReply``, never an exception. It checks the header (id, QR, opcode),
that the question is the one asked, and counts the ``A`` records (class IN) of the name, or of
a name it is a CNAME for, in the answer section. Names may use compression pointers; a
pointer must point backwards and the number of jumps is bounded, so a hostile message cannot
make the parser loop. The authority and additional sections are not read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import List, Optional, Set, Tuple

TYPE_A = 1
TYPE_CNAME = 5
CLASS_IN = 1
RCODE_NOERROR = 0
RCODE_NAMES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}

HEADER = struct.Struct("!HHHHHH")
_RR_FIXED = struct.Struct("!HHIH")
_FLAG_QR = 0x8000
_OPCODE_MASK = 0x7800
_FLAG_TC = 0x0200
_FLAG_RD = 0x0100
_FLAG_RA = 0x0080
_RCODE_MASK = 0x000F

MAX_MESSAGE_BYTES = 65535
MAX_NAME_BYTES = 255
MAX_POINTER_JUMPS = 32
MAX_ANSWER_RECORDS = 512

# A name as lower-cased labels: compared label by label, so a label holding a dot stays apart.
Name = Tuple[bytes, ...]


class _Malformed(Exception):
    """Raised inside the parser only; parse_reply turns it into a malformed reply."""


@dataclass(frozen=True)
class DnsReply:
    """What a reply says about the question. ``malformed`` replies carry nothing else."""

    malformed: bool
    rcode: Optional[int] = None
    truncated: bool = False
    recursion_available: bool = False
    address_records: int = 0

    @property
    def rcode_name(self) -> Optional[str]:
        if self.rcode is None:
            return None
        return RCODE_NAMES.get(self.rcode, "other")


MALFORMED = DnsReply(malformed=True)


def encode_name(name: str) -> bytes:
    """Wire form of a checked name (see service_endpoints.normalize_query_name)."""
    encoded = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        if not 1 <= len(raw) <= 63:
            raise ValueError("a DNS label has 1 to 63 characters")
        encoded += bytes((len(raw),)) + raw
    encoded += b"\x00"
    if len(encoded) > MAX_NAME_BYTES:
        raise ValueError("a DNS name has at most 255 bytes")
    return encoded


def build_query(name: str, txid: int) -> bytes:
    """A standard query (recursion desired) for the A records of ``name``."""
    if not 0 <= txid <= 0xFFFF:
        raise ValueError("the query id is 16 bits")
    return HEADER.pack(txid, _FLAG_RD, 1, 0, 0, 0) + encode_name(name) + struct.pack("!HH", TYPE_A, CLASS_IN)


def reply_id(message: bytes) -> Optional[int]:
    """The id of a message that looks like a reply (QR set), else None; for discarding
    stray datagrams before parsing."""
    if len(message) < HEADER.size:
        return None
    txid, flags = struct.unpack_from("!HH", message)
    return txid if flags & _FLAG_QR else None


def parse_reply(message: bytes, txid: int, name: str) -> DnsReply:
    """Read ``message`` as the reply to ``build_query(name, txid)``."""
    if not isinstance(message, (bytes, bytearray)) or len(message) > MAX_MESSAGE_BYTES:
        return MALFORMED
    try:
        return _parse(bytes(message), txid, _name_key(name))
    except _Malformed:
        return MALFORMED


def _name_key(name: str) -> Name:
    return tuple(name.rstrip(".").encode("ascii", "replace").lower().split(b"."))


def _parse(message: bytes, txid: int, asked: Name) -> DnsReply:
    if len(message) < HEADER.size:
        raise _Malformed()
    ident, flags, qdcount, ancount, _nscount, _arcount = HEADER.unpack_from(message)
    if ident != txid or not flags & _FLAG_QR or flags & _OPCODE_MASK:
        raise _Malformed()
    rcode = flags & _RCODE_MASK
    offset = HEADER.size
    if qdcount == 1:
        owner, offset = _read_name(message, offset)
        if offset + 4 > len(message):
            raise _Malformed()
        qtype, qclass = struct.unpack_from("!HH", message, offset)
        offset += 4
        if owner != asked or qtype != TYPE_A or qclass != CLASS_IN:
            raise _Malformed()
    elif qdcount != 0 or rcode == RCODE_NOERROR:
        # Only an error reply may leave the question out (some servers do for FORMERR).
        raise _Malformed()
    truncated = bool(flags & _FLAG_TC)
    recursion_available = bool(flags & _FLAG_RA)
    if rcode != RCODE_NOERROR:
        return DnsReply(False, rcode, truncated, recursion_available, 0)
    if ancount > MAX_ANSWER_RECORDS:
        raise _Malformed()
    addresses, aliases = _read_answers(message, offset, ancount)
    names = _alias_closure(asked, aliases)
    count = sum(1 for owner in addresses if owner in names)
    return DnsReply(False, rcode, truncated, recursion_available, count)


def _read_answers(message: bytes, offset: int, count: int) -> Tuple[List[Name], List[Tuple[Name, Name]]]:
    """Owners of the A/IN records and (owner, target) of the CNAME/IN records."""
    addresses: List[Name] = []
    aliases: List[Tuple[Name, Name]] = []
    for _record in range(count):
        owner, offset = _read_name(message, offset)
        if offset + _RR_FIXED.size > len(message):
            raise _Malformed()
        rtype, rclass, _ttl, rdlength = _RR_FIXED.unpack_from(message, offset)
        offset += _RR_FIXED.size
        end = offset + rdlength
        if end > len(message):
            raise _Malformed()
        if rclass == CLASS_IN and rtype == TYPE_A:
            if rdlength != 4:
                raise _Malformed()
            addresses.append(owner)
        elif rclass == CLASS_IN and rtype == TYPE_CNAME:
            target, target_end = _read_name(message, offset)
            if target_end != end:
                raise _Malformed()
            aliases.append((owner, target))
        offset = end
    return addresses, aliases


def _alias_closure(asked: Name, aliases: List[Tuple[Name, Name]]) -> Set[Name]:
    """The asked name and every name a CNAME chain from it leads to (in any order)."""
    names = {asked}
    changed = True
    while changed:
        changed = False
        for owner, target in aliases:
            if owner in names and target not in names:
                names.add(target)
                changed = True
    return names


def _read_name(message: bytes, offset: int) -> Tuple[Name, int]:
    """The lower-cased labels of the name at ``offset`` and the offset after it."""
    labels: List[bytes] = []
    total = 0
    jumps = 0
    resume: Optional[int] = None
    position = offset
    while True:
        if position >= len(message):
            raise _Malformed()
        size = message[position]
        if size & 0xC0 == 0xC0:
            if position + 1 >= len(message):
                raise _Malformed()
            pointer = ((size & 0x3F) << 8) | message[position + 1]
            # Backwards only, and a bounded number of times: no loops.
            if pointer >= position or jumps >= MAX_POINTER_JUMPS:
                raise _Malformed()
            if resume is None:
                resume = position + 2
            jumps += 1
            position = pointer
            continue
        if size & 0xC0:
            raise _Malformed()  # extended label types (RFC 6891 deprecated them)
        if size == 0:
            break
        label = message[position + 1:position + 1 + size]
        total += size + 1
        if len(label) < size or total + 1 > MAX_NAME_BYTES:
            raise _Malformed()
        labels.append(label.lower())
        position += 1 + size
    return tuple(labels), (resume if resume is not None else position + 1)
