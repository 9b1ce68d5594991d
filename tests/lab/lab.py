"""A lab: one /24 and a bridge, with Debian hosts booted by systemd-nspawn on it.

Every resource is recorded in the lab's state dir before it is created, and torn down
by PID and by name derived from the lab's slot, never by process name: other labs
(other test runs, other engineers) may be running on the same machine.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

from lab import nspawn, settings
from lab.cgroups import create_host_cgroups, remove_host_cgroups
from lab.chroot import write_file
from lab.commands import run
from lab.errors import CommandError, LabError, text_tail
from lab.inventory import write_inventory
from lab.model import Host, HostRecord, LabPaths, LabState, check_host_name
from lab.mounts import mount_overlay, remove_tree
from lab.network import (
    LabNetwork,
    SlotRecord,
    SlotRegistry,
    attach_host,
    create_bridge,
    delete_link,
    delete_namespace,
    forget_neighbor,
    set_link_up,
    usable_on_this_machine,
)
from lab.processes import ProcessRef
from lab.rootfs import Flavor, Provisioner, ensure_layers
from lab.settings import progress
from lab.ssh import command_argv as ssh_command_argv
from lab.ssh import generate_key, known_hosts_line

SSH_PORT = 22
SSH_USER = "root"
# How long a host may take to answer SSH and finish booting (a few seconds normally): a
# generous deadline for a loaded 2-core machine booting a heavy flavor, not a measurement.
DEFAULT_BOOT_TIMEOUT = 240.0
STOP_TIMEOUT = 15.0
READY_STATES = ("running", "degraded")
# ssh failures that retrying will not fix (anything else while booting: sshd not up yet).
_FATAL_SSH_ERRORS = ("Host key verification failed", "Permission denied", "IDENTIFICATION HAS CHANGED")
# nspawn leaves this behind when /run is not a tmpfs (it only deletes trees on tmpfs).
NSPAWN_PROPAGATE_DIR = Path("/run/systemd/nspawn/propagate")
HOST_ENV = {"PATH": nspawn.CLEAN_PATH, "LANG": "C.UTF-8"}
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_REQUIRED_TOOLS = {
    "systemd-nspawn": "systemd-container",
    "debootstrap": "debootstrap",
    "ip": "iproute2",
    "nsenter": "util-linux",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
}


def missing_requirements() -> list[str]:
    """Why lab hosts cannot run here (empty when they can)."""
    problems = []
    if os.geteuid() != 0:
        problems.append("lab hosts need root (network namespaces, mounts, bridges)")
    for tool, package in _REQUIRED_TOOLS.items():
        if shutil.which(tool) is None:
            problems.append(f"{tool} is missing (apt-get install {package})")
    return problems


def require_lab_support() -> None:
    problems = missing_requirements()
    if problems:
        raise LabError("lab hosts cannot run on this machine: " + "; ".join(problems))


# Every host's systemd, journald, logind and services take inotify instances (about 7 for a
# plain host, more for a Zabbix one), all counted against root. The kernel's default of 128
# per user let a session of some 25 hosts starve the next one: its systemd hung after
# systemd-update-utmp and SSH never answered.
INOTIFY_LIMITS = {"max_user_instances": 8192, "max_user_watches": 524288}


def raise_inotify_limits(sysctl_dir: Path = Path("/proc/sys/fs/inotify")) -> dict[str, int]:
    """Raise the machine's inotify limits to at least INOTIFY_LIMITS; return what was raised."""
    raised: dict[str, int] = {}
    for name, wanted in INOTIFY_LIMITS.items():
        path = sysctl_dir / name
        try:
            current = int(path.read_text().strip())
            if current < wanted:
                path.write_text(f"{wanted}\n")
                raised[name] = current
        except (OSError, ValueError):
            continue
    if raised:
        progress("raised fs.inotify " + ", ".join(f"{name} {old} -> {INOTIFY_LIMITS[name]}" for name, old in raised.items()))
    return raised


def slot_registry() -> SlotRegistry:
    return SlotRegistry(settings.runtime_dir())


def _attempt(errors: list[str], description: str, step: Callable[[], object]) -> bool:
    """Run one teardown step; record its failure and go on with the others."""
    try:
        step()
        return True
    except (LabError, OSError, subprocess.SubprocessError) as error:
        errors.append(f"{description}: {error}")
        return False


