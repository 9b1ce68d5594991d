"""Every module that runs commands ends them at its budget and fails as timed out.

The programs the modules look up are real: each one hangs (tests/unit/processes.py), so only
the budget can end the module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from ansible.module_utils import basic

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import BUDGET_ENV
from ansible_collections.tecrax.ops.plugins.modules import (
    chrony_ntp_server,
    chrony_ntp_server_info,
    docker_service_health,
    host_inventory,
    host_security_posture,
    network_device_inventory,
    network_device_posture,
    ntp_health,
    ntp_server_health,
)
from unit.processes import assert_ended, hanging_program, started_pids
from unit import module_runner

WRAPPER = "tecrax-network-cli-readonly"
HOST_MODULES: dict[str, tuple[Callable[[], None], dict[str, Any]]] = {
    "host_inventory": (host_inventory.main, {}),
    "docker_service_health": (docker_service_health.main, {}),
    "host_security_posture": (host_security_posture.main, {}),
    "ntp_health": (ntp_health.main, {}),
    "ntp_server_health": (ntp_server_health.main, {}),
    "chrony_ntp_server_info": (chrony_ntp_server_info.main, {}),
    # Check mode: on this machine the module must not even try to write chrony's files.
    "chrony_ntp_server": (chrony_ntp_server.main, {"state": "absent", "_ansible_check_mode": True}),
}


def run_module(main: Callable[[], None], args: dict[str, Any], capsys: pytest.CaptureFixture[str]
               ) -> tuple[int, dict[str, Any]]:
    return module_runner.run_module(main, capsys, args)[:2]


def assert_timed_out(result: dict[str, Any], program: str) -> None:
    assert result["failed"] is True and result["timed_out"] is True
    assert result["msg"].startswith(
        f"timed out: {program} did not finish within the module's budget of 1 s and was killed with its process group")


@pytest.mark.parametrize("name", sorted(HOST_MODULES))
def test_host_module_ends_its_hung_command_at_the_budget(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                        lambda self, program, *args, **kwargs: str(hanging_program(bin_dir, program)))
    monkeypatch.setenv(BUDGET_ENV, "1")
    main, args = HOST_MODULES[name]
    code, result = run_module(main, args, capsys)
    assert code == 1
    pids = started_pids(bin_dir)
    assert len(pids) == 1, "only the first command may start: the budget was spent by then"
    for pid in pids:
        assert_ended(pid)
    program = result["msg"].split()[2]
    assert (bin_dir / program).is_file()
    assert_timed_out(result, program)


@pytest.mark.parametrize("main", [network_device_inventory.main, network_device_posture.main])
def test_network_module_fails_when_the_budget_ends_a_wrapper_call(
    main: Callable[[], None], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wrapper = hanging_program(tmp_path / "bin", WRAPPER)
    monkeypatch.setenv(BUDGET_ENV, "1")
    code, result = run_module(main, {"wrapper_path": str(wrapper), "timeout_seconds": 30}, capsys)
    assert code == 1
    assert_timed_out(result, WRAPPER)
    (pid,) = started_pids(tmp_path / "bin")
    assert_ended(pid)


def test_wrapper_time_limit_within_the_budget_stays_an_observation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wrapper = hanging_program(tmp_path / "bin", WRAPPER)
    monkeypatch.setenv(BUDGET_ENV, "600")
    code, result = run_module(network_device_inventory.main, {"wrapper_path": str(wrapper), "timeout_seconds": 1},
                              capsys)
    assert code == 0 and "timed_out" not in result
    assert "system_info_timeout" in result["facts"]["coverage"]["blockers"]


def test_a_malformed_budget_fails_the_module_by_name(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(BUDGET_ENV, "soon")
    code, result = run_module(host_inventory.main, {}, capsys)
    assert code == 1 and result["failed"] is True
    assert result["msg"] == "TECRAX_MODULE_BUDGET_SECONDS must be a whole number of seconds from 1 to 3600, not 'soon'"
