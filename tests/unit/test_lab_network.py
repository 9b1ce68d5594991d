"""Lab network naming and the /24 registry (pure: no root, no real links)."""

from __future__ import annotations

from ipaddress import IPv4Network
from pathlib import Path

import pytest

from lab.errors import LabError
from lab.network import LAB_RANGE, MAX_HOSTS, MAX_IFNAME, SLOT_COUNT, LabNetwork, SlotRecord, SlotRegistry, is_usable
from lab.processes import ProcessRef

OWNER = ProcessRef(pid=4242, start_ticks=99)


def test_every_slot_is_a_distinct_24_inside_the_benchmarking_range() -> None:
    subnets = {LabNetwork(slot).subnet for slot in range(SLOT_COUNT)}
    assert len(subnets) == SLOT_COUNT == 512
    assert all(subnet.prefixlen == 24 and subnet.subnet_of(LAB_RANGE) for subnet in subnets)
    assert str(LAB_RANGE) == "198.18.0.0/15"


def test_addresses_of_a_lab() -> None:
    network = LabNetwork(5)
    assert str(network.subnet) == "198.18.5.0/24"
    assert str(network.controller_address) == "198.18.5.1"
    assert str(network.host_address(0)) == "198.18.5.2"
    assert str(LabNetwork(300).host_address(MAX_HOSTS - 1)) == "198.19.44.254"
    with pytest.raises(LabError):
        network.host_address(MAX_HOSTS)


@pytest.mark.parametrize("slot", [0, SLOT_COUNT - 1])
def test_interface_names_fit_the_kernel_limit(slot: int) -> None:
    network = LabNetwork(slot)
    assert len(network.bridge) <= MAX_IFNAME
    assert len(network.veth(MAX_HOSTS - 1)) <= MAX_IFNAME


def test_names_differ_between_labs_even_for_the_same_host_name() -> None:
    first, second = LabNetwork(1), LabNetwork(2)
    assert first.namespace("alpha") != second.namespace("alpha")
    assert first.veth(0) != second.veth(0)
    assert first.bridge != second.bridge


@pytest.mark.parametrize("slot", [-1, SLOT_COUNT])
def test_slot_out_of_range_is_refused(slot: int) -> None:
    with pytest.raises(LabError):
        LabNetwork(slot)


def test_registry_hands_out_distinct_slots_and_reuses_released_ones(tmp_path: Path) -> None:
    registry = SlotRegistry(tmp_path)
    first = registry.allocate(tmp_path / "a", OWNER, lambda network: True)
    second = registry.allocate(tmp_path / "b", None, lambda network: True)
    assert (first.slot, second.slot) == (0, 1)
    with registry.locked():
        assert registry.records() == [SlotRecord(0, tmp_path / "a", OWNER), SlotRecord(1, tmp_path / "b", None)]

    registry.release(first.slot)
    assert registry.allocate(tmp_path / "c", OWNER, lambda network: True).slot == 0


def test_registry_skips_slots_that_are_in_use_on_the_machine(tmp_path: Path) -> None:
    registry = SlotRegistry(tmp_path)
    network = registry.allocate(tmp_path / "a", OWNER, lambda network: network.slot >= 3)
    assert network.slot == 3


def test_registry_says_when_the_range_is_exhausted(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="no free /24"):
        SlotRegistry(tmp_path).allocate(tmp_path / "a", OWNER, lambda network: False)


def test_unreadable_registry_entry_is_reported(tmp_path: Path) -> None:
    registry = SlotRegistry(tmp_path)
    registry.slots_dir.mkdir(parents=True)
    (registry.slots_dir / "7.json").write_text("{not json")
    with pytest.raises(LabError, match=r"7\.json"):
        registry.records()


def test_slot_with_an_existing_bridge_or_route_is_not_usable() -> None:
    network = LabNetwork(4)
    elsewhere = [IPv4Network("203.0.113.0/24")]
    assert is_usable(network, elsewhere, {"eth0"})
    assert not is_usable(network, elsewhere, {"eth0", network.bridge})
    assert not is_usable(network, [IPv4Network("198.18.4.7/32")], set())
    assert not is_usable(network, [IPv4Network("198.18.0.0/15")], set())
