"""Starting, finding and stopping the systemd-nspawn process of a lab host."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from lab.errors import LabError
from lab.processes import (
    child_pids,
    command_line,
    is_running,
    pid_namespace,
    signal_process,
    wait_for_exit,
)
from lab.settings import progress

NSPAWN = "systemd-nspawn"
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# nspawn must already sit in the host's own cgroups when it starts (see lab.cgroups),
# so a shell joins them and then becomes nspawn: the PID stays the same.
_JOIN_CGROUPS_AND_EXEC = 'for procs in $LAB_CGROUP_PROCS; do echo $$ > "$procs" || exit 125; done; exec "$@"'


def launch(
    *,
    machine: str,
    hostname: str,
    root: Path,
    namespace: str,
    console_log: Path,
    cgroup_procs: Sequence[Path],
) -> subprocess.Popen[bytes]:
    """Boot `root` in the background in network namespace `namespace`."""
    argv = [
        NSPAWN,
        f"--directory={root}",
        "--boot",
        # No system bus or machined here: registering or creating a scope unit fails
        # with "Parent died too early".
        "--register=no",
        "--keep-unit",
        f"--machine={machine}",
        f"--hostname={hostname}",
        f"--network-namespace-path=/run/netns/{namespace}",
        "--console=read-only",
        "--link-journal=no",
    ]
    env = {"PATH": CLEAN_PATH, "LAB_CGROUP_PROCS": " ".join(map(str, cgroup_procs))}
    with open(console_log, "ab") as console:
        return subprocess.Popen(
            ["sh", "-c", _JOIN_CGROUPS_AND_EXEC, "lab-nspawn", *argv],
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            env=env,
            # Own session: a Ctrl-C meant for pytest must not reach the hosts directly;
            # the lab stops them itself during teardown.
            start_new_session=True,
        )


def is_host_nspawn(pid: int, root: Path) -> bool:
    """True if `pid` is still the nspawn booting `root` (guards against reused PIDs)."""
    argv = command_line(pid)
    return bool(argv) and argv[0].endswith(NSPAWN) and f"--directory={root}" in argv and is_running(pid)


def container_init_pid(nspawn_pid: int) -> int | None:
    """PID (in our namespace) of the host's systemd: nspawn's child in another PID namespace."""
    own_namespace = pid_namespace(nspawn_pid)
    for child in child_pids(nspawn_pid):
        if pid_namespace(child) not in (None, own_namespace):
            return child
    return None


def wait_for_init(nspawn_pid: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while (init_pid := container_init_pid(nspawn_pid)) is None:
        if not is_running(nspawn_pid):
            raise LabError(f"systemd-nspawn (pid {nspawn_pid}) exited during startup")
        if time.monotonic() >= deadline:
            raise LabError(f"systemd-nspawn (pid {nspawn_pid}) started no container in {timeout:.0f} s")
        time.sleep(0.02)
    return init_pid


def request_stop(pid: int, init_pid: int | None, *, force: bool) -> None:
    """Graceful: SIGTERM makes nspawn shut the host down cleanly. Forced: SIGKILL to the
    host's init drops the whole host at once (killing only nspawn would leave the host's
    processes running); nspawn then exits by itself and cleans up after it."""
    if force and init_pid is not None:
        signal_process(init_pid, signal.SIGKILL)
    else:
        signal_process(pid, signal.SIGKILL if force else signal.SIGTERM)


def wait_stopped(pid: int, init_pid: int | None, timeout: float) -> None:
    """Wait for the host's init and nspawn to end, killing them if they take too long."""
    for process, role in ((init_pid, "host init"), (pid, "systemd-nspawn")):
        if process is not None and not wait_for_exit(process, timeout):
            progress(f"{role} (pid {process}) did not stop within {timeout:.0f} s; killing it")
            signal_process(process, signal.SIGKILL)
            if not wait_for_exit(process, 5.0):
                raise LabError(f"{role} (pid {process}) survived SIGKILL")


def nsenter_argv(init_pid: int, argv: Sequence[str]) -> list[str]:
    """Run `argv` in the host's namespaces, as if on the host but without any login."""
    return [
        "nsenter",
        f"--target={init_pid}",
        "--mount",
        "--uts",
        "--ipc",
        "--net",
        "--pid",
        "--cgroup",
        "--",
        *argv,
    ]
