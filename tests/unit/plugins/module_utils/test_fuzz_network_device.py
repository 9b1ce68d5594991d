"""Fuzz: the network-device inventory and management posture, on mutated recordings of the
wrapper's two subcommands. No exception, schema-valid facts."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.network import network_device
from unit.conftest import DATA_DIR
from unit.mutations import facts_fuzz, mutated


def _wrapper_result(path: Any) -> dict[str, Any]:
    if not path.exists():
        return {"status": "not_run"}
    output = path.read_bytes()
    return {"status": "ok", "exit_code": 0, "output": output, "output_bytes": len(output)}


DEVICE_SEEDS = [
    {"system_info": _wrapper_result(case / "system-info.txt"), "ssh_status": _wrapper_result(case / "ssh-status.txt")}
    for case in sorted(path for path in (DATA_DIR / "network").iterdir() if path.is_dir())
]


test_network_device_facts_of_mutated_recordings = facts_fuzz({
    "network_device_inventory": (network_device.normalize_inventory, st.sampled_from(DEVICE_SEEDS).flatmap(mutated),
                                 "network_device_inventory.v1.schema.json"),
    "network_management_posture": (network_device.assess_posture, st.sampled_from(DEVICE_SEEDS).flatmap(mutated),
                                   "network_management_posture.v1.schema.json"),
})
