"""The shared ``systemctl show`` parser, on recorded output and on malformed blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.tecrax.ops.plugins.module_utils.common import systemd_show as ss

DATA = Path(__file__).resolve().parents[2] / "data"
DOCKER = ("docker.service", "docker.socket")


def state(load: str | None, active: str | None, sub: str | None, file_state: str | None,
          result: str | None) -> dict[str, str | None]:
    return {"load_state": load, "active_state": active, "sub_state": sub,
            "unit_file_state": file_state, "result": result}


def test_argv_asks_for_every_property_without_a_pager() -> None:
    assert ss.show_argv("/usr/bin/systemctl", DOCKER) == [
        "/usr/bin/systemctl", "show", "--no-pager",
        "--property=Id,LoadState,ActiveState,SubState,UnitFileState,Result",
        "docker.service", "docker.socket",
    ]


@pytest.mark.parametrize("unit", ["", "docker service", "docker;id", "a\nb", "x" * 256])
def test_argv_refuses_what_is_not_a_unit_name(unit: str) -> None:
    with pytest.raises(ValueError, match="not a systemd unit name"):
        ss.show_argv("/usr/bin/systemctl", [unit])


def test_recorded_blocks_map_to_their_units_whatever_the_property_order() -> None:
    text = (DATA / "docker_service_health" / "failed.txt").read_text()
    assert text.splitlines()[0] == "Result=exit-code"  # systemd's order, not the one asked for
    assert ss.parse_unit_states(text, DOCKER) == {
        "docker.service": state("loaded", "failed", "failed", "enabled", "exit-code"),
        "docker.socket": state("loaded", "failed", "failed", "enabled", "service-start-limit-hit"),
    }


def test_an_empty_property_is_none() -> None:
    text = (DATA / "docker_service_health" / "not-installed.txt").read_text()
    states = ss.parse_unit_states(text, DOCKER)
    assert states["docker.service"] == state("not-found", "inactive", "dead", None, "success")


def test_units_not_asked_for_are_ignored_and_missing_ones_absent() -> None:
    text = (DATA / "host_security_posture" / "units-enabled.txt").read_text()
    assert set(ss.parse_unit_states(text, ["apt-daily-upgrade.timer"])) == {"apt-daily-upgrade.timer"}
    assert ss.parse_unit_states(text, DOCKER) == {}


@pytest.mark.parametrize(
    "block",
    [
        "Id=docker.service\nActiveState=active\n",  # no LoadState
        "Id=docker.service\nLoadState=\nActiveState=active\n",  # empty LoadState
        "Id=docker.service\nLoadState=loaded\nActiveState=Active\n",  # not a systemd state name
        "Id=docker.service\nLoadState=loaded\nActiveState=active\nSubState=run ning\n",
        "Id=docker.service\nLoadState=loaded\nActiveState=active\nResult=" + "x" * 49 + "\n",
        "LoadState=loaded\nActiveState=active\n",  # no Id
    ],
)
def test_malformed_blocks_are_not_observations(block: str) -> None:
    assert ss.parse_unit_states(block, DOCKER) == {}


def test_first_block_and_first_value_win() -> None:
    text = (
        "Id=docker.service\nLoadState=loaded\nLoadState=masked\nActiveState=active\n\n"
        "Id=docker.service\nLoadState=not-found\nActiveState=inactive\n"
    )
    assert ss.parse_unit_states(text, DOCKER)["docker.service"]["load_state"] == "loaded"


def test_noise_lines_and_overlong_lines_are_ignored() -> None:
    text = (
        "Warning: something\nId=docker.service\nFragmentPath=/lib/systemd/system/docker.service\n"
        "LoadState=loaded\nActiveState=active\nSubState=" + "r" * 600 + "\n"
    )
    assert ss.parse_unit_states(text, DOCKER) == {
        "docker.service": state("loaded", "active", None, None, None),
    }


def test_unknown_unit_state_has_every_field() -> None:
    assert ss.unknown_unit_state() == state(None, None, None, None, None)


def test_one_unit_properties_are_the_first_block_of_the_asked_names() -> None:
    text = "LoadState=loaded\nMainPID=812\nActiveState=active\nLoadState=masked\nOther=x\n\nLoadState=stub\n"
    assert ss.parse_unit_properties(text, ("LoadState", "ActiveState", "MainPID")) == {
        "LoadState": "loaded", "ActiveState": "active", "MainPID": "812"}
    assert ss.parse_unit_properties("", ("LoadState",)) == {}


def test_show_args_name_the_asked_properties() -> None:
    assert ss.show_args(["chrony.service"], ("LoadState", "MainPID")) == [
        "show", "--no-pager", "--property=LoadState,MainPID", "chrony.service"]
