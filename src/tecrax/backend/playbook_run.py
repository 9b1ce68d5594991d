"""One ansible-runner run of one fixed playbook, with per-host outcomes from the event stream.

Every run gets a fresh private data directory (ansible-runner keeps env files and writes the
environment into artifacts, so a shared directory would leak state between runs); it is
removed afterwards. Results are read from ``runner_on_*`` events, never from text output.
The run covers a list of hosts so that a group target can use the same path later.

Secrets are not written to disk: key material goes to ansible-runner's ``ssh_key`` (a FIFO
read by a fresh ssh-agent), and each secret input reaches its module through a FIFO in the
private data dir (``<input>_file``), written from memory when the module opens it. Nothing
else is persisted beyond the run: ``suppress_env_files`` keeps ansible-runner from copying its
settings into ``env/``, and a private data dir left behind by a killed process is swept by the
next run (its name carries the owning process id).

The module gets a time budget a little under the run's timeout (``module_budget_seconds``,
the extra var ``tecrax_module_budget_seconds``, which the playbooks pass to the module as
``TECRAX_MODULE_BUDGET_SECONDS``): the module ends its own commands and answers "timed out"
while the SSH session still stands, instead of being cut off by ansible-runner's timeout and
leaving its commands running on the host.

Operator values never reach Ansible's templar: ansible-core 2.19 trusts inventory files and
extra-vars files as templates, so every string in both is written with YAML's ``!unsafe`` tag
and reaches the module (or the connection plugin) as literal text.
"""

from __future__ import annotations

import errno
import os
import re
import shlex
import shutil
import signal
import sys
import tempfile
import threading
import time
import types
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from tecrax.backend import warm_start
from tecrax.backend.interruption import cancellable_run
from tecrax.backend.node_run import ExecutionNode, NodeJob, run_on_node
from tecrax.backend.playbook_launcher import launcher_beside

HostStatus = Literal["ok", "failed", "unreachable", "skipped", "no_result"]
# The part of a run's timeout that is not the module's: ansible-playbook starting, the SSH
# connection, the module's transfer and its answer.
MIN_MODULE_MARGIN_SECONDS = 10
MAX_MODULE_MARGIN_SECONDS = 30
BUDGET_VARIABLE = "tecrax_module_budget_seconds"
_EVENT_STATUS: dict[str, HostStatus] = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}


@dataclass(frozen=True)
class HostOutcome:
    status: HostStatus
    result: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlaybookRun:
    status: str  # ansible-runner status: successful, failed, timeout, canceled
    rc: int | None
    duration_seconds: float
    hosts: Mapping[str, HostOutcome]

    def outcome_for(self, host: str) -> HostOutcome:
        return self.hosts.get(host, HostOutcome("no_result"))


@dataclass(frozen=True)
class RunHost:
    """One inventory entry; ``name`` is the RExecOp target id."""

    name: str
    variables: Mapping[str, str | int | bool]


