"""Fixtures the lab tests share: the governed runner, an environment of the module's hosts,
and lab hosts shared by several test modules of one session.

The Zabbix host is heavy (PostgreSQL, the PHP frontend, the server) and the AdGuard/Portainer
stand-in host needs a PKI made for its address: each is booted once per session, by the first
module that asks, and stopped when the session ends. A test that breaks one of them restores it
before it ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import service_lab as sl
import zabbix_lab as zl
from harness import Governed, LabTarget, write_environment


@pytest.fixture(scope="session")
def zabbix_host(lab: Any) -> Iterator[Any]:
    """A real Zabbix 6.0.14 whose API answers (nothing seeded)."""
    host = lab.add_host("zabbix", flavor=zl.ZABBIX_FLAVOR)
    try:
        assert zl.ZabbixLabApi(host.address).wait_ready() == "6.0.14"
        yield host
    finally:
        # A Zabbix host takes longer than the lab's clean-shutdown wait; nothing in it is kept.
        lab.stop_host(host, force=True)


@pytest.fixture(scope="session")
def service_standins(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, sl.Pki]]:
    """The unbound/nginx host standing in for AdGuard Home and Portainer, and its test PKI."""
    host, pki = sl.boot_services_host(lab, "standins", tmp_path_factory.mktemp("standins") / "pki")
    try:
        yield host, pki
    finally:
        lab.stop_host(host)


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
