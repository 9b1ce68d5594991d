"""Connector configurations of the unit tests: SSH, no reachable known_hosts file."""

from __future__ import annotations

from typing import Any


def ssh_config(inventory: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """An enabled ``tecrax_ansible`` configuration for ``inventory``; ``settings`` add to or
    override the top-level keys."""
    return {"enabled": True, "backend": "tecrax_ansible", "connection": "ssh",
            "known_hosts_file": "/nonexistent/known_hosts", "inventory": inventory, **settings}