def run_playbook(
    *,
    collection_root: Path,
    playbook: str,
    module: str,
    hosts: Sequence[RunHost],
    ssh_args: str,
    pipelining: bool,
    timeout_seconds: int,
    check_mode: bool,
    extravars: Mapping[str, Any] | None = None,
    secret_inputs: Mapping[str, str] | None = None,
    ssh_key: str | None = None,
    forks: int | None = None,
    node: ExecutionNode | None = None,
) -> PlaybookRun:
    """Run ``playbook`` of the collection over ``hosts`` and collect ``module``'s results.

    ``extravars`` (the action's validated inputs) go to the private data dir's
    ``env/extravars``, which ansible-runner passes as ``-e @file``: they outrank every other
    variable source, and so does the module budget. Each ``secret_inputs`` value is served through a FIFO whose path is
    passed as the extra var ``<name>_file``; ``ssh_key`` is private key material; ``forks``
    bounds how many hosts run at once (a group target); ``node``: run it on that execution
    node through ansible-runner's streaming protocol (``tecrax.backend.node_run``)."""
    import ansible_runner  # imported lazily: backend factories must stay cheap

    _close_pty_without_delay()
    outcomes: dict[str, HostOutcome] = {}

    def on_event(event: Mapping[str, Any]) -> bool:
        status = _EVENT_STATUS.get(str(event.get("event")))
        data = event.get("event_data")
        if status is None or not isinstance(data, Mapping):
            return False
        if data.get("task_action") != module:
            return False
        host = str(data.get("host") or "")
        result = data.get("res")
        outcomes[host] = HostOutcome(status, result if isinstance(result, Mapping) else {})
        return False

    sweep_stale_private_dirs()
    with cancellable_run() as cancellation:
        warm = warm_start.take() if node is None and ssh_key is None else None
        workdir = warm.workdir if warm else new_private_dir()
        servers: list[_SecretServer] = []
        try:
            variables = {**(extravars or {}), BUDGET_VARIABLE: module_budget_seconds(timeout_seconds)}
            for name, value in (secret_inputs or {}).items():
                servers.append(_SecretServer(workdir / "secrets" / name, value))
                variables[f"{name}_file"] = str(servers[-1].path)
            key_files: list[str] = []
            if node is not None:
                hosts, key_files = _without_key_files(hosts)
            _prepare_private_data_dir(workdir, collection_root, hosts, variables)
            started = time.monotonic()
            if node is not None:
                status = run_on_node(node, NodeJob(
                    workdir=workdir, collection_root=collection_root, playbook=playbook,
                    limit=",".join(host.name for host in hosts),
                    envvars=_ansible_environment(workdir, ssh_args, pipelining),
                    cmdline="--check --diff" if check_mode else None, timeout_seconds=timeout_seconds,
                    forks=forks, ssh_key=ssh_key, key_files=key_files,
                    destinations=[(str(host.variables["ansible_host"]), int(host.variables.get("ansible_port", 22)))
                                  for host in hosts if "ansible_host" in host.variables],
                ), on_event=on_event, cancel_requested=cancellation.requested)
                return PlaybookRun(status, None, round(time.monotonic() - started, 3), outcomes)
            with _spawns_answered_by(warm):
                runner = ansible_runner.run(
                    private_data_dir=str(workdir),
                    project_dir=str(workdir / "project"),
                    inventory=str(workdir / "inventory" / "hosts.yml"),
                    limit=",".join(host.name for host in hosts),
                    envvars=_ansible_environment(workdir, ssh_args, pipelining),
                    **_playbook_command(collection_root / playbook, check_mode),
                    timeout=timeout_seconds,
                    ssh_key=ssh_key,
                    forks=forks,
                    # Checked this often for the cancel callback and the timeout while Ansible is quiet.
                    settings={"pexpect_timeout": 0.25},
                    suppress_env_files=True,
                    cancel_callback=cancellation.requested,
                    event_handler=on_event,
                    quiet=True,
                    json_mode=False,
                )
            if runner.status in ("canceled", "timeout"):
                end_processes_of(workdir)
            return PlaybookRun(
                status=str(runner.status),
                rc=runner.rc if isinstance(runner.rc, int) else None,
                duration_seconds=round(time.monotonic() - started, 3),
                hosts=outcomes,
            )
        finally:
            if warm is not None:
                warm.discard()
            for server in servers:
                server.stop()
            _release_ssh_key_fifos(workdir)
            shutil.rmtree(workdir, ignore_errors=True)


def _playbook_command(playbook: Path, check_mode: bool) -> dict[str, Any]:
    """ansible-runner's arguments that name the command: ``tecrax-ansible-playbook`` (its
    collector set for a short run, ``tecrax.backend.playbook_launcher``) when it is installed
    beside this interpreter, else plain ansible-playbook. ansible-runner puts a custom binary's
    command line right after it and appends no playbook, so the playbook goes there."""
    check = ["--check", "--diff"] if check_mode else []
    launcher = launcher_beside(sys.executable)
    if launcher is None:
        return {"playbook": str(playbook), "cmdline": shlex.join(check) if check else None}
    return {"binary": str(launcher), "cmdline": shlex.join([*check, str(playbook)])}


def _without_key_files(hosts: Sequence[RunHost]) -> tuple[list[RunHost], list[str]]:
    """The hosts without their key file variable (a controller path) and the key files: on an
    execution node the key reaches ssh through the forwarded agent instead."""
    variable = "ansible_ssh_private_key_file"
    files = sorted({str(host.variables[variable]) for host in hosts if variable in host.variables})
    return [RunHost(host.name, {k: v for k, v in host.variables.items() if k != variable}) for host in hosts], files


PRIVATE_DIR_PREFIX = "tecrax-run-"
RUN_MARKER = "TECRAX_RUN_DIR"  # in the environment of every process of one run
_PRIVATE_DIR = re.compile(re.escape(PRIVATE_DIR_PREFIX) + r"([0-9]{1,10})-[A-Za-z0-9_]{1,32}")


def new_private_dir() -> Path:
    """A fresh private data dir, named after this process so that a sweep can tell when it is
    stale."""
    return Path(tempfile.mkdtemp(prefix=f"{PRIVATE_DIR_PREFIX}{os.getpid()}-"))


