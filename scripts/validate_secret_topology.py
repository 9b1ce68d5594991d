#!/usr/bin/env python3
"""Fail when repository files reveal private topology, secrets or machine-local paths.

Scanned files: what git would commit, i.e. ``git ls-files --cached --others
--exclude-standard`` (tracked files plus untracked files that are not ignored); outside a
git work tree, every file under the root except tool output (.git, .venv, caches,
tests/output, build, dist). Binary files (a NUL byte in the first 8 KiB) are skipped.

Findings, one per offending line and kind:

* private IPv4 addresses: RFC 1918 (10/8, 172.16/12, 192.168/16) and CGNAT (100.64/10).
  Documentation and benchmark ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
  198.18.0.0/15), loopback and public addresses are fine, and so are host names such as
  ``*.invalid`` or ``*.example`` (no host name is checked).
* MAC addresses (six hex pairs joined by colons or dashes, or three hex quads joined by
  dots), except the documentation block 00:00:5e:00:53:00-ff (RFC 7042) and the all-zero
  and broadcast addresses, which name no device (``ip link`` prints them for loopback).
* private key headers (``-----BEGIN ... PRIVATE KEY-----``).
* secret assignments: a key that ends in password, passwd, passphrase, secret, token,
  api_key, access_key or secret_key, assigned a literal: a YAML or INI key, a shell or
  Python assignment, a JSON or dict member, a keyword argument. Allowed: references
  (``*_secret_ref`` and other keys not ending in one of those words), empty values, null
  and booleans, ``<placeholder>``, masks (``***``, ``xxxx``), ``[REDACTED]``, environment
  references (``$VAR``, ``${VAR}``), Jinja templates and ``!vault`` values, structures
  (``{...}``, ``[...]``). In Python only quoted values count as literals, and in prose
  (Markdown, reST) only code counts: fenced blocks and inline code spans.
* home directory paths (``/home/<user>``, ``/Users/<user>``, root's home directory) and
  paths local to the machine this project is developed on.

Allowed:

* anything under ``examples/`` (sanitized examples, tested elsewhere), except private keys;
* a line carrying the marker ``# secret-topology: allow <reason>`` (the reason is required;
  in Markdown put it in an HTML comment);
* under ``tests/``, a private *network* in CIDR notation: an address whose host bits are
  all zero, followed by its prefix length (say, a /24 cut out of 10/8 or 192.168/16). The
  chrony mutation tests need such subnets as inputs to the allowed-subnet validation, and
  a network names no host. Host addresses, with or without a prefix length, still need
  the marker, in tests too.

Usage: validate_secret_topology.py [--root DIR]
Prints ``path:line: reason`` per finding and exits 1 when there is any, 0 otherwise.
"""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from repository_finding import Finding, report_findings, root_arguments

_PRIVATE_CIDRS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")  # secret-topology: allow the ranges checked
PRIVATE_NETWORKS = tuple(ipaddress.IPv4Network(cidr) for cidr in _PRIVATE_CIDRS)
ALLOWED_MACS = frozenset({"000000000000", "ffffffffffff"})
DOCUMENTATION_MAC_PREFIX = "00005e0053"

MARKER = re.compile(r"#\s*secret-topology:\s*allow\s+\S")
IPV4 = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(/\d{1,2})?(?!\.?\w)")
MAC = re.compile(
    r"(?<![\w:.-])(?:[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}"
    r"|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?![\w:.-])"
)
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
HOME_PATH = re.compile(r"(?<![\w.~/-])(?:/home/[A-Za-z0-9._-]+|/Users/[A-Za-z0-9._-]+|/root/)")  # secret-topology: allow the pattern itself
MACHINE_PATH = re.compile(r"(?<![\w.~/-])(?:/work/|/tmp/setup\b)")  # secret-topology: allow the pattern itself

_SECRET_KEY = r"[A-Za-z0-9_.-]*?(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|secret[_-]?key)"
# A key at the start of a line: YAML, INI, env files, shell and Python assignments.
LINE_ASSIGNMENT = re.compile(
    rf"^\s*(?:-\s+)?(?:export\s+)?(?P<q>[\"']?)(?P<key>{_SECRET_KEY})(?P=q)\s*(?P<sep>:|=(?!=))(?P<value>.*)$",
    re.IGNORECASE,
)
# A key inside a line: JSON or dict entries ("key": value) and keyword arguments (f(key=value)).
INLINE_ASSIGNMENT = re.compile(
    rf"(?:(?P<q>[\"'])(?P<key>{_SECRET_KEY})(?P=q)\s*:|[(,]\s*(?P<kwkey>{_SECRET_KEY})\s*=(?!=))(?=(?P<value>.*)$)",
    re.IGNORECASE,
)
NOT_SECRET_VALUES = frozenset({"", "~", "null", "none", "nil", "true", "false", "yes", "no", "redacted", "[redacted]"})
MASK = re.compile(r"[*xX.\-]+")
PROSE_SUFFIXES = frozenset({".md", ".rst"})
CODE_SPAN = re.compile(r"`([^`]+)`")
FENCE = re.compile(r"^\s*(```|~~~)")

