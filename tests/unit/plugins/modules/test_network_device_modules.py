"""tecrax.ops.network_device_inventory and network_device_posture, run in-process.

The wrapper is a real program: a shell script that prints a composed device output for the
subcommand it is given and logs each call.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from ansible_collections.tecrax.ops.plugins.modules import (
    network_device_inventory,
    network_device_posture,
)
from unit.module_runner import run_module

DATA = Path(__file__).resolve().parents[2] / "data" / "network"
NAME = "tecrax-network-cli-readonly"
MODULES: dict[str, tuple[Callable[[], None], str]] = {
    "inventory": (network_device_inventory.main, "network_device_inventory.v1.schema.json"),
    "posture": (network_device_posture.main, "network_management_posture.v1.schema.json"),
}


def make_wrapper(directory: Path, case: str, exit_code: int = 0) -> tuple[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "calls.log"
    path = directory / NAME
    path.write_text(
        "#!/bin/sh\n"
        f'echo "$1 ${{TECRAX_NETWORK_DEVICE:-none}}" >> {log}\n'
        f'cat "{DATA / case}/$1.txt"\n'
        f"exit {exit_code}\n",
        encoding="utf-8",
    )
    path.chmod(0o755)
    return str(path), log


def run(capsys: pytest.CaptureFixture[str], which: str, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    main, _schema = MODULES[which]
    return run_module(main, capsys, args)[:2]


@pytest.mark.parametrize("check_mode", [False, True])
def test_inventory_of_an_hpe_v1910(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   facts_schema_errors: Any, check_mode: bool) -> None:
    path, log = make_wrapper(tmp_path / "bin", "hpe-v1910-48g-r1519p03")
    code, result = run(capsys, "inventory", {"wrapper_path": path, "device_id": "core-sw-01",
                                             "_ansible_check_mode": check_mode})
    assert code == 0 and result["changed"] is False
    facts = result["facts"]
    assert facts_schema_errors(facts, MODULES["inventory"][1]) == []
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    assert facts["device"]["model"] == "V1910-48G"
    assert facts["device"]["software_version"] == "5.20.99 Release 1519P03"
    assert log.read_text().splitlines() == ["system-info core-sw-01", "ssh-status core-sw-01"]
    assert "CN00TECRAX" not in json.dumps(result)


def test_posture_of_a_tplink_with_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           facts_schema_errors: Any) -> None:
    path, _log = make_wrapper(tmp_path / "bin", "tplink-sg2452-v1-fw102-defaults")
    code, result = run(capsys, "posture", {"wrapper_path": path})
    assert code == 0 and result["changed"] is False
    facts = result["facts"]
    assert facts_schema_errors(facts, MODULES["posture"][1]) == []
    assert facts["assessment"] == {"state": "unhealthy",
                                   "reasons": ["legacy_ssh_v1_enabled", "legacy_ssh_crypto_observed"]}
    assert facts["finding_counts"] == {"high": 1, "medium": 1, "low": 0}


@pytest.mark.parametrize("which", sorted(MODULES))
def test_unsupported_device_is_asked_once(which: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path, log = make_wrapper(tmp_path / "bin", "unsupported-cisco-ios")
    code, result = run(capsys, which, {"wrapper_path": path})
    assert code == 0
    assert result["facts"]["coverage"] == {"state": "partial", "blockers": ["device_family_unsupported"]}
    assert result["facts"]["wrapper"]["ssh_status"]["status"] == "not_run"
    assert log.read_text().splitlines() == ["system-info none"]


@pytest.mark.parametrize("which", sorted(MODULES))
def test_failing_wrapper_is_unavailable_not_a_module_failure(which: str, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path, _log = make_wrapper(tmp_path / "bin", "hpe-v1910-48g-r1519p03", exit_code=69)
    code, result = run(capsys, which, {"wrapper_path": path})
    assert code == 0 and "failed" not in result
    facts = result["facts"]
    assert facts["assessment"] == {"state": "unavailable"}
    assert facts["coverage"] == {"state": "blocked", "blockers": ["system_info_failed"]}
    assert facts["wrapper"]["system_info"]["exit_code"] == 69


def test_absent_wrapper_is_unavailable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run(capsys, "inventory", {"wrapper_path": str(tmp_path / "nowhere" / NAME)})
    assert code == 0
    assert result["facts"]["coverage"]["blockers"] == ["system_info_missing"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"wrapper_path": "/bin/sh"}, "wrapper_path must name a file called " + NAME),
        ({"wrapper_path": "bin/" + NAME}, "wrapper_path must be an absolute path"),
        ({"wrapper_path": "/opt/" + NAME, "device_id": "a b"}, "device_id must be"),
        ({"wrapper_path": "/opt/" + NAME, "timeout_seconds": 0}, "timeout_seconds must be between 1 and 300"),
        ({"wrapper_path": "/opt/" + NAME, "command": "reload"}, "command"),
        ({}, "wrapper_path"),
    ],
)
def test_bad_options_fail_with_a_named_error(args: dict[str, Any], message: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run(capsys, "inventory", args)
    assert code == 1 and result["failed"] is True
    assert message in result["msg"]


def test_writable_wrapper_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, log = make_wrapper(tmp_path / "bin", "hpe-v1910-48g-r1519p03")
    Path(path).chmod(0o777)
    code, result = run(capsys, "posture", {"wrapper_path": path})
    assert code == 1
    assert result["msg"] == "refusing to run the wrapper: the wrapper is writable by group or others"
    assert not log.exists()
