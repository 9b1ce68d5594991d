"""Fuzz: the host normalizers (basic host inventory, security posture, Docker service health)
and the systemctl show parser, on mutated recordings. No exception, schema-valid facts."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.host import docker_service_health as dsh
from ansible_collections.tecrax.ops.plugins.module_utils.host import host_inventory as hi
from ansible_collections.tecrax.ops.plugins.module_utils.host import host_security_posture as hsp
from ansible_collections.tecrax.ops.plugins.module_utils.common import systemd_show
from unit.conftest import DATA_DIR
from unit.mutations import FUZZ, facts_fuzz, mutated

# A systemd state name, as systemd_show accepts one.
STATE_NAME = re.compile(r"[a-z][a-z0-9-]{0,47}\Z")


def _read(*parts: str) -> bytes:
    return DATA_DIR.joinpath(*parts).read_bytes()


def _inventory_seeds() -> list[dict[str, Any]]:
    host_dir = DATA_DIR / "host_inventory" / "hosts" / "debian-12"
    host = {path.name: path.read_text(encoding="utf-8") for path in host_dir.iterdir()}
    seeds = [host]
    for key, folder in (("os_release", "os_release"), ("df", "df"), ("meminfo", "meminfo")):
        for path in sorted((DATA_DIR / "host_inventory" / folder).iterdir()):
            if path.suffix != ".free-m":
                seeds.append(dict(host, **{key: path.read_text(encoding="utf-8")}))
    return seeds


def _posture_seeds() -> list[dict[str, Any]]:
    def probe(name: str) -> dict[str, Any]:
        return {"rc": 0, "out": _read("host_security_posture", name)}

    good = {
        "dpkg_status": probe("dpkg-status-installed.txt"),
        "apt_periodic": probe("apt-periodic-debian-default.txt"),
        "units": probe("units-enabled.txt"),
        "apt_simulation": probe("apt-simulate-none.txt"),
        "package_lists": {"files": 1, "age_seconds": 3600},
        "randomize_va_space": b"2\n",
        "dmesg_restrict": b"1\n",
        "reboot_required": True,
        "reboot_required_pkgs": b"linux-image-6.1.0-99-amd64\nlibc6\n",
    }
    key_of_prefix = {"apt-simulate": "apt_simulation", "apt-periodic": "apt_periodic",
                     "dpkg-status": "dpkg_status", "units": "units"}
    seeds = [good]
    for path in sorted((DATA_DIR / "host_security_posture").glob("*.txt")):
        key = next(key for prefix, key in key_of_prefix.items() if path.name.startswith(prefix))
        seeds.append(dict(good, **{key: probe(path.name)}))
    return seeds


DOCKER_FILES = sorted((DATA_DIR / "docker_service_health").glob("*.txt"))
DOCKER_SEEDS = [{"systemctl_show": {"rc": 1 if path.name == "systemd-not-running.txt" else 0,
                                    "out": path.read_bytes()}} for path in DOCKER_FILES]


test_host_facts_of_mutated_recordings = facts_fuzz({
    "host_inventory": (hi.normalize_host_inventory, st.sampled_from(_inventory_seeds()).flatmap(mutated),
                       "basic_host_inventory.v1.schema.json"),
    "host_security_posture": (hsp.normalize_host_security_posture, st.sampled_from(_posture_seeds()).flatmap(mutated),
                              "host_security_posture.v1.schema.json"),
    "docker_service_health": (dsh.normalize_docker_service_health, st.sampled_from(DOCKER_SEEDS).flatmap(mutated),
                              "docker_service_health.v1.schema.json"),
})


UNIT_OUTPUTS = [(path.read_text(encoding="utf-8"), dsh.UNIT_NAMES) for path in DOCKER_FILES] + [
    (path.read_text(encoding="utf-8"), hsp.UNITS) for path in sorted((DATA_DIR / "host_security_posture").glob("units-*"))]


@FUZZ
@given(st.sampled_from(UNIT_OUTPUTS).flatmap(lambda seed: mutated(seed, paths=[(0,)])))
def test_systemctl_show_parser_of_mutated_recordings(seed: tuple[Any, tuple[str, ...]]) -> None:
    text, units = seed
    states = systemd_show.parse_unit_states(text, units)
    assert set(states) <= set(units)
    for state in states.values():
        assert list(state) == list(systemd_show.STATE_FIELDS)
        assert state["load_state"] and state["active_state"]
        assert all(value is None or STATE_NAME.match(value) for value in state.values())
