"""Record the raw outputs the NTP normalizers parse, from lab hosts in each state.

    sudo python tests/integration/ntp_record.py tests/unit/data/ntp

boots a chrony server, a chrony client, a systemd-timesyncd host and an ntpsec host, brings each into the states the unit tests cover, and writes one directory per
state with exactly the commands the modules run (file name = observation name). Addresses of
lab hosts in the output are replaced by documentation addresses (RFC 5737) so that the
test data names no real host.
"""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import Any

from lab import Lab

import ntp_lab

UNITS = (
    "chrony.service",
    "chronyd.service",
    "systemd-timesyncd.service",
    "ntpsec.service",
    "ntp.service",
    "ntpd.service",
)
NTPQ_VARIABLES = "rv 0 stratum,offset,rootdelay,rootdisp,leap"


def address_forms(real: str, documentation: str) -> dict[str, str]:
    """The dotted, reference-ID (big-endian hex) and /proc/net/udp (little-endian hex) forms."""
    forms = {real: documentation}
    real_bytes, doc_bytes = ipaddress.IPv4Address(real).packed, ipaddress.IPv4Address(documentation).packed
    forms[real_bytes.hex().upper()] = doc_bytes.hex().upper()
    forms[real_bytes[::-1].hex().upper()] = doc_bytes[::-1].hex().upper()
    return forms


def record(lab: Lab, host: str, dest: Path, replacements: dict[str, str]) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    commands = {
        **{"unit." + unit: ["systemctl", "show", "--property=LoadState,ActiveState,SubState,UnitFileState", unit]
           for unit in UNITS},
        "timedatectl_show": ["timedatectl", "show"],
        "chronyc_tracking": ["chronyc", "-n", "tracking"],
        "chronyc_serverstats": ["chronyc", "-n", "serverstats"],
        "timesync_show": ["timedatectl", "show-timesync", "--all"],
        "ntpq_rv": ["ntpq", "-n", "-c", NTPQ_VARIABLES],
    }
    for name, argv in commands.items():
        if name == "timesync_show" and "ActiveState=active" not in (dest / "unit.systemd-timesyncd.service").read_text():
            continue  # would bus-activate timesyncd
        if name == "ntpq_rv" and "ActiveState=active" not in (dest / "unit.ntpsec.service").read_text():
            continue  # ntpq waits for its timeout when no ntpd answers
        completed = lab.exec(host, ["sh", "-c", 'command -v "$1" >/dev/null || exit 127; exec "$@"', "x", *argv])
        (dest / name).write_text(scrub(completed.stdout, replacements))
        (dest / (name + ".rc")).write_text(f"{completed.returncode}\n")
    udp = lab.exec(host, ["cat", "/proc/net/udp", "/proc/net/udp6"]).stdout
    (dest / "proc_net_udp").write_text(scrub(udp, replacements))


def scrub(text: str, replacements: dict[str, str]) -> str:
    for real, documentation in replacements.items():
        for real_form, documentation_form in address_forms(real, documentation).items():
            text = text.replace(real_form, documentation_form)
    return text


def main(dest: Path) -> None:
    with Lab() as lab:
        subnet = str(lab.network.subnet)
        server, client = lab.boot(["ntp-server", "ntp-client"], provision=None)
        replacements = {server.address: "192.0.2.10", client.address: "192.0.2.20"}
        ntp_lab.write_host_file(lab, server, "etc/chrony/chrony.conf", ntp_lab.CHRONY_CONF)
        ntp_lab.write_host_file(lab, server, ntp_lab.SERVER_CONF, f"local stratum 8\nallow {subnet}\n")
        lab.exec(server, ["systemctl", "restart", "chrony"], check=True)
        ntp_lab.write_host_file(lab, client, "etc/chrony/chrony.conf", ntp_lab.CHRONY_CONF)
        lab.exec(client, ["systemctl", "restart", "chrony"], check=True)
        record(lab, "ntp-client", dest / "chrony-client-no-source", replacements)
        ntp_lab.point_chrony_at(lab, client, server.address)
        ntp_lab.wait_for_chrony_source(lab, client, server.address)
        record(lab, "ntp-server", dest / "chrony-server-local-stratum", replacements)
        record(lab, "ntp-client", dest / "chrony-client-synchronized", replacements)
        lab.exec(client, ["systemctl", "stop", "chrony"], check=True)
        record(lab, "ntp-client", dest / "chrony-stopped", replacements)
        lab.exec(client, ["systemctl", "mask", "chrony"], check=True)
        record(lab, "ntp-client", dest / "chrony-masked", replacements)

        def client(name: str, flavor: str, documentation_address: str, point_at: Any) -> Any:
            """Boot a client of ``flavor``, name its address in the recordings, point it at the server."""
            (host,) = lab.boot([name], flavor=flavor)
            replacements[host.address] = documentation_address
            point_at(lab, host, server.address)
            return host

        timesyncd = client("ntp-timesyncd", ntp_lab.TIMESYNCD_FLAVOR, "192.0.2.30", ntp_lab.point_timesyncd_at)
        ntp_lab.wait_for_timesyncd_contact(lab, timesyncd)
        record(lab, "ntp-timesyncd", dest / "timesyncd-active", replacements)
        lab.exec(timesyncd, ["systemctl", "stop", "systemd-timesyncd"], check=True)
        record(lab, "ntp-timesyncd", dest / "timesyncd-stopped", replacements)

        ntpsec = client("ntp-ntpsec", ntp_lab.NTPSEC_FLAVOR, "192.0.2.40", ntp_lab.point_ntpsec_at)
        record(lab, "ntp-ntpsec", dest / "ntpsec-unsynchronized", replacements)
        ntp_lab.wait_for_ntpsec_sync(lab, ntpsec)
        record(lab, "ntp-ntpsec", dest / "ntpsec-synchronized", replacements)
        lab.exec(ntpsec, ["systemctl", "stop", "ntpsec"], check=True)
        (dest / "ntpsec-stopped").mkdir(parents=True, exist_ok=True)
        # ntpq exits 0 and prints nothing on stdout when no ntpd answers.
        (dest / "ntpsec-stopped" / "ntpq_rv").write_text(ntp_lab.ntpq_variables(lab, ntpsec))
        (dest / "ntpsec-stopped" / "ntpq_rv.rc").write_text("0\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
