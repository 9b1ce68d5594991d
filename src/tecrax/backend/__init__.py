"""The ``tecrax_ansible`` connector backend (entry point ``rexecop.connector_backends``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def build_backend(
    *,
    connector_name: str,
    config: Mapping[str, Any] | None = None,
    profile_root: str | None = None,
    mutating_allowed: bool = False,
    secret_resolver: Any = None,
) -> Any:
    """Factory RExecOp calls for every connector of the environment: cheap, no I/O."""
    from tecrax.backend.runtime import AnsibleBackend

    return AnsibleBackend(
        connector_name=connector_name,
        config=config,
        profile_root=profile_root,
        mutating_allowed=mutating_allowed,
        secret_resolver=secret_resolver,
    )
