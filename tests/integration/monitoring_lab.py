"""A monitoring host in the lab: Docker, unattended upgrades and a chrony that both follows an
NTP source and serves the lab's /24, as the diagnosis tests and its benchmark need it.

Built with the lab's public API and the existing slice helpers (host_readonly_lab: Docker and
security posture states; ntp_lab: chrony configuration). One cached flavor, built once per
machine like the others: docker.io and unattended-upgrades with both slices' provisioning.
"""

from __future__ import annotations

from pathlib import Path

import host_readonly_lab as hl
import ntp_lab
from lab import Flavor, Host, Lab


def _provision_monitoring(root: Path) -> None:
    for flavor in (hl.DOCKER_FLAVOR, hl.SECURITY_FLAVOR):
        assert flavor.provision is not None
        flavor.provision(root)


MONITORING_FLAVOR = Flavor("monitoring-host", packages=("docker.io", "unattended-upgrades"),
                           provision=_provision_monitoring, revision=2)


def serve_ntp(lab: Lab, host: Host | str) -> None:
    """Make ``host``'s chrony an NTP server of the lab's /24 from its local clock."""
    ntp_lab.write_host_file(lab, host, "etc/chrony/chrony.conf", ntp_lab.CHRONY_CONF)
    ntp_lab.write_host_file(lab, host, ntp_lab.SERVER_CONF,
                            f"local stratum {ntp_lab.SERVER_STRATUM}\nallow {lab.network.subnet}\n")
    lab.exec(host, ["systemctl", "restart", "chrony.service"], check=True)


def boot_monitoring_host(lab: Lab, name: str, ntp_source: Host) -> Host:
    """A monitoring host whose every host-local component is healthy (see ``make_healthy``)."""
    host = lab.add_host(name, flavor=MONITORING_FLAVOR, provision=ntp_lab.provision_chrony_client)
    # It serves the lab too, so that its NTP server side is observed healthy.
    ntp_lab.write_host_file(lab, host, ntp_lab.SERVER_CONF, f"allow {lab.network.subnet}\n")
    ntp_lab.point_chrony_at(lab, host, ntp_source.address)
    make_healthy(lab, host, ntp_source)
    return host


def make_healthy(lab: Lab, host: Host, ntp_source: Host) -> None:
    """chrony running and synchronized to ``ntp_source``, docker running, unattended upgrades on,
    no pending security update, full ASLR, restricted dmesg, no reboot marker."""
    lab.start_service(host, "chrony")
    ntp_lab.wait_for_chrony_source(lab, host, ntp_source.address, timeout=60.0)
    hl.docker_running(lab, host)
    hl.set_unattended_upgrades(lab, host, True)
    hl.set_repository(lab, host, hl.SECURITY_SOURCES, False)
    hl.set_repository(lab, host, hl.UPDATES_SOURCES, False)
    hl.set_reboot_marker(lab, host, None)
    hl.override_sysctl(lab, host, "randomize_va_space", 2)
    hl.override_sysctl(lab, host, "dmesg_restrict", 1)


def restore(lab: Lab, host: Host) -> None:
    """Remove the kernel setting overrides (they live in the host's mount namespace only)."""
    for name in ("randomize_va_space", "dmesg_restrict"):
        hl.clear_sysctl(lab, host, name)