class Lab:
    """Lab hosts on a private bridge. Use as a context manager, or start()/teardown().

    >>> with Lab() as lab:
    ...     alpha, beta = lab.boot(["alpha", "beta"])
    ...     lab.ssh(alpha, "hostname").stdout
    """

    def __init__(self, state_dir: Path | None = None, *, boot_timeout: float = DEFAULT_BOOT_TIMEOUT) -> None:
        self._requested_state_dir = state_dir
        self.boot_timeout = boot_timeout
        self.last_boot_seconds: float | None = None
        self._paths: LabPaths | None = None
        self._state: LabState | None = None
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._torn_down = False

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> Lab:
        """Take a free /24, create the state dir, the lab's SSH key and its bridge."""
        if self._state is not None:
            return self
        require_lab_support()
        raise_inotify_limits()
        state_dir = self._create_state_dir()
        try:
            network = slot_registry().allocate(state_dir, ProcessRef.current(), usable_on_this_machine())
        except BaseException:
            remove_tree(state_dir)
            raise
        self._paths = LabPaths(state_dir)
        self._state = LabState(slot=network.slot)
        self._save()
        atexit.register(self._teardown_at_exit)
        try:
            generate_key(self.private_key, f"tecrax-lab-{network.slot}")
            self.known_hosts.touch(mode=0o644)
            create_bridge(network)
        except BaseException:
            self.teardown()
            raise
        progress(f"lab {network.subnet} on bridge {network.bridge}, state in {state_dir}")
        return self

    @classmethod
    def attach(cls, state_dir: Path) -> Lab:
        """A lab another process started (e.g. `python -m lab up`), to use or tear down."""
        lab = cls(state_dir)
        lab._paths = LabPaths(state_dir.resolve())
        lab._state = LabState.load(lab.paths.state_file)
        return lab

    def detach(self) -> None:
        """Let the lab outlive this process: it then lives until `down` (or its hosts die)."""
        registry = slot_registry()
        with registry.locked():
            registry.write(SlotRecord(self.network.slot, self.state_dir, owner=None))
        atexit.unregister(self._teardown_at_exit)

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.teardown()

    def teardown(self, *, registry_locked: bool = False) -> None:
        """Stop every host, remove overlays, netns, veths, the bridge, the state dir and
        release the /24. Each step is tried even if others fail; failures are raised at
        the end (and the /24 stays reserved so `cleanup` can finish the job).

        `registry_locked`: the caller already holds the slot registry's lock."""
        if self._torn_down or self._state is None:
            return
        started = time.monotonic()
        errors: list[str] = []
        names = list(self.state.hosts)
        self._stop_hosts(names, force=False, errors=errors)
        for name in names:
            self._remove_host(name, errors)
        _attempt(errors, "delete bridge", lambda: delete_link(self.network.bridge))
        if not errors:
            _attempt(errors, "delete state dir", lambda: remove_tree(self.state_dir))
        if not errors:
            registry = slot_registry()
            with nullcontext() if registry_locked else registry.locked():
                registry.release(self.network.slot)
        self._torn_down = True
        atexit.unregister(self._teardown_at_exit)
        progress(f"lab {self.network.subnet} torn down in {time.monotonic() - started:.1f} s")
        if errors:
            raise LabError(
                "lab teardown incomplete (`python -m lab cleanup` retries once this process ended):\n  "
                + "\n  ".join(errors)
            )

    def _teardown_at_exit(self) -> None:
        try:
            self.teardown()
        except LabError as error:
            print(f"lab: {error}", file=sys.stderr)

    def _create_state_dir(self) -> Path:
        if self._requested_state_dir is None:
            parent = settings.runtime_dir() / "labs"
            parent.mkdir(parents=True, exist_ok=True)
            return Path(tempfile.mkdtemp(prefix="lab-", dir=parent))
        state_dir = self._requested_state_dir.resolve()
        if state_dir.exists() and any(state_dir.iterdir()):
            raise LabError(f"state dir {state_dir} is not empty (a lab there? `python -m lab down`)")
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return state_dir

    # --- what the lab is --------------------------------------------------------------

    @property
    def state(self) -> LabState:
        if self._state is None:
            raise LabError("the lab is not started (use `with Lab() as lab:` or lab.start())")
        return self._state

    @property
    def paths(self) -> LabPaths:
        if self._paths is None:
            raise LabError("the lab is not started (use `with Lab() as lab:` or lab.start())")
        return self._paths

    @property
    def network(self) -> LabNetwork:
        return LabNetwork(self.state.slot)

    @property
    def state_dir(self) -> Path:
        return self.paths.root

    @property
    def private_key(self) -> Path:
        return self.paths.private_key

    @property
    def known_hosts(self) -> Path:
        return self.paths.known_hosts

    @property
    def hosts(self) -> dict[str, Host]:
        return {name: self.host(name) for name in self.state.hosts}

    def host(self, name: str) -> Host:
        record = self._record(name)
        return Host(record.name, record.address, SSH_PORT, SSH_USER, self.private_key, self.known_hosts)

    def running_host_names(self) -> list[str]:
        return [name for name in self.state.hosts if self._nspawn_pid(name) is not None]

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (what `python -m lab up` prints)."""
        network = self.network
        return {
            "state_dir": str(self.state_dir),
            "subnet": str(network.subnet),
            "bridge": network.bridge,
            "controller_address": str(network.controller_address),
            "private_key": str(self.private_key),
            "known_hosts": str(self.known_hosts),
            "inventory": str(self.paths.inventory),
            "hosts": [
                {"name": host.name, "address": host.address, "port": host.port, "user": host.user}
                for host in self.hosts.values()
            ],
        }

    def write_inventory(self, path: Path | None = None) -> Path:
        """Write an Ansible YAML inventory of the lab's hosts (default: in the state dir)."""
        return write_inventory(path or self.paths.inventory, self.hosts.values())

    # --- booting ----------------------------------------------------------------------

    def add_host(self, name: str, *, flavor: Flavor | None = None, provision: Provisioner | None = None) -> Host:
        """Boot one host; see boot()."""
        return self.boot([name], flavor=flavor, provision=provision)[0]

    def boot(
        self,
        names: Sequence[str],
        *,
        flavor: Flavor | None = None,
        provision: Provisioner | None = None,
    ) -> list[Host]:
        """Boot hosts in parallel; return once each answers SSH and has finished booting.

        `flavor` picks cached extra layers; `provision(root)` runs on each host's tree
        before boot (write files, or use lab.chroot to install packages).
        """
        for name in names:
            check_host_name(name)
            if name in self.state.hosts or names.count(name) > 1:
                raise LabError(f"host {name!r} is already in the lab")
        if not names:
            return []
        layers = ensure_layers(flavor)
        started = time.monotonic()
        for name in names:
            self._prepare_and_launch(name, layers, provision)
        launched = time.monotonic()
        deadline = launched + self.boot_timeout
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            waits = {name: pool.submit(self._wait_until_ready, name, deadline) for name in names}
        failures = [f"{name}: {wait.exception()}" for name, wait in waits.items() if wait.exception()]
        if failures:
            raise LabError("lab hosts did not boot:\n" + "\n".join(failures))
        self.last_boot_seconds = max(wait.result() for wait in waits.values()) - started
        ready_times = ", ".join(f"{name} {wait.result() - launched:.1f} s" for name, wait in waits.items())
        progress(
            f"booted {len(names)} host(s) in {self.last_boot_seconds:.1f} s "
            f"(prepare {launched - started:.1f} s; ready after start: {ready_times})"
        )
        return [self.host(name) for name in names]

    def _prepare_and_launch(self, name: str, layers: Sequence[Path], provision: Provisioner | None) -> None:
        network, state = self.network, self.state
        index = state.next_index
        address = network.host_address(index)
        state.next_index += 1
        # Recorded before anything exists, so that teardown finds whatever got created.
        state.hosts[name] = HostRecord(name, index, str(address), [str(layer) for layer in layers])
        self._save()

        paths = self.paths.host(name)
        paths.root.mkdir(parents=True)
        mount_overlay(layers, paths.upper, paths.work, paths.merged)
        host_public_key = self._install_identity(name, paths.merged)
        with self.known_hosts.open("a") as known_hosts:
            known_hosts.write(known_hosts_line(str(address), SSH_PORT, host_public_key) + "\n")
        if provision is not None:
            provision(paths.merged)

        namespace = network.namespace(name)
        attach_host(network, namespace, network.veth(index), address)
        process = nspawn.launch(
            machine=namespace,
            hostname=name,
            root=paths.merged,
            namespace=namespace,
            console_log=paths.console_log,
            cgroup_procs=create_host_cgroups(namespace),
        )
        self._processes[name] = process
        paths.pid_file.write_text(f"{process.pid}\n")

    def _install_identity(self, name: str, root: Path) -> str:
        """Hostname, machine id, the lab's client key and a fresh host key; returns the latter."""
        write_file(root, "etc/hostname", f"{name}\n")
        write_file(root, "etc/hosts", f"127.0.0.1\tlocalhost\n127.0.1.1\t{name}\n::1\tlocalhost ip6-localhost\n")
        write_file(root, "etc/machine-id", f"{uuid.uuid4().hex}\n", mode=0o444)
        client_public_key = self.private_key.with_name(self.private_key.name + ".pub").read_text()
        write_file(root, "root/.ssh/authorized_keys", client_public_key, mode=0o600)
        (root / "root/.ssh").chmod(0o700)
        return generate_key(root / "etc/ssh/ssh_host_ed25519_key", f"root@{name}")

    def _wait_until_ready(self, name: str, deadline: float) -> float:
        """Wait until SSH answers and systemd finished booting; return when (monotonic)."""
        pid = self.paths.host(name).read_pid()
        try:
            if pid is None:
                raise LabError("no nspawn pid file")
            nspawn.wait_for_init(pid, deadline - time.monotonic())
            self._wait_for_boot_over_ssh(name, pid, deadline)
        except LabError as error:
            console = _ANSI_ESCAPE.sub("", text_tail(self._console_text(name), 15))
            raise LabError(f"{error}\n  last console lines:\n{console}") from error
        return time.monotonic()

    def _wait_for_boot_over_ssh(self, name: str, pid: int, deadline: float) -> None:
        host = self.host(name)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LabError(f"SSH to {host.address} did not answer within {self.boot_timeout:.0f} s")
            if not nspawn.is_host_nspawn(pid, self.paths.host(name).merged):
                raise LabError(f"systemd-nspawn (pid {pid}) exited during boot")
            try:
                result = self.ssh(host, "systemctl is-system-running --wait", timeout=remaining, connect_timeout=2)
            except CommandError as error:
                raise LabError(f"boot did not finish within {self.boot_timeout:.0f} s") from error
            if result.returncode == 255:  # ssh's own failure
                if any(fatal in result.stderr for fatal in _FATAL_SSH_ERRORS):
                    raise LabError(f"SSH to {host.address} refused:\n{text_tail(result.stderr)}")
                time.sleep(0.2)
                continue
            system_state = result.stdout.strip()
            if system_state in READY_STATES:
                return
            failed = self.exec(name, ["systemctl", "--failed", "--no-legend"]).stdout
            raise LabError(f"boot ended in state {system_state!r}; failed units:\n{failed}")

    def _console_text(self, name: str) -> str:
        try:
            return self.paths.host(name).console_log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # --- using hosts ------------------------------------------------------------------

    def ssh(
        self,
        host: Host | str,
        command: str | Sequence[str],
        *,
        timeout: float = 60.0,
        check: bool = False,
        input_text: str | None = None,
        connect_timeout: float = 5.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run `command` on a host over SSH (strict host key, BatchMode, the lab key).

        A Host value is used as given, so a stopped host's address can still be tried."""
        target = host if isinstance(host, Host) else self.host(host)
        argv = ssh_command_argv(target, command, connect_timeout=connect_timeout)
        return run(argv, check=check, timeout=timeout, input_text=input_text)

    def exec(
        self,
        host: Host | str,
        argv: Sequence[str],
        *,
        timeout: float = 60.0,
        check: bool = False,
        input_text: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run `argv` inside a host without SSH (nsenter into its systemd's namespaces),
        so inspecting a host leaves no trace in its sshd log."""
        init_pid = self.init_pid(host)
        nsenter = nspawn.nsenter_argv(init_pid, argv)
        return run(nsenter, check=check, timeout=timeout, input_text=input_text, env=HOST_ENV)

    def init_pid(self, host: Host | str) -> int:
        """PID of the host's systemd (as seen from the machine), e.g. for nsenter."""
        name = _host_name(host)
        self._record(name)
        pid = self._nspawn_pid(name)
        init_pid = nspawn.container_init_pid(pid) if pid is not None else None
        if init_pid is None:
            raise LabError(f"host {name} is not running")
        return init_pid

    # --- fault injection --------------------------------------------------------------

    def stop_host(self, host: Host | str, *, force: bool = False) -> None:
        """Stop a host (SIGTERM to its nspawn: clean shutdown; `force`: SIGKILL to the host's
        init, a power cut) and remove its overlay, netns and veth. Its address then stops
        answering."""
        name = _host_name(host)
        self._record(name)
        errors: list[str] = []
        self._stop_hosts([name], force=force, errors=errors)
        self._remove_host(name, errors)
        if errors:
            raise LabError(f"stopping {name} left things behind:\n  " + "\n  ".join(errors))

    def stop_service(self, host: Host | str, unit: str) -> None:
        self.exec(host, ["systemctl", "stop", unit], check=True)

    def start_service(self, host: Host | str, unit: str) -> None:
        self.exec(host, ["systemctl", "start", unit], check=True)

    def cut_link(self, host: Host | str) -> None:
        """Take the host's veth down: the host keeps running but is unreachable."""
        set_link_up(self._veth(_host_name(host)), False)

    def restore_link(self, host: Host | str) -> None:
        set_link_up(self._veth(_host_name(host)), True)

    @contextmanager
    def hang_command(self, host: Host | str, path: str) -> Iterator[HungCommand]:
        """While in the block, running `path` on the host blocks forever: a program that
        records its PID and then sleeps is bind-mounted over `path` in the host's mount
        namespace (the file itself is untouched). On exit the hung processes are killed
        and the mount and the program removed, so the host works as before.

        >>> with lab.hang_command(host, "/usr/bin/df") as hung:
        ...     ...  # run what calls df
        ...     assert hung.pids()  # df was called and hung
        """
        if not path.startswith("/") or any(char.isspace() for char in path):
            raise LabError(f"hang_command needs an absolute path without whitespace, not {path!r}")
        hung = HungCommand(self, _host_name(host), path, f"{_HANG_DIR}/{uuid.uuid4().hex}")
        self.exec(host, ["test", "-f", path], check=True)
        script = f"#!/bin/sh\n# lab.hang_command stand-in for {path}\necho $$ >> {hung.pid_file}\nexec sleep infinity\n"
        self.exec(
            host,
            ["sh", "-c", 'mkdir -p "$1" && cat > "$1/program" && chmod 755 "$1/program" && : > "$1/pids"',
             "sh", hung.work_dir],
            input_text=script,
            check=True,
        )
        try:
            self.exec(host, ["mount", "--bind", f"{hung.work_dir}/program", path], check=True)
            try:
                yield hung
            finally:
                hung.kill()
                self.exec(host, ["umount", path], check=True)
                hung.kill()  # anything that started between the first kill and the unmount
        finally:
            self.exec(host, ["rm", "-rf", hung.work_dir], check=True)

    def program_pids(self, host: Host | str, program: str) -> list[int]:
        """PIDs (in the host's PID namespace) of the processes whose argv[0] is `program`,
        read via nsenter (so the check itself starts no SSH session)."""
        listed = self.exec(host, ["sh", "-c", _LIST_PROGRAM, "sh", program], check=True).stdout
        return [int(line) for line in listed.split()]

    def sshd_accepted_count(self, host: Host | str) -> int:
        """How many SSH logins the host's sshd accepted (read via nsenter, not SSH)."""
        journal = self.exec(host, ["journalctl", "--unit=ssh", "--output=cat", "--no-pager"], check=True).stdout
        return sum("Accepted publickey" in line for line in journal.splitlines())

    # --- internals --------------------------------------------------------------------

    def _save(self) -> None:
        self.state.save(self.paths.state_file)

    def _record(self, name: str) -> HostRecord:
        try:
            return self.state.hosts[name]
        except KeyError:
            raise LabError(f"no host {name!r} in this lab (hosts: {', '.join(self.state.hosts) or 'none'})") from None

    def _veth(self, name: str) -> str:
        return self.network.veth(self._record(name).index)

    def _nspawn_pid(self, name: str) -> int | None:
        """The host's nspawn PID if that process is still the host's nspawn."""
        paths = self.paths.host(name)
        pid = paths.read_pid()
        return pid if pid is not None and nspawn.is_host_nspawn(pid, paths.merged) else None

    def _stop_hosts(self, names: Iterable[str], *, force: bool, errors: list[str]) -> None:
        """Signal every host first, then wait: hosts shut down in parallel."""
        stopping: dict[str, tuple[int, int | None]] = {}
        for name in names:
            pid = self._nspawn_pid(name)
            if pid is not None:
                init_pid = nspawn.container_init_pid(pid)
                stopping[name] = (pid, init_pid)
                nspawn.request_stop(pid, init_pid, force=force)
        for name, (pid, init_pid) in stopping.items():
            _attempt(errors, f"{name}: stop nspawn {pid}", partial(nspawn.wait_stopped, pid, init_pid, STOP_TIMEOUT))
        for name in names:
            process = self._processes.pop(name, None)
            if process is not None:
                _attempt(errors, f"{name}: reap nspawn", partial(process.wait, timeout=5))

    def _remove_host(self, name: str, errors: list[str]) -> None:
        """Remove what a stopped host leaves behind; forget it only if all of that worked."""
        record = self._record(name)
        network = self.network
        namespace = network.namespace(name)
        paths = self.paths.host(name)
        failures_before = len(errors)
        _attempt(errors, f"{name}: remove overlay and host dir", lambda: remove_tree(paths.root))
        # Deleting the veth removes both ends at once; a deleted netns frees its end of the
        # pair only later (asynchronously), so the veth goes first.
        _attempt(errors, f"{name}: delete veth", lambda: delete_link(network.veth(record.index)))
        _attempt(errors, f"{name}: delete netns {namespace}", lambda: delete_namespace(namespace))
        _attempt(errors, f"{name}: forget its MAC", lambda: forget_neighbor(network, record.address))
        _attempt(errors, f"{name}: remove cgroups", lambda: _fail_on(remove_host_cgroups(namespace)))
        _attempt(errors, f"{name}: remove nspawn dir", lambda: remove_tree(NSPAWN_PROPAGATE_DIR / namespace))
        _attempt(errors, f"{name}: forget host key", lambda: self._forget_known_host(record.address))
        if len(errors) == failures_before:
            del self.state.hosts[name]
            self._save()

    def _forget_known_host(self, address: str) -> None:
        if not self.known_hosts.exists():
            return
        lines = self.known_hosts.read_text().splitlines(keepends=True)
        self.known_hosts.write_text("".join(line for line in lines if line.split(" ", 1)[0] != address))


_HANG_DIR = "/run/tecrax-lab-hang"
# Prints each PID of the file in $1 whose process still runs `sleep infinity`.
_LIST_HANGING = (
    'for pid in $(cat "$1"); do '
    '[ "$(tr "\\0" " " < /proc/$pid/cmdline 2>/dev/null)" = "sleep infinity " ] && echo "$pid"; '
    "done; true"
)


# Prints the PID of each process whose argv[0] is $1.
_LIST_PROGRAM = (
    'for dir in /proc/[0-9]*; do '
    '[ "$(tr "\\0" "\\n" < "$dir/cmdline" 2>/dev/null | head -n 1)" = "$1" ] && echo "${dir#/proc/}"; '
    "done; true"
)


@dataclass(frozen=True)
class HungCommand:
    """A command made to hang by Lab.hang_command."""

    lab: Lab
    host: str
    path: str
    work_dir: str

    @property
    def pid_file(self) -> str:
        return f"{self.work_dir}/pids"

    def pids(self) -> list[int]:
        """PIDs (in the host's PID namespace) of every run of the command so far."""
        text = self.lab.exec(self.host, ["cat", self.pid_file], check=True).stdout
        return [int(line) for line in text.split()]

    def running(self) -> list[int]:
        """Those of pids() still hanging (a reused PID runs something else: not counted)."""
        listed = self.lab.exec(self.host, ["sh", "-c", _LIST_HANGING, "sh", self.pid_file], check=True).stdout
        return [int(line) for line in listed.split()]

    def kill(self) -> None:
        pids = [str(pid) for pid in self.running()]
        if pids:
            self.lab.exec(self.host, ["kill", "-KILL", *pids])


def _host_name(host: Host | str) -> str:
    return host.name if isinstance(host, Host) else host


def _fail_on(leftovers: list[str]) -> None:
    if leftovers:
        raise LabError("; ".join(leftovers))
