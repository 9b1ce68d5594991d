"""Lab hosts for the NTP slices: a chrony NTP server, chrony clients, a systemd-timesyncd host.

Everything here uses the lab's public API (``lab.Lab``, ``lab.Flavor``, ``lab.write_file``).
Configuration that depends on another host's address is written after boot with
``lab.exec`` (no SSH, so it leaves no trace in the host's sshd log) followed by a restart.

No host ever talks to anything but the lab's own /24: the stock chrony configuration (a
public pool) is replaced before boot, and the timesyncd flavor has no fallback servers.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from lab import Flavor, Host, Lab, LabError, write_file

SERVER_STRATUM = 8
# A chrony.conf without the stock public pool: sources come from conf.d only.
CHRONY_CONF = """\
confdir /etc/chrony/conf.d
driftfile /var/lib/chrony/chrony.drift
makestep 1 3
"""
SERVER_CONF = "etc/chrony/conf.d/lab-ntp-server.conf"
CLIENT_CONF = "etc/chrony/conf.d/lab-ntp-client.conf"
TIMESYNCD_CONF = "etc/systemd/timesyncd.conf.d/lab.conf"

# Debian's systemd-timesyncd unit is skipped in containers and without CAP_SYS_TIME, and asks
# for CAP_SYS_TIME as an ambient capability, which a lab host cannot grant (its bounding set
# lacks it): the drop-in clears both conditions and both capability settings. timesyncd then
# runs, talks NTP and reports its state, but cannot set the clock.
TIMESYNCD_DROP_IN = """\
[Unit]
ConditionCapability=
ConditionVirtualization=
[Service]
AmbientCapabilities=
CapabilityBoundingSet=
"""
# An empty FallbackNTP= does not clear Debian's compiled-in public pool; the loopback
# address does, and nothing answers there.
TIMESYNCD_NO_SERVERS = "[Time]\nNTP=\nFallbackNTP=127.0.0.1\n"


def _provision_timesyncd(root: Path) -> None:
    write_file(root, "etc/systemd/system/systemd-timesyncd.service.d/lab.conf", TIMESYNCD_DROP_IN)
    write_file(root, TIMESYNCD_CONF, TIMESYNCD_NO_SERVERS)


# Installing systemd-timesyncd removes chrony (both provide and conflict with time-daemon),
# which is what such a host looks like in the field.
TIMESYNCD_FLAVOR = Flavor("ntp-timesyncd", packages=("systemd-timesyncd",), provision=_provision_timesyncd, revision=2)

# ntpsec's unit is skipped without CAP_SYS_TIME, and its wrapper's `-u ntpsec:ntpsec` makes
# ntpd exit when it cannot drop capabilities it never had; ntpd then runs as root and logs
# that it cannot adjust the clock. Used to record ntpq output for the unit tests.
NTPSEC_DROP_IN = """\
[Unit]
ConditionCapability=
[Service]
ExecStart=
ExecStart=/usr/sbin/ntpd -p /run/ntpd.pid -c /etc/ntpsec/ntp.conf -g -N
"""
NTPSEC_CONF = "etc/ntpsec/ntp.conf"


def _provision_ntpsec(root: Path) -> None:
    write_file(root, "etc/systemd/system/ntpsec.service.d/lab.conf", NTPSEC_DROP_IN)
    write_file(root, NTPSEC_CONF, ntpsec_conf(None))


def ntpsec_conf(server_address: str | None) -> str:
    server = f"server {server_address} iburst minpoll 3 maxpoll 4\n" if server_address else ""
    return (
        "driftfile /var/lib/ntpsec/ntp.drift\n"
        + server
        + "restrict default kod nomodify nopeer noquery limited\nrestrict 127.0.0.1\nrestrict ::1\n"
    )


NTPSEC_FLAVOR = Flavor("ntp-ntpsec", packages=("ntpsec",), provision=_provision_ntpsec, revision=2)


def provision_chrony_client(root: Path) -> None:
    write_file(root, "etc/chrony/chrony.conf", CHRONY_CONF)


def chrony_server_provisioner(subnet: str, stratum: int = SERVER_STRATUM) -> Any:
    """Pre-boot: serve NTP from the local clock to the lab's /24."""

    def provision(root: Path) -> None:
        write_file(root, "etc/chrony/chrony.conf", CHRONY_CONF)
        write_file(root, SERVER_CONF, f"local stratum {stratum}\nallow {subnet}\n")

    return provision