SKIPPED_DIRS = frozenset({".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache", ".tox", "build", "dist"})


def repository_files(root: Path) -> list[str]:
    """Relative paths of the files to scan (see the module docstring)."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return sorted(_walk(root))
    return sorted(path for path in os.fsdecode(listed).split("\0") if path and (root / path).is_file())


def _walk(root: Path) -> Iterator[str]:
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info")]
        relative = Path(directory).relative_to(root)
        if relative.as_posix() == "tests/output":
            subdirs[:] = []
            continue
        for name in files:
            yield (relative / name).as_posix()


def read_text(path: Path) -> str | None:
    """The file's text, or None for a binary file."""
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def _private_ipv4(line: str, in_tests: bool) -> Iterator[str]:
    for match in IPV4.finditer(line):
        try:
            address = ipaddress.IPv4Address(match.group(1))
        except ipaddress.AddressValueError:
            continue
        if not any(address in network for network in PRIVATE_NETWORKS):
            continue
        if in_tests and match.group(2) and _is_network(match.group(1) + match.group(2)):
            continue
        yield f"private IPv4 address {match.group(0)}"


def _is_network(cidr: str) -> bool:
    try:
        ipaddress.IPv4Network(cidr, strict=True)
    except ValueError:
        return False
    return True


def _mac_addresses(line: str) -> Iterator[str]:
    for match in MAC.finditer(line):
        digits = re.sub(r"[^0-9a-f]", "", match.group(0).lower())
        if digits in ALLOWED_MACS or digits.startswith(DOCUMENTATION_MAC_PREFIX):
            continue
        yield f"MAC address {match.group(0)}"


def _is_literal_secret(value: str, python: bool) -> bool:
    value = value.strip()
    if value[:1] in ("'", '"'):
        quote = value[0]
        end = value.find(quote, 1)
        text = value[1:end] if end > 0 else value[1:]
    elif python:
        return False  # a name, call or expression, not a literal
    else:
        text = re.split(r"\s+#|[\s,;}\])]", value, maxsplit=1)[0]
    text = text.strip()
    if text.lower() in NOT_SECRET_VALUES or MASK.fullmatch(text):
        return False
    if text.startswith(("<", "$", "{", "[", "!vault", "%(")) or "{{" in text:
        return False
    return True


def _secret_assignments(code: str, python: bool) -> Iterator[str]:
    found = LINE_ASSIGNMENT.match(code)
    if found and _is_literal_secret(found.group("value"), python):
        yield f"secret assigned a literal value ({found.group('key')})"
        return
    for found in INLINE_ASSIGNMENT.finditer(code):
        if _is_literal_secret(found.group("value"), python):
            yield f"secret assigned a literal value ({found.group('key') or found.group('kwkey')})"
            return


def scan_text(relative: str, text: str) -> list[Finding]:
    """Findings in one file's text; ``relative`` decides which allowances apply."""
    findings: list[Finding] = []
    in_examples = relative.startswith("examples/")
    in_tests = relative.startswith("tests/")
    suffix = Path(relative).suffix.lower()
    prose = suffix in PROSE_SUFFIXES
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if prose and FENCE.match(line):
            in_fence = not in_fence
            continue
        if MARKER.search(line):
            continue
        reasons: list[str] = []
        if PRIVATE_KEY.search(line):
            reasons.append("private key header")
        if not in_examples:
            reasons.extend(_private_ipv4(line, in_tests))
            reasons.extend(_mac_addresses(line))
            code = [line] if not prose or in_fence else CODE_SPAN.findall(line)
            for part in code:
                reasons.extend(_secret_assignments(part, python=suffix == ".py"))
            reasons.extend(f"home directory path {m.group(0)}" for m in HOME_PATH.finditer(line))
            reasons.extend(f"machine-local path {m.group(0)}" for m in MACHINE_PATH.finditer(line))
        findings.extend(Finding(relative, number, reason) for reason in dict.fromkeys(reasons))
    return findings


def scan(root: Path, files: list[str] | None = None) -> list[Finding]:
    """Findings in ``files`` (default: :func:`repository_files`), sorted by path and line."""
    findings: list[Finding] = []
    for relative in repository_files(root) if files is None else files:
        text = read_text(root / relative)
        if text is not None:
            findings.extend(scan_text(relative, text))
    return sorted(findings)


def main(argv: list[str] | None = None) -> int:
    args = root_arguments(__doc__).parse_args(argv)
    root: Path = args.root.resolve()
    if not root.is_dir():
        print(f"validate_secret_topology: {root} is not a directory", file=sys.stderr)
        return 2
    files = repository_files(root)
    return report_findings("validate_secret_topology", scan(root, files), noun="finding",
                           where=f" in {len(files)} files", summary=f"{len(files)} files")


if __name__ == "__main__":
    sys.exit(main())