def sweep_stale_private_dirs(parent: Path | None = None) -> list[Path]:
    """Remove private data dirs of ours whose process is gone (a SIGKILLed run); return them."""
    removed: list[Path] = []
    directory = parent or Path(tempfile.gettempdir())
    for candidate in directory.glob(f"{PRIVATE_DIR_PREFIX}*"):
        match = _PRIVATE_DIR.fullmatch(candidate.name)
        try:
            info = candidate.lstat()
        except OSError:
            continue
        if match is None or info.st_uid != os.geteuid() or not candidate.is_dir() or candidate.is_symlink():
            continue
        if _process_alive(int(match.group(1))):
            continue
        _release_ssh_key_fifos(candidate)
        shutil.rmtree(candidate, ignore_errors=True)
        removed.append(candidate)
    return removed


def end_processes_of(workdir: Path) -> list[int]:
    """SIGKILL every process of this run; return their ids.

    ansible-runner kills only ansible-playbook's process group, but ansible-core's workers
    each start a session of their own (and so do their ssh clients), so a cancelled or timed
    out run would leave them, and the modules they run locally, behind. They all inherit the
    run's environment, which names the private data dir."""
    marker = b"\0" + f"{RUN_MARKER}={workdir}".encode() + b"\0"
    ended: list[int] = []
    for _pass in range(5):
        found = [pid for pid in _own_processes() if marker in _environment_of(pid)]
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                ended.append(pid)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    return ended


def _own_processes() -> list[int]:
    own = os.geteuid()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if entry.stat().st_uid == own:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _environment_of(pid: int) -> bytes:
    try:
        return b"\0" + Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _release_ssh_key_fifos(workdir: Path) -> None:
    """ansible-runner's key FIFO writer thread blocks until a reader opens it (normally
    ssh-add); when the run ended before that, open and drain it so the thread can end."""
    for fifo in workdir.glob("artifacts/*/ssh_key_data"):
        try:
            descriptor = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            while os.read(descriptor, 65536):
                pass
        except OSError:
            pass
        finally:
            os.close(descriptor)


class _SecretServer:
    """Serves one secret through a FIFO to the first process that opens it, once: the run
    has one host, whose module reads it once (a retry is a new run with a new FIFO).

    The writer polls with a non-blocking open (which fails while nobody reads), so it never
    blocks the run and ends as soon as ``stop`` is called."""

    POLL_SECONDS = 0.02

    def __init__(self, path: Path, value: str) -> None:
        self.path = path
        self._value = value.encode("utf-8")
        self._stopped = threading.Event()
        path.parent.mkdir(mode=0o700, exist_ok=True)
        os.mkfifo(path, 0o600)
        self._thread = threading.Thread(target=self._serve, name=f"tecrax-secret-{path.name}", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                descriptor = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno not in (errno.ENXIO, errno.EAGAIN):
                    return
                self._stopped.wait(self.POLL_SECONDS)
                continue
            try:
                os.set_blocking(descriptor, True)
                os.write(descriptor, self._value)
            except OSError:
                pass
            finally:
                os.close(descriptor)
            return

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)


def _close_pty_without_delay() -> None:
    """Let ansible-runner's pexpect child skip ptyprocess's fixed 0.1 s sleep on close.

    ansible-runner closes the pty only once its loop has seen ansible-playbook exit (its
    ``isalive()`` reaps the process), so the sleep, meant to "give the kernel time to update
    process status", waits for nothing and adds 0.1 s to every run. Only the ``pexpect`` name
    inside ``ansible_runner.runner`` is pointed at a copy of the module whose ``spawn`` sets
    that delay to 0; a child still alive at close is terminated as before (SIGHUP, SIGINT,
    then SIGKILL, each with pexpect's own waits)."""
    global _pexpect_stand_in
    import ansible_runner.runner
    import pexpect

    if _pexpect_stand_in is None:

        class PromptlyClosedSpawn(pexpect.spawn):  # type: ignore[misc, name-defined]
            def _spawnpty(self, args: Any, **kwargs: Any) -> Any:
                process = _adopt_warm_launcher(args, kwargs) or super()._spawnpty(args, **kwargs)
                process.delayafterclose = 0
                return process

        stand_in = types.ModuleType("pexpect", pexpect.__doc__)
        stand_in.__dict__.update({name: value for name, value in vars(pexpect).items() if not name.startswith("__")})
        stand_in.spawn = PromptlyClosedSpawn  # type: ignore[attr-defined]
        _pexpect_stand_in = stand_in
    ansible_runner.runner.pexpect = _pexpect_stand_in  # type: ignore[attr-defined]


