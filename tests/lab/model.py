"""What a lab is made of: its hosts as tests see them, and the state kept on disk.

The on-disk state (`<state dir>/lab.json` plus a pid file per host) lets another
process tear a lab down: `python -m lab down`, or cleanup of labs whose owner died.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lab.errors import LabError

STATE_FORMAT = 1
_HOST_NAME = re.compile(r"[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?")


def check_host_name(name: str) -> str:
    if not _HOST_NAME.fullmatch(name):
        raise LabError(f"invalid host name {name!r}: want 1-32 of [a-z0-9-], starting with a letter")
    return name


@dataclass(frozen=True)
class Host:
    """A booted lab host, as SSH clients (tests, Ansible, RExecOp) reach it."""

    name: str
    address: str
    port: int
    user: str
    private_key: Path  # the lab's client key, authorized for root on every host
    known_hosts: Path  # the lab's known_hosts, holding every host's own key


@dataclass(frozen=True)
class LabPaths:
    root: Path

    @property
    def state_file(self) -> Path:
        return self.root / "lab.json"

    @property
    def private_key(self) -> Path:
        return self.root / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    @property
    def inventory(self) -> Path:
        return self.root / "inventory.yml"

    def host(self, name: str) -> HostPaths:
        return HostPaths(self.root / "hosts" / name)


@dataclass(frozen=True)
class HostPaths:
    root: Path

    @property
    def upper(self) -> Path:
        return self.root / "upper"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def merged(self) -> Path:
        return self.root / "merged"

    @property
    def console_log(self) -> Path:
        return self.root / "console.log"

    @property
    def pid_file(self) -> Path:
        return self.root / "nspawn.pid"

    def read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None


@dataclass
class HostRecord:
    name: str
    index: int  # position in the lab: picks the address and the veth name
    address: str
    layers: list[str]  # read-only overlay layers, topmost first


@dataclass
class LabState:
    slot: int
    hosts: dict[str, HostRecord] = field(default_factory=dict)
    next_index: int = 0  # never reused, so a stopped host's address is not handed out again

    def save(self, path: Path) -> None:
        data = {"format": STATE_FORMAT, **asdict(self)}
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=1) + "\n")
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> LabState:
        try:
            data: dict[str, Any] = json.loads(path.read_text())
        except FileNotFoundError as error:
            raise LabError(f"no lab state at {path} (is this a lab state dir?)") from error
        if data.get("format") != STATE_FORMAT:
            raise LabError(f"{path} has state format {data.get('format')!r}, expected {STATE_FORMAT}")
        hosts = {name: HostRecord(**record) for name, record in data["hosts"].items()}
        return cls(slot=int(data["slot"]), hosts=hosts, next_index=int(data["next_index"]))