def write_host_file(lab: Lab, host: Host | str, relative: str, content: str) -> None:
    """Write a file inside a running host (no SSH)."""
    lab.exec(host, ["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "write", "/" + relative],
             input_text=content, check=True)


def point_chrony_at(lab: Lab, client: Host | str, server_address: str) -> None:
    write_host_file(lab, client, CLIENT_CONF, f"server {server_address} iburst minpoll 0 maxpoll 2\n")
    lab.exec(client, ["systemctl", "restart", "chrony.service"], check=True)


def point_timesyncd_at(lab: Lab, host: Host | str, server_address: str) -> None:
    write_host_file(lab, host, TIMESYNCD_CONF, f"[Time]\nNTP={server_address}\nFallbackNTP=127.0.0.1\n")
    lab.exec(host, ["systemctl", "restart", "systemd-timesyncd.service"], check=True)


def point_ntpsec_at(lab: Lab, host: Host | str, server_address: str) -> None:
    write_host_file(lab, host, NTPSEC_CONF, ntpsec_conf(server_address))
    lab.exec(host, ["systemctl", "restart", "ntpsec.service"], check=True)


def ntpq_variables(lab: Lab, host: Host | str) -> str:
    return lab.exec(host, ["ntpq", "-n", "-c", "rv 0 stratum,offset,rootdelay,rootdisp,leap"]).stdout


def wait_for_ntpsec_sync(lab: Lab, host: Host | str, timeout: float = 40.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        variables = ntpq_variables(lab, host)
        if "leap=00" in variables:
            return variables
        if time.monotonic() >= deadline:
            raise LabError(f"ntpd on {host} did not synchronize within {timeout:.0f} s: {variables!r}")
        time.sleep(0.5)


def chrony_tracking(lab: Lab, host: Host | str) -> dict[str, str]:
    """``chronyc -n tracking`` of a host as {field: value} (read via nsenter)."""
    return chrony_report(lab, host, "tracking")


def chrony_report(lab: Lab, host: Host | str, report: str) -> dict[str, str]:
    """A ``chronyc -n <report>`` of a host as {field: value} (read via nsenter)."""
    completed = lab.exec(host, ["chronyc", "-n", report])
    fields: dict[str, str] = {}
    for line in completed.stdout.splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


def wait_for_chrony_source(lab: Lab, client: Host | str, server_address: str, timeout: float = 30.0) -> dict[str, str]:
    """Wait (bounded) until the client's chronyd has selected the server; return its tracking."""
    deadline = time.monotonic() + timeout
    while True:
        tracking = chrony_tracking(lab, client)
        if tracking.get("Leap status") == "Normal" and f"({server_address})" in tracking.get("Reference ID", ""):
            return tracking
        if time.monotonic() >= deadline:
            raise LabError(f"chronyd on {client} did not select {server_address} within {timeout:.0f} s: {tracking}")
        time.sleep(0.25)


def wait_for_timesyncd_contact(lab: Lab, host: Host | str, timeout: float = 30.0) -> dict[str, str]:
    """Wait (bounded) until timesyncd got an NTP answer; return ``timedatectl show-timesync``."""
    deadline = time.monotonic() + timeout
    while True:
        completed = lab.exec(host, ["timedatectl", "show-timesync", "--all"])
        fields = dict(line.split("=", 1) for line in completed.stdout.splitlines() if "=" in line)
        if "Stratum=" in fields.get("NTPMessage", ""):
            return fields
        if time.monotonic() >= deadline:
            raise LabError(f"systemd-timesyncd on {host} got no NTP answer within {timeout:.0f} s")
        time.sleep(0.25)


def unit_states(lab: Lab, host: Host | str, unit: str) -> dict[str, str]:
    completed = lab.exec(
        host, ["systemctl", "show", "--property=LoadState,ActiveState,SubState,UnitFileState", unit], check=True
    )
    return dict(line.split("=", 1) for line in completed.stdout.splitlines() if "=" in line)
