"""Process-local progress notifications from the backend to an interactive caller.

``tecrax run`` drives RExecOp in-process and registers a listener to show each playbook run
as it starts and ends; without a listener nothing happens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Listener = Callable[[Mapping[str, Any]], None]
_listener: Listener | None = None


def set_listener(listener: Listener | None) -> None:
    global _listener
    _listener = listener


def emit(**event: Any) -> None:
    if _listener is not None:
        try:
            _listener(event)
        except Exception:  # noqa: BLE001 - a display problem must never fail a step
            pass