_pexpect_stand_in: types.ModuleType | None = None
# The warm launcher (tecrax.backend.warm_start) the current run may hand its command to.
_warm_launcher: warm_start.WarmLauncher | None = None


@contextmanager
def _spawns_answered_by(launcher: warm_start.WarmLauncher | None) -> Iterator[None]:
    global _warm_launcher
    _warm_launcher = launcher
    try:
        yield
    finally:
        _warm_launcher = None


def _adopt_warm_launcher(args: Sequence[str | bytes], spawn_kwargs: Mapping[str, Any]) -> Any | None:
    """The warm launcher, given this command, when the command is the launcher it runs; None
    otherwise (ansible-runner then spawns the command itself)."""
    launcher = _warm_launcher
    if launcher is None or not args:
        return None
    command = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
    if command != str(launcher.command):
        return None
    return launcher.hand_over(args, spawn_kwargs.get("env") or {}, str(spawn_kwargs.get("cwd") or os.getcwd()))


def module_budget_seconds(timeout_seconds: int) -> int:
    """The module's share of a run's timeout: a quarter of it (10 to 30 s) is kept back."""
    margin = min(MAX_MODULE_MARGIN_SECONDS, max(MIN_MODULE_MARGIN_SECONDS, timeout_seconds // 4))
    return max(1, timeout_seconds - margin)


def _prepare_private_data_dir(
    workdir: Path, collection_root: Path, hosts: Sequence[RunHost], extravars: Mapping[str, Any]
) -> None:
    os.chmod(workdir, 0o700)
    namespace_dir = workdir / "collections" / "ansible_collections" / "tecrax"
    namespace_dir.mkdir(parents=True)
    (namespace_dir / "ops").symlink_to(collection_root, target_is_directory=True)
    (workdir / "project").mkdir()
    (workdir / "home").mkdir()
    (workdir / "inventory").mkdir()
    inventory = {
        "all": {"hosts": {host.name: dict(host.variables) for host in hosts}},
    }
    # In the given order: a group's mutation runs host by host in its members' order.
    (workdir / "inventory" / "hosts.yml").write_text(untrusted_yaml(inventory, sort_keys=False), encoding="utf-8")
    if extravars:
        (workdir / "env").mkdir()
        extravars_file = workdir / "env" / "extravars"
        extravars_file.touch(mode=0o600)
        extravars_file.write_text(untrusted_yaml(dict(extravars)), encoding="utf-8")
    # An empty configuration file: no ansible.cfg of the operator or the machine applies.
    (workdir / "ansible.cfg").write_text("[defaults]\n", encoding="utf-8")


class _UntrustedDumper(yaml.SafeDumper):
    """Writes every string *value* as ``!unsafe``; mapping keys stay plain names."""

    def represent_mapping(self, tag: str, mapping: Any, flow_style: Any = None) -> yaml.MappingNode:
        node = super().represent_mapping(tag, mapping, flow_style)
        for key_node, _ in node.value:
            key_node.tag = "tag:yaml.org,2002:str"
        return node


_UntrustedDumper.add_representer(str, lambda dumper, value: dumper.represent_scalar("!unsafe", value))


def untrusted_yaml(data: Mapping[str, Any], *, sort_keys: bool = True) -> str:
    """``data`` as YAML that Ansible loads without ever templating a string in it."""
    return yaml.dump(data, Dumper=_UntrustedDumper, default_flow_style=False, sort_keys=sort_keys)


def _ansible_environment(workdir: Path, ssh_args: str, pipelining: bool) -> dict[str, str]:
    # ansible-playbook is looked up on PATH; the one beside this interpreter is the one that
    # matches the installed ansible-core, even when the venv is not activated.
    search_path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {
        RUN_MARKER: str(workdir),
        "PATH": search_path,
        "ANSIBLE_CONFIG": str(workdir / "ansible.cfg"),
        "ANSIBLE_HOME": str(workdir / "home"),
        "ANSIBLE_LOCAL_TEMP": str(workdir / "home" / "tmp"),
        "ANSIBLE_COLLECTIONS_PATH": str(workdir / "collections"),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_SSH_ARGS": ssh_args,
        "ANSIBLE_PIPELINING": str(pipelining),
        "ANSIBLE_GATHERING": "explicit",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "True",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "ANSIBLE_SYSTEM_WARNINGS": "False",
    }
