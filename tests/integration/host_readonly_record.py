"""Record the raw outputs the Docker unit and security posture normalizers parse, from lab hosts.

    sudo python tests/integration/host_readonly_record.py tests/unit/data

boots a docker-vfs host, a security-posture host and a plain host, brings them into the
states the unit tests cover, and (re)writes tests/unit/data/docker_service_health/*.txt and
tests/unit/data/host_security_posture/*.txt with the standard output of exactly the commands
the modules run. An unexpected exit status stops the recording. The lab hosts talk to
nothing outside the lab; the recorded text names no address.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from lab import Host, Lab, LabError, ensure_rootfs

import host_readonly_lab as hl

SHOW = ["systemctl", "show", "--no-pager", "--property=Id,LoadState,ActiveState,SubState,UnitFileState,Result"]
DOCKER_SHOW = [*SHOW, "docker.service", "docker.socket"]
UNITS_SHOW = [*SHOW, "apt-daily-upgrade.timer", "unattended-upgrades.service"]
DPKG_STATUS = ["dpkg-query", "-W", "-f=${db:Status-Status}\\n", "unattended-upgrades"]
APT_PERIODIC = ["apt-config", "dump", "APT::Periodic"]
APT_SIMULATE = ["apt-get", "-s", "-q", "-o", "Debug::NoLocking=true", "-o", "Dir::Cache::pkgcache=",
                "-o", "Dir::Cache::srcpkgcache=", "dist-upgrade"]
C_LOCALE = ["env", "LC_ALL=C", "LANG=C"]


class Recorder:
    def __init__(self, lab: Lab, dest: Path) -> None:
        self.lab = lab
        self.dest = dest
        dest.mkdir(parents=True, exist_ok=True)

    def record(self, host: Host, name: str, argv: Sequence[str], rc: int = 0) -> str:
        completed = self.lab.exec(host, [*C_LOCALE, *argv])
        if completed.returncode != rc:
            raise LabError(f"{name}: {' '.join(argv)} exited {completed.returncode}, expected {rc}:\n"
                           f"{completed.stderr}")
        (self.dest / name).write_text(completed.stdout)
        print(f"recorded {self.dest.name}/{name}", file=sys.stderr)
        return completed.stdout


def wait_for_output(lab: Lab, host: Host, argv: Sequence[str], needle: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while needle not in lab.exec(host, list(argv)).stdout:
        if time.monotonic() >= deadline:
            raise LabError(f"{needle!r} did not appear in {' '.join(argv)} within {timeout:.0f} s")
        time.sleep(0.05)


def record_docker(lab: Lab, docker: Host, plain: Host, dest: Path) -> None:
    rec = Recorder(lab, dest)
    hl.docker_running(lab, docker)
    rec.record(docker, "running.txt", DOCKER_SHOW)
    hl.sh(lab, docker, "systemctl disable docker.service docker.socket")
    rec.record(docker, "running-disabled.txt", DOCKER_SHOW)
    hl.sh(lab, docker, "systemctl enable docker.service docker.socket")
    hl.sh(lab, docker, "systemctl stop docker.service")
    hl.wait_for_unit(lab, docker, "docker.service", "inactive", "dead")
    rec.record(docker, "service-stopped-socket-listening.txt", DOCKER_SHOW)
    hl.docker_stopped(lab, docker)
    rec.record(docker, "stopped.txt", DOCKER_SHOW)
    hl.docker_failed(lab, docker)
    rec.record(docker, "failed.txt", DOCKER_SHOW)
    # Between two crashes systemd waits RestartSec before the next try: activating/auto-restart.
    hl.sh(lab, docker, "systemctl reset-failed docker.service docker.socket; systemctl start docker.socket")
    hl.sh(lab, docker, "systemctl start docker.service || true")
    wait_for_output(lab, docker, ["systemctl", "show", "--property=SubState", "docker.service"],
                    "SubState=auto-restart")
    rec.record(docker, "auto-restart.txt", DOCKER_SHOW)
    hl.docker_stopped(lab, docker)
    hl.sh(lab, docker, "systemctl disable docker.service docker.socket; systemctl mask docker.service")
    rec.record(docker, "masked.txt", DOCKER_SHOW)
    rec.record(plain, "not-installed.txt", DOCKER_SHOW)
    # Not booted: the same command in a chroot of the base rootfs (read-only use of the tree).
    completed = subprocess.run(["chroot", str(ensure_rootfs()), *DOCKER_SHOW], capture_output=True, text=True,
                               check=False, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"})
    if completed.returncode != 1 or "not been booted with systemd" not in completed.stderr:
        raise LabError(f"systemctl in a chroot: exit {completed.returncode}: {completed.stderr}")
    (dest / "systemd-not-running.txt").write_text(completed.stdout)


def record_security(lab: Lab, main: Host, plain: Host, dest: Path) -> None:
    rec = Recorder(lab, dest)
    rec.record(main, "dpkg-status-installed.txt", DPKG_STATUS)
    rec.record(main, "apt-periodic-debian-default.txt", APT_PERIODIC)
    hl.set_unattended_upgrades(lab, main, False)
    rec.record(main, "apt-periodic-disabled.txt", APT_PERIODIC)
    hl.sh(lab, main, "rm /" + hl.AUTO_UPGRADES)
    hl.write_host_file(lab, main, "etc/apt/apt.conf.d/10tecrax-lab-off",
                       'APT::Periodic::Enable "0";\nAPT::Periodic::Unattended-Upgrade "1";\n')
    rec.record(main, "apt-periodic-master-switch-off.txt", APT_PERIODIC)
    hl.sh(lab, main, "rm /etc/apt/apt.conf.d/10tecrax-lab-off")
    rec.record(main, "apt-periodic-unset.txt", APT_PERIODIC)
    hl.set_unattended_upgrades(lab, main, True)

    rec.record(main, "units-enabled.txt", UNITS_SHOW)
    hl.sh(lab, main, "systemctl stop apt-daily-upgrade.timer; systemctl mask apt-daily-upgrade.timer")
    rec.record(main, "units-timer-masked.txt", UNITS_SHOW)
    hl.sh(lab, main, "systemctl unmask apt-daily-upgrade.timer; systemctl start apt-daily-upgrade.timer")
    rec.record(plain, "units-not-installed.txt", UNITS_SHOW)

    rec.record(plain, "apt-simulate-none.txt", APT_SIMULATE)
    # Only the lab repositories: Debian's own lists may offer updates depending on the day.
    hl.sh(lab, main, "mv /etc/apt/sources.list /etc/apt/sources.list.parked")
    hl.set_repository(lab, main, hl.SECURITY_SOURCES, True)
    hl.set_repository(lab, main, hl.UPDATES_SOURCES, True)
    rec.record(main, "apt-simulate-pending.txt", APT_SIMULATE)
    hl.sh(lab, main, "mv /etc/apt/sources.list.parked /etc/apt/sources.list")
    hl.write_host_file(lab, main, "etc/apt/sources.list.d/zz-broken.list", "deb broken\n")
    rec.record(main, "apt-simulate-malformed-sources.txt", APT_SIMULATE, rc=100)
    hl.sh(lab, main, "rm /etc/apt/sources.list.d/zz-broken.list")

    # Last: removing the package cannot be undone without a network.
    hl.sh(lab, main, "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q unattended-upgrades >/dev/null")
    rec.record(main, "dpkg-status-config-files.txt", DPKG_STATUS)


def main(data: Path) -> None:
    with Lab() as lab:
        docker = lab.add_host("rec-docker", flavor=hl.DOCKER_FLAVOR)
        main_host = lab.add_host("rec-security", flavor=hl.SECURITY_FLAVOR)
        (plain,) = lab.boot(["rec-plain"])
        record_docker(lab, docker, plain, data / "docker_service_health")
        record_security(lab, main_host, plain, data / "host_security_posture")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
