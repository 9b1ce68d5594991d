"""Lab networks: one /24 of 198.18.0.0/15 per lab, a bridge, and a netns + veth per host.

198.18.0.0/15 is reserved for benchmarking (RFC 2544), so it collides neither with the
machine's own networks nor with anything on the internet. Which /24 ("slot") a lab owns
is recorded in a registry directory under a file lock, so concurrent labs on one
machine (parallel test runs, several engineers) never share a subnet.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Container, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

from lab.commands import run
from lab.errors import LabError
from lab.processes import ProcessRef

LAB_RANGE = IPv4Network("198.18.0.0/15")
SLOT_COUNT = 2 ** (24 - LAB_RANGE.prefixlen)  # 512 /24s
FIRST_HOST_OCTET = 2  # .1 is the controller (the bridge); hosts get .2, .3, ...
MAX_HOSTS = 254 - FIRST_HOST_OCTET + 1
NAME_PREFIX = "tecrax"
MAX_IFNAME = 15  # IFNAMSIZ - 1


@dataclass(frozen=True)
class LabNetwork:
    """Names and addresses derived from a lab's slot; unique across concurrent labs."""

    slot: int

    def __post_init__(self) -> None:
        if not 0 <= self.slot < SLOT_COUNT:
            raise LabError(f"lab slot {self.slot} is outside 0..{SLOT_COUNT - 1}")

    @property
    def subnet(self) -> IPv4Network:
        return IPv4Network((int(LAB_RANGE.network_address) + self.slot * 256, 24))

    @property
    def controller_address(self) -> IPv4Address:
        return self.subnet.network_address + 1

    @property
    def bridge(self) -> str:
        return f"{NAME_PREFIX}{self.slot}"

    def host_address(self, index: int) -> IPv4Address:
        if not 0 <= index < MAX_HOSTS:
            raise LabError(f"a lab holds at most {MAX_HOSTS} hosts (host index {index})")
        return self.subnet.network_address + FIRST_HOST_OCTET + index

    def veth(self, index: int) -> str:
        """Root-namespace end of a host's veth pair (the other end is `host0` in its netns)."""
        return f"{NAME_PREFIX}{self.slot}v{index}"

    def namespace(self, host_name: str) -> str:
        """Network namespace and nspawn machine name: host names repeat across labs."""
        return f"{NAME_PREFIX}{self.slot}-{host_name}"


# --- slot registry -------------------------------------------------------------------


@dataclass(frozen=True)
class SlotRecord:
    slot: int
    state_dir: Path
    owner: ProcessRef | None  # None: a detached lab (CLI), alive while its hosts run

    def to_json(self) -> dict[str, Any]:
        owner = self.owner.to_json() if self.owner else None
        return {"slot": self.slot, "state_dir": str(self.state_dir), "owner": owner}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SlotRecord:
        return cls(int(data["slot"]), Path(data["state_dir"]), ProcessRef.from_json(data.get("owner")))


class SlotRegistry:
    """Which lab owns which /24: one JSON file per taken slot, changed under a file lock."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.slots_dir = root / "slots"

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.slots_dir.mkdir(parents=True, exist_ok=True)
        with open(self.root / "registry.lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _path(self, slot: int) -> Path:
        return self.slots_dir / f"{slot}.json"

    def records(self) -> list[SlotRecord]:
        """All taken slots (call with the lock held for a consistent view)."""
        if not self.slots_dir.exists():
            return []
        records = []
        for path in sorted(self.slots_dir.glob("*.json")):
            try:
                records.append(SlotRecord.from_json(json.loads(path.read_text())))
            except (ValueError, KeyError, TypeError) as error:
                raise LabError(f"unreadable lab registry entry {path}: {error}") from error
        return records

    def allocate(
        self, state_dir: Path, owner: ProcessRef | None, is_usable: Callable[[LabNetwork], bool]
    ) -> LabNetwork:
        """Take the lowest free slot whose network `is_usable` on this machine."""
        with self.locked():
            taken = {record.slot for record in self.records()}
            for slot in range(SLOT_COUNT):
                network = LabNetwork(slot)
                if slot not in taken and is_usable(network):
                    self.write(SlotRecord(slot, state_dir, owner))
                    return network
        raise LabError(f"no free /24 left in {LAB_RANGE} for another lab (run `python -m lab cleanup`?)")

    def write(self, record: SlotRecord) -> None:
        path = self._path(record.slot)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(record.to_json()))
        os.replace(temporary, path)

    def release(self, slot: int) -> None:
        self._path(slot).unlink(missing_ok=True)


# --- what is already in use on the machine -------------------------------------------


def _ip_json(*args: str) -> list[dict[str, Any]]:
    output = run(["ip", "-json", *args]).stdout
    return json.loads(output) if output.strip() else []


def routed_networks() -> list[IPv4Network]:
    """Destinations of the machine's IPv4 routes, all tables, except default routes."""
    networks = []
    for route in _ip_json("-4", "route", "show", "table", "all"):
        destination = route.get("dst", "default")
        if destination != "default":
            networks.append(IPv4Network(destination, strict=False))
    return networks


