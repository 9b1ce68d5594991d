"""A stand-in for chronyd, chronyc, systemctl and /proc behind ChronyHost's argv runner.

The unit tests run the real ChronyHost (real files, atomic writes, backup records) in a
temporary directory; only the commands are simulated. The simulation follows what chrony
4.3 on Debian does (recorded on lab hosts): ``chronyd -p`` prints the configuration with
conf.d expanded and exits 1 on an unknown directive, ``chronyc accheck`` answers 208/209
with exit status 0, and chronyd binds UDP 123 only when it has allow lines and no
``port 0``. Faults are switches on the object. The lab integration tests run the real thing.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from pathlib import Path

from ansible_collections.tecrax.ops.plugins.module_utils.ntp.chrony_ntp_server_host import Binaries, ChronyHost, Paths

KNOWN_DIRECTIVES = {"allow", "deny", "port", "local", "server", "pool", "confdir", "driftfile", "makestep"}


class FakeChrony:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.conf_dir = root / "etc" / "chrony" / "conf.d"
        self.conf_dir.mkdir(parents=True)
        self.state_dir = root / "var" / "lib" / "tecrax" / "chrony-ntp-server"
        self.proc = root / "proc"
        (self.proc / "net").mkdir(parents=True)
        self.main_conf = root / "etc" / "chrony" / "chrony.conf"
        self.main_conf.write_text("driftfile /var/lib/chrony/chrony.drift\n")
        self.active = True
        self.pid = 100
        self.loaded: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.listening = False
        self.calls: list[list[str]] = []
        self.installed = True
        # Faults: restart fails when this returns True for the configuration text.
        self.restart_fails_when: Callable[[str], bool] = lambda config: False
        self.crash_after_restart = False
        self.interrupt_on: str | None = None  # raise KeyboardInterrupt on this command
        self._publish()

    @property
    def paths(self) -> Paths:
        return Paths(
            managed_file=str(self.conf_dir / "tecrax-ntp-server.conf"),
            conf_dir=str(self.conf_dir),
            state_dir=str(self.state_dir),
            proc=str(self.proc),
        )

    @property
    def managed(self) -> Path:
        return self.conf_dir / "tecrax-ntp-server.conf"

    def host(self) -> ChronyHost:
        clock = [0.0]

        def sleep(seconds: float) -> None:
            clock[0] += seconds

        binaries = Binaries("/usr/sbin/chronyd", "/usr/bin/chronyc", "/usr/bin/systemctl")
        if not self.installed:
            binaries = Binaries(None, None, "/usr/bin/systemctl")
        return ChronyHost(self.run, binaries, self.paths, sleep=sleep, clock=lambda: clock[0])

    def restarts(self) -> int:
        return sum(1 for call in self.calls if call[1:2] == ["restart"])

    # --- the commands ---------------------------------------------------------------------

    def run(self, argv: list[str]) -> tuple[int, str, str]:
        self.calls.append(list(argv))
        command = os.path.basename(argv[0])
        if self.interrupt_on and self.interrupt_on in " ".join([command, *argv[1:]]):
            raise KeyboardInterrupt(self.interrupt_on)
        if command == "chronyd" and argv[1:3] == ["-p", "-f"]:
            return self._parse([Path(argv[3])])
        if command == "chronyd" and argv[1:] == ["-p"]:
            return self._parse([self.main_conf, *sorted(self.conf_dir.glob("*.conf"))])
        if command == "systemctl" and argv[1] == "restart":
            return self._restart()
        if command == "systemctl" and argv[1] == "show":
            if not self.installed:
                return 0, "LoadState=not-found\nActiveState=inactive\nSubState=dead\nMainPID=0\n", ""
            state = "active\nSubState=running" if self.active else "failed\nSubState=failed"
            return 0, "LoadState=loaded\nActiveState=%s\nMainPID=%d\n" % (state, self.pid if self.active else 0), ""
        if command == "chronyc" and argv[1:3] == ["-n", "accheck"]:
            if not self.active:
                return 1, "", "506 Cannot talk to daemon\n"
            address = ipaddress.ip_address(argv[3])
            allowed = any(address in network for network in self.loaded)
            return 0, "208 Access allowed\n" if allowed else "209 Access denied\n", ""
        raise AssertionError("unexpected command: %r" % argv)

    def _parse(self, files: list[Path]) -> tuple[int, str, str]:
        lines = []
        for path in files:
            for number, line in enumerate(path.read_text().splitlines(), 1):
                words = line.split()
                if not words or words[0].startswith("#"):
                    continue
                if words[0] not in KNOWN_DIRECTIVES:
                    return 1, "\n".join(lines), "Fatal error : Invalid directive at line %d in file %s\n" % (number, path)
                lines.append(" ".join(words))
        return 0, "\n".join(lines) + "\n", ""

    def _restart(self) -> tuple[int, str, str]:
        rc, config, _err = self._parse([self.main_conf, *sorted(self.conf_dir.glob("*.conf"))])
        if rc != 0 or self.restart_fails_when(config):
            self.active = False
            self.listening = False
            self._publish()
            return 1, "", "Job for chrony.service failed because the control process exited with error code.\n"
        self.pid += 1
        self.active = not self.crash_after_restart
        self.loaded = [
            ipaddress.ip_network(line.split()[1], strict=False) for line in config.splitlines() if line.startswith("allow ")
        ]
        self.listening = self.active and bool(self.loaded) and "port 0" not in config.splitlines()
        self._publish()
        return 0, "", ""

    def _publish(self) -> None:
        """/proc/net/udp{,6} and /proc/<pid>/fd as the kernel would show them."""
        header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        rows = "   0: 0100007F:0143 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 7000 2\n"
        if self.listening:
            rows += "   1: 00000000:007B 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 %d 2\n" % (
                8000 + self.pid)
        (self.proc / "net" / "udp").write_text(header + rows)
        (self.proc / "net" / "udp6").write_text(header)
        fd_dir = self.proc / str(self.pid) / "fd"
        fd_dir.mkdir(parents=True, exist_ok=True)
        for link in fd_dir.iterdir():
            link.unlink()
        (fd_dir / "0").symlink_to("/dev/null")
        (fd_dir / "3").symlink_to("socket:[7000]")
        if self.listening:
            (fd_dir / "5").symlink_to("socket:[%d]" % (8000 + self.pid))
