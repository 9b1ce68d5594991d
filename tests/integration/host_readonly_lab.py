"""Lab hosts for the Docker unit and security posture slices, and the states tests put them in.

Built with the lab's public API only. Two cached flavors (built once per machine, about 15 s
each, kept in the lab cache outside the repository):

- ``docker-vfs``: docker.io with the daemon.json a lab host can run (vfs storage, no iptables,
  no bridge). Cheaper than installing into each host's overlay (~10 s per host, every run).
- ``security-posture``: unattended-upgrades with apt-daily-upgrade.timer unmasked (the base
  rootfs masks it), and two local flat apt repositories whose lists are already fetched: one
  labelled ``Debian-Security``/``bookworm-security`` offering newer gzip and procps, one
  ``bookworm-updates`` offering a newer bash. Versions are the installed ones plus
  ``+tecraxlab1``, so they stay newer whatever point release the base rootfs has. Moving a
  repository's sources file aside makes apt ignore it again (and its caches stale). apt's binary
  caches are rebuilt for all sources at the end, as `apt update` leaves them on a real host.

Kernel settings are global to the machine and read-only inside a host, so a host is made to
see another value by bind-mounting a file over ``/proc/sys/kernel/<name>`` inside that host's
own mount namespace (``lab.exec`` runs there); the machine's sysctls are never written.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from lab import Flavor, Host, Lab, LabError, chroot_run, chroot_session, write_file

DAEMON_JSON = json.dumps(
    {"storage-driver": "vfs", "iptables": False, "ip6tables": False, "bridge": "none", "ip-forward": False}
)
DOCKER_UNITS = ("docker.socket", "docker.service")


def _provision_docker(root: Path) -> None:
    write_file(root, "etc/docker/daemon.json", DAEMON_JSON + "\n")


DOCKER_FLAVOR = Flavor("docker-vfs", packages=("docker.io",), provision=_provision_docker, revision=1)

APT_REPO_DIR = "srv/tecrax-lab-apt"
SECURITY_SOURCES = "etc/apt/sources.list.d/tecrax-lab-security.list"
UPDATES_SOURCES = "etc/apt/sources.list.d/tecrax-lab-updates.list"
PARKED = ".parked"
# repository -> (suite, label, packages offered in a newer version)
LAB_REPOSITORIES = {
    "security": ("bookworm-security", "Debian-Security", ("gzip", "procps")),
    "updates": ("bookworm-updates", "Debian", ("bash",)),
}
AUTO_UPGRADES = "etc/apt/apt.conf.d/20auto-upgrades"
AUTO_UPGRADES_ON = 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n'
AUTO_UPGRADES_OFF = 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "0";\n'


def _packages_stanza(root: Path, package: str) -> str:
    version, architecture = chroot_run(root, ["dpkg-query", "-W", "-f=${Version} ${Architecture}", package]).split()
    return (
        f"Package: {package}\nVersion: {version}+tecraxlab1\nArchitecture: {architecture}\n"
        "Maintainer: Tecrax lab <lab@tecrax.invalid>\nInstalled-Size: 1\n"
        f"Filename: pool/{package}.deb\nSize: 1\n"
        "SHA256: 0000000000000000000000000000000000000000000000000000000000000000\n"
        "Description: lab fixture (never installed: only apt-get -s reads it)\n\n"
    )


def _provision_security(root: Path) -> None:
    (root / "etc/systemd/system/apt-daily-upgrade.timer").unlink(missing_ok=True)  # the rootfs masks it
    write_file(root, AUTO_UPGRADES, AUTO_UPGRADES_ON)
    with chroot_session(root):
        for name, (suite, label, packages) in LAB_REPOSITORIES.items():
            directory = f"{APT_REPO_DIR}/{name}"
            write_file(root, f"{directory}/Release",
                       f"Origin: Debian\nLabel: {label}\nSuite: {suite}\nCodename: {suite}\n"
                       "Architectures: amd64 arm64 all\nDescription: tecrax lab fixture\n")
            write_file(root, f"{directory}/Packages", "".join(_packages_stanza(root, p) for p in packages))
            sources = SECURITY_SOURCES if name == "security" else UPDATES_SOURCES
            write_file(root, sources, f"deb [trusted=yes] file:/{directory} ./\n")
            # Fetch this repository's lists only; keep every other list as it is.
            chroot_run(root, ["apt-get", "update", "-q", "-o", f"Dir::Etc::sourcelist=/{sources}",
                              "-o", "Dir::Etc::sourceparts=-", "-o", "APT::Get::List-Cleanup=0"])
        # Those updates left caches of one source list each; a host after `apt update` has
        # valid caches of all its sources, which the posture observation then reads.
        chroot_run(root, ["apt-cache", "gencaches"])


SECURITY_FLAVOR = Flavor("security-posture", packages=("unattended-upgrades",),
                         provision=_provision_security, revision=2)


# --- states of a running host ------------------------------------------------------------


def sh(lab: Lab, host: Host | str, script: str, *args: str) -> str:
    """Run a shell script inside the host (nsenter, no SSH); fail loudly."""
    completed = lab.exec(host, ["sh", "-ec", script, "lab", *args])
    if completed.returncode != 0:
        raise LabError(f"lab host script failed ({completed.returncode}): {script}\n{completed.stderr}")
    return completed.stdout


def unit_state(lab: Lab, host: Host | str, unit: str) -> dict[str, str]:
    out = lab.exec(host, ["systemctl", "show", "--property=LoadState,ActiveState,SubState,UnitFileState,Result",
                          unit]).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def wait_for_unit(lab: Lab, host: Host | str, unit: str, active: str, sub: str,
                  timeout: float = 60.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        state = unit_state(lab, host, unit)
        if state.get("ActiveState") == active and state.get("SubState") == sub:
            return state
        if time.monotonic() >= deadline:
            raise LabError(f"{unit} on {host} did not reach {active}/{sub} within {timeout:.0f} s: {state}")
        time.sleep(0.2)


def docker_running(lab: Lab, host: Host | str) -> None:
    write_host_file(lab, host, "etc/docker/daemon.json", DAEMON_JSON + "\n")
    sh(lab, host, "systemctl reset-failed docker.service docker.socket; systemctl start docker.socket docker.service")
    wait_for_unit(lab, host, "docker.service", "active", "running")


def docker_stopped(lab: Lab, host: Host | str) -> None:
    write_host_file(lab, host, "etc/docker/daemon.json", DAEMON_JSON + "\n")
    sh(lab, host, "systemctl reset-failed docker.service docker.socket; systemctl stop docker.socket docker.service")
    wait_for_unit(lab, host, "docker.service", "inactive", "dead")


def docker_failed(lab: Lab, host: Host | str) -> None:
    """A broken daemon.json and a restart: dockerd exits until systemd gives up (failed)."""
    write_host_file(lab, host, "etc/docker/daemon.json", "{broken\n")
    sh(lab, host, "systemctl restart docker.service || true")
    wait_for_unit(lab, host, "docker.service", "failed", "failed", timeout=90.0)


def write_host_file(lab: Lab, host: Host | str, relative: str, content: str) -> None:
    lab.exec(host, ["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "write", "/" + relative],
             input_text=content, check=True)


def set_unattended_upgrades(lab: Lab, host: Host | str, enabled: bool) -> None:
    write_host_file(lab, host, AUTO_UPGRADES, AUTO_UPGRADES_ON if enabled else AUTO_UPGRADES_OFF)


def set_repository(lab: Lab, host: Host | str, sources: str, active: bool, *, refresh_caches: bool = True) -> None:
    """Make apt use (or ignore) one lab repository; its lists stay on the host either way.

    When that changes the sources, apt's binary caches are rebuilt for them, as `apt update`
    would on a real host, unless ``refresh_caches`` is false (they are then stale)."""
    source, parked = "/" + sources, "/" + sources + PARKED
    moved, kept = (parked, source) if active else (source, parked)
    refresh = "apt-cache gencaches >/dev/null" if refresh_caches else ":"
    sh(lab, host, f'if [ -e "$1" ]; then mv "$1" "$2"; {refresh}; fi', moved, kept)


def set_reboot_marker(lab: Lab, host: Host | str, packages: tuple[str, ...] | None) -> None:
    """Write /var/run/reboot-required (+ .pkgs) as Debian's package scripts do, or remove it."""
    if packages is None:
        sh(lab, host, "rm -f /var/run/reboot-required /var/run/reboot-required.pkgs")
        return
    write_host_file(lab, host, "var/run/reboot-required", "*** System restart required ***\n")
    write_host_file(lab, host, "var/run/reboot-required.pkgs", "".join(p + "\n" for p in packages))


SYSCTL_OVERRIDES = "run/tecrax-lab-sysctl"


def override_sysctl(lab: Lab, host: Host | str, name: str, value: int) -> None:
    """Make the host (only) read ``value`` from /proc/sys/kernel/<name>."""
    clear_sysctl(lab, host, name)
    sh(lab, host, 'mkdir -p "$1" && echo "$3" > "$1/$2" && mount --bind "$1/$2" "/proc/sys/kernel/$2"',
       "/" + SYSCTL_OVERRIDES, name, str(value))


def clear_sysctl(lab: Lab, host: Host | str, name: str) -> None:
    """Remove every override of /proc/sys/kernel/<name> in the host."""
    sh(lab, host, 'while grep -q " /proc/sys/kernel/$1 " /proc/self/mountinfo; do umount "/proc/sys/kernel/$1"; done',
       name)


def read_sysctl(lab: Lab, host: Host | str, name: str) -> int:
    return int(sh(lab, host, 'cat "/proc/sys/kernel/$1"', name).strip())


def machine_sysctl(name: str) -> int:
    return int(Path("/proc/sys/kernel", name).read_text().strip())
