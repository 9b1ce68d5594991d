"""Fixtures the lab tests share: the governed runner, and an environment of the module's hosts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness import Governed, LabTarget, write_environment


@pytest.fixture
def governed(tmp_path: Path, lab: Any) -> Governed:
    """RExecOp with a fresh store, signing in with the lab's key."""
    return Governed(tmp_path / "rexecop", lab.private_key)


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory, lab: Any, hosts: dict[str, Any]) -> Path:
    """An environment with every host of the test module's ``hosts`` fixture as an SSH target."""
    targets = [LabTarget(host.name, host.address, host.port) for host in hosts.values()]
    return write_environment(tmp_path_factory.mktemp("env") / "environment.yaml", targets,
                             known_hosts=lab.known_hosts)
