"""The ``tecrax_ansible`` connector's two profile files, written for the backend's catalog tests:
the contract RExecOp reads (its capabilities) and the declarations only the backend reads."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tecrax.backend.actions import CONNECTOR_FILE, DECLARATIONS_FILE


def write_connector(profile_root: Path, capabilities: list[str], **declared: Mapping[str, Any]) -> Path:
    """Write ``connectors/tecrax_ansible.yaml`` listing ``capabilities`` and its declarations file
    holding ``declared`` (``actions``, ``inputs``, ``secret_inputs``); return ``profile_root``."""
    (profile_root / DECLARATIONS_FILE).parent.mkdir(parents=True, exist_ok=True)
    contract = {"connector": {"name": "tecrax_ansible", "backend": "tecrax_ansible", "capabilities": capabilities}}
    (profile_root / CONNECTOR_FILE).write_text(yaml.safe_dump(contract))
    (profile_root / DECLARATIONS_FILE).write_text(yaml.safe_dump(dict(declared)))
    return profile_root
