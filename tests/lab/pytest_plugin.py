"""Pytest fixtures for lab hosts (registered in tests/conftest.py).

- `lab`: a started, empty Lab for the session; torn down at session end.
- `lab_hosts`: three plain hosts `alpha`, `beta`, `gamma` booted in that lab,
  as a dict name -> Host. Tests that stop or break a host should boot their own
  (`lab.add_host("delta")`) so that other tests keep working hosts.

Tests using them get the `lab` marker automatically (`-m "not lab"` skips them).
Without root or systemd-nspawn these fixtures fail with the reason, never skip.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lab.errors import LabError
from lab.lab import Lab, missing_requirements
from lab.model import Host
from lab.stale import cleanup_stale

LAB_HOST_NAMES = ("alpha", "beta", "gamma")
LAB_FIXTURES = {"lab", "lab_hosts"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "lab: needs lab hosts (root, systemd-nspawn)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if LAB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.lab)


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    problems = missing_requirements()
    if problems:
        pytest.fail(
            "lab hosts cannot run on this machine:\n  "
            + "\n  ".join(problems)
            + "\n(deselect lab tests with -m 'not lab')",
            pytrace=False,
        )
    try:
        cleanup_stale()
        session_lab = Lab().start()
    except LabError as error:
        pytest.fail(f"could not start the lab: {error}", pytrace=False)
    try:
        yield session_lab
    finally:
        session_lab.teardown()


@pytest.fixture(scope="session")
def lab_hosts(lab: Lab) -> dict[str, Host]:
    try:
        return {host.name: host for host in lab.boot(LAB_HOST_NAMES)}
    except LabError as error:
        pytest.fail(f"lab hosts did not boot: {error}", pytrace=False)
