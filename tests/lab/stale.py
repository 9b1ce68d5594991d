"""Labs of other processes: finding the ones whose owner died, and removing them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lab.errors import LabError
from lab.lab import Lab, slot_registry
from lab.mounts import remove_tree
from lab.network import LabNetwork, SlotRecord, delete_link
from lab.settings import progress


def _is_alive(record: SlotRecord) -> bool:
    if record.owner is not None:
        return record.owner.is_alive()
    try:  # a detached lab lives as long as any of its hosts runs
        return bool(Lab.attach(record.state_dir).running_host_names())
    except LabError:
        return False


def cleanup_stale() -> list[Path]:
    """Tear down labs whose owner process died (or detached labs with no host left);
    return their state dirs. Labs of live processes are never touched."""
    registry = slot_registry()
    removed = []
    with registry.locked():
        for record in registry.records():
            if _is_alive(record):
                continue
            progress(f"removing stale lab {record.state_dir} ({LabNetwork(record.slot).subnet})")
            try:
                if (record.state_dir / "lab.json").exists():
                    Lab.attach(record.state_dir).teardown(registry_locked=True)
                else:  # the lab died before it wrote its state
                    delete_link(LabNetwork(record.slot).bridge)
                    remove_tree(record.state_dir)
                    registry.release(record.slot)
            except LabError as error:
                progress(f"could not fully remove {record.state_dir}: {error}")
                continue
            removed.append(record.state_dir)
    return removed


def list_labs() -> list[dict[str, Any]]:
    """Labs registered on this machine, with whether their owner (or hosts) still run."""
    registry = slot_registry()
    with registry.locked():
        records = registry.records()
    return [
        {
            "subnet": str(LabNetwork(record.slot).subnet),
            "state_dir": str(record.state_dir),
            "owner_pid": record.owner.pid if record.owner else None,
            "alive": _is_alive(record),
        }
        for record in records
    ]
