"""Raw inputs of the NTP and security posture normalizers as their modules build them on the
recorded lab hosts (tests/unit/data): shared by those normalizers' tests and the monitoring
host diagnosis tests (unit/diagnosis_inputs.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible_collections.tecrax.ops.plugins.module_utils.ntp.time_sync import DAEMON_UNITS

DATA = Path(__file__).resolve().parent / "data"
NTP_DATA = DATA / "ntp"
SECURITY_DATA = DATA / "host_security_posture"
# Raw key of the NTP normalizers -> recorded file name.
NTP_RAW_FILES = {
    "timedatectl": "timedatectl_show",
    "chrony_tracking": "chronyc_tracking",
    "chrony_serverstats": "chronyc_serverstats",
    "ntpq": "ntpq_rv",
    "timesync": "timesync_show",
    "udp_sockets": "proc_net_udp",
}
NTP_UNITS = [unit for units in DAEMON_UNITS.values() for unit in units]


def ntp_command(directory: Path, name: str) -> dict[str, Any] | None:
    """One recorded command result (exit status 127: not installed), or None if not recorded."""
    path = directory / name
    if not path.exists():
        return None
    rc_file = directory / (name + ".rc")
    rc = int(rc_file.read_text()) if rc_file.exists() else 0
    return {"rc": None if rc == 127 else rc, "output": path.read_text()}


def ntp_recorded(state: str) -> dict[str, Any]:
    """The raw input the NTP modules would have built on the recorded host."""
    directory = NTP_DATA / state
    raw: dict[str, Any] = {"units": {unit: ntp_command(directory, "unit." + unit) for unit in NTP_UNITS}}
    for key, name in NTP_RAW_FILES.items():
        result = ntp_command(directory, name)
        if result is not None:
            raw[key] = result
    return raw


def security_output(name: str) -> dict[str, Any]:
    """A recorded command output of the security posture module that exited 0."""
    return {"rc": 0, "out": (SECURITY_DATA / name).read_text(encoding="utf-8")}


def security_good_host(**changes: Any) -> dict[str, Any]:
    """Recorded observations of a host whose posture is healthy, with ``changes``."""
    raw: dict[str, Any] = {
        "dpkg_status": security_output("dpkg-status-installed.txt"),
        "apt_periodic": security_output("apt-periodic-debian-default.txt"),
        "units": security_output("units-enabled.txt"),
        "apt_simulation": security_output("apt-simulate-none.txt"),
        "package_lists": {"files": 1, "age_seconds": 3600},
        "randomize_va_space": b"2\n",
        "dmesg_restrict": b"1\n",
        "reboot_required": False,
        "reboot_required_pkgs": None,
    }
    raw.update(changes)
    return raw