def link_names() -> set[str]:
    return {link["ifname"] for link in _ip_json("link", "show")}


def is_usable(network: LabNetwork, routes: Iterable[IPv4Network], links: Container[str]) -> bool:
    """A slot is usable if its bridge name is free and nothing routes into its subnet yet
    (a leftover of a lost lab, or another tool using the benchmarking range)."""
    return network.bridge not in links and not any(network.subnet.overlaps(route) for route in routes)


def usable_on_this_machine() -> Callable[[LabNetwork], bool]:
    routes, links = routed_networks(), link_names()
    return lambda network: is_usable(network, routes, links)


# --- links and namespaces ------------------------------------------------------------


def link_exists(name: str) -> bool:
    return run(["ip", "link", "show", "dev", name], check=False).returncode == 0


def namespace_exists(name: str) -> bool:
    return Path("/run/netns", name).exists()


# A stopped host's address fails with "No route to host" once ARP gives up: after 3
# probes 1 s apart by default. Hosts answer ARP from their kernels within microseconds,
# so the lab's bridge probes faster and connections to stopped hosts fail in under 1 s.
ARP_RETRANSMIT_MS = 250


def create_bridge(network: LabNetwork) -> None:
    bridge = network.bridge
    run(["ip", "link", "add", "name", bridge, "type", "bridge"])
    Path(f"/proc/sys/net/ipv4/neigh/{bridge}/retrans_time_ms").write_text(f"{ARP_RETRANSMIT_MS}\n")
    run(["ip", "address", "add", f"{network.controller_address}/24", "dev", bridge])
    run(["ip", "link", "set", bridge, "up"])


def attach_host(network: LabNetwork, namespace: str, veth: str, address: IPv4Address) -> None:
    """Create the host's netns with `host0` holding `address`, bridged to the controller."""
    run(["ip", "netns", "add", namespace])
    run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "host0", "netns", namespace])
    run(["ip", "link", "set", veth, "master", network.bridge, "up"])
    run(["ip", "-n", namespace, "address", "add", f"{address}/24", "dev", "host0"])
    run(["ip", "-n", namespace, "link", "set", "host0", "up"])
    run(["ip", "-n", namespace, "link", "set", "lo", "up"])


def forget_neighbor(network: LabNetwork, address: str) -> None:
    """Drop the cached MAC of a removed host: with it, connections would wait for their
    timeout instead of failing at once with "No route to host"."""
    if link_exists(network.bridge):
        run(["ip", "neighbor", "flush", "to", address, "dev", network.bridge])


def set_link_up(name: str, up: bool) -> None:
    run(["ip", "link", "set", name, "up" if up else "down"])


def delete_link(name: str) -> None:
    """Delete a link; one that vanished meanwhile (e.g. with its netns) counts as deleted."""
    result = run(["ip", "link", "delete", name], check=False)
    if result.returncode != 0 and link_exists(name):
        run(["ip", "link", "delete", name])


def delete_namespace(name: str) -> None:
    if namespace_exists(name):
        run(["ip", "netns", "delete", name])
