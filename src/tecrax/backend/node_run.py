"""Run an admitted step on a remote execution node: ansible-runner's streaming protocol over SSH.

``ansible-runner transmit`` (here, in-process) packs the job: its arguments and the private
data directory as a zip. ``ssh node ansible-runner worker`` unpacks and runs it on the node and
streams the events back; ``ansible-runner process`` (in-process) reads them, and the backend
takes the module's results from the same ``runner_on_*`` events as in a local run. This is the
format AWX's Receptor mesh carries between a control node and its execution nodes.

What crosses to the node, and nothing else:

* the job's private data directory: the inventory (target names, addresses, ports, users,
  interpreters, ``!unsafe``-tagged like every operator value), the extra vars (the action's
  non-secret inputs and the module budget), an empty ``ansible.cfg``, and the tecrax.ops
  files the run uses (``meta/``, ``plugins/`` and the action's playbook), copied from the
  controller's collection, so the node runs exactly the code whose digests the step records;
* a copy of the connector's ``known_hosts_file`` (public host keys), so the node checks the
  targets' host keys as strictly as the controller would;
* the run's arguments: playbook path, limit, forks, timeout, check mode and the Ansible
  environment (paths inside the node's job directory).

Never: private key material, key file paths or secret inputs. The identity's key is loaded
into a fresh ``ssh-agent`` on the controller that holds that one key, and the SSH session to
the node forwards that agent; the node's Ansible authenticates to the targets through it for
the duration of the job (root on the node can use the agent while the job runs, but cannot
read the key). Actions with secret inputs are controller-side checks and never run on a node.

The worker unpacks into a fresh directory under the node's ``work_dir`` whose name carries
128 random bits, and deletes it when the job ends (``--delete``).
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AUTH_FAILED = "auth_failed"
TRANSIENT = "transient_connector_error"
UNSUPPORTED = "unsupported"
COLLECTION_LINK = Path("collections") / "ansible_collections" / "tecrax" / "ops"
# The collection files a job needs on the node (with the action's playbook).
COLLECTION_PARTS = ("meta", "plugins")
# How long past the run's own timeout the controller waits for the node before it cuts the
# stream: the worker enforces the timeout itself and answers "timeout" in that time.
STREAM_GRACE_SECONDS = 30
_NODE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_MULTIPLEXING = frozenset({"ControlMaster", "ControlPath", "ControlPersist"})
# Ansible settings that may name a directory on the controller outside the job's own.
_CONTROLLER_PATH_SETTINGS = ("ANSIBLE_SSH_CONTROL_PATH_DIR", "ANSIBLE_SSH_CONTROL_PATH")
_STDERR_BYTES = 4096


@dataclass(frozen=True)
class ExecutionNode:
    """Where ``ansible-runner worker`` runs (connector setting ``execution_node``)."""

    host: str
    port: int = 22
    user: str | None = None
    ansible_runner: str = "/usr/bin/ansible-runner"
    work_dir: str = "/tmp"


class NodeFailure(Exception):
    """The node could not run the job; ``error_class`` is one of RExecOp's classes."""

    def __init__(self, error_class: str, message: str) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message


@dataclass(frozen=True)
class NodeJob:
    """One job for the node; paths are the controller's."""

    workdir: Path
    collection_root: Path
    playbook: str
    limit: str
    envvars: Mapping[str, str]
    cmdline: str | None
    timeout_seconds: int
    forks: int | None
    ssh_key: str | None
    key_files: Sequence[str]
    # (address, port) of every target: the only hosts the forwarded key may log in to.
    destinations: Sequence[tuple[str, int]] = ()


def run_on_node(
    node: ExecutionNode,
    job: NodeJob,
    *,
    on_event: Callable[[Mapping[str, Any]], bool],
    cancel_requested: Callable[[], bool],
) -> str:
    """Run ``job`` on ``node``; return ansible-runner's final status (``successful``,
    ``failed``, ``timeout``, ``canceled``). The connection to the node uses the run's own SSH
    options (``ANSIBLE_SSH_ARGS``: host keys checked against the connector's known_hosts file,
    keepalives, connect timeout); a node that cannot be reached raises :class:`NodeFailure`."""
    import ansible_runner  # imported lazily: backend factories must stay cheap

    options = ssh_options(job.envvars.get("ANSIBLE_SSH_ARGS", ""))
    known_hosts = options.get("UserKnownHostsFile")
    if not known_hosts:
        raise NodeFailure(UNSUPPORTED, "an execution node needs connection: ssh with a known_hosts_file")
    node_dir = f"{node.work_dir.rstrip('/')}/tecrax-job-{secrets.token_hex(16)}"
    _ship_collection(job)
    shutil.copyfile(known_hosts, job.workdir / "known_hosts")
    envvars = _node_environment(job, node, node_dir, options)
    with _Agent(job, node, known_hosts) as agent:
        command = _ssh_command(node, options, forward_agent=agent.socket is not None) + [
            node.ansible_runner, "worker", "--private-data-dir", node_dir, "--delete"]
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, **agent.environment()}, start_new_session=True,
        )
        stderr = _Drain(process.stderr)
        watchdog = _Watchdog(process, job.timeout_seconds + STREAM_GRACE_SECONDS, cancel_requested)
        try:
            try:
                ansible_runner.run(
                    streamer="transmit",
                    _output=process.stdin,
                    private_data_dir=str(job.workdir),
                    playbook=f"{node_dir}/{COLLECTION_LINK}/{job.playbook}",
                    inventory=str(job.workdir / "inventory" / "hosts.yml"),
                    limit=job.limit,
                    envvars=dict(envvars),
                    cmdline=job.cmdline,
                    timeout=job.timeout_seconds,
                    forks=job.forks,
                    settings={"pexpect_timeout": 0.25},
                    suppress_env_files=True,
                    quiet=True,
                    cancel_callback=cancel_requested,
                )
                process.stdin.close()
            except (BrokenPipeError, OSError):
                pass  # the node went away while the job was sent: the stream below says so
            processor = ansible_runner.run(
                streamer="process",
                _input=process.stdout,
                private_data_dir=str(job.workdir),
                event_handler=on_event,
                cancel_callback=cancel_requested,
                quiet=True,
            )
        finally:
            watchdog.stop()
            _end(process, grace_seconds=5)
        if watchdog.fired:
            return "canceled" if watchdog.reason == "canceled" else "timeout"
        status = str(processor.status)
        if status == "error" or (process.returncode == 255 and status not in ("successful", "failed")):
            raise _connection_failure(node, stderr.text())
        return status


def _ship_collection(job: NodeJob) -> None:
    """Replace the private dir's link to the controller's collection (a symlink would cross as
    a dangling link) by a copy of the files this job runs."""
    target = job.workdir / COLLECTION_LINK
    if target.is_symlink():
        target.unlink()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in COLLECTION_PARTS:
        shutil.copytree(job.collection_root / part, target / part, ignore=ignore)
    (target / "playbooks").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(job.collection_root / job.playbook, target / job.playbook)


def ssh_options(ssh_args: str) -> dict[str, str]:
    """``-o Name=value`` pairs of an ``ANSIBLE_SSH_ARGS`` string, in order."""
    options: dict[str, str] = {}
    for argument in shlex.split(ssh_args):
        if argument != "-o":
            name, _, value = argument.partition("=")
            options[name] = value
    return options


def _without_multiplexing(options: Mapping[str, str]) -> dict[str, str]:
    """No SSH master across the hop: a controller's control socket path means nothing on the
    node, and a master reused for the node session would forward another run's agent."""
    kept = {name: value for name, value in options.items() if name not in _MULTIPLEXING}
    return {**kept, "ControlMaster": "no"}


def _node_environment(job: NodeJob, node: ExecutionNode, node_dir: str, options: Mapping[str, str]) -> dict[str, str]:
    """The run's Ansible environment with the controller's paths moved to the node's job dir."""
    controller_dir = str(job.workdir)
    environment = {name: value.replace(controller_dir, node_dir) for name, value in job.envvars.items()}
    environment["PATH"] = f"{Path(node.ansible_runner).parent}:{_NODE_PATH}"
    for name in _CONTROLLER_PATH_SETTINGS:
        environment.pop(name, None)
    # The targets' host keys: the copy shipped with the job. Their key: the forwarded agent.
    node_options = {**_without_multiplexing(options), "UserKnownHostsFile": f"{node_dir}/known_hosts",
                    "IdentitiesOnly": "no"}
    environment["ANSIBLE_SSH_ARGS"] = " ".join(
        f"-o {name}={value.replace(controller_dir, node_dir)}" for name, value in node_options.items())
    return environment


def _ssh_command(node: ExecutionNode, options: Mapping[str, str], *, forward_agent: bool) -> list[str]:
    command = ["ssh", "-T", "-p", str(node.port)]
    for name, value in {**_without_multiplexing(options), "ForwardAgent": "yes" if forward_agent else "no",
                        "IdentitiesOnly": "no" if forward_agent else options.get("IdentitiesOnly", "yes")}.items():
        command += ["-o", f"{name}={value}"]
    if node.user:
        command += ["-l", node.user]
    return command + [node.host, "--"]


def _connection_failure(node: ExecutionNode, stderr: str) -> NodeFailure:
    lowered = stderr.lower()
    if "permission denied" in lowered or "host key verification failed" in lowered \
            or "remote host identification has changed" in lowered:
        return NodeFailure(AUTH_FAILED, f"SSH authentication or host key check failed for execution node {node.host}")
    if "no such file" in lowered or "not found" in lowered:
        return NodeFailure(UNSUPPORTED, f"execution node {node.host} has no ansible-runner at {node.ansible_runner}")
    for marker, reason in (("connection refused", "connection refused"), ("timed out", "connection timed out"),
                           ("no route to host", "no route to host"), ("not responding", "connection lost mid-run")):
        if marker in lowered:
            return NodeFailure(TRANSIENT, f"execution node {node.host} unreachable ({reason})")
    return NodeFailure(TRANSIENT, f"execution node {node.host} ended the job stream without a result")


def _destination(host: str, port: int) -> str:
    """A host as ssh-add's destination constraints and known_hosts name it."""
    return host if port == 22 else f"[{host}]:{port}"


class _Agent:
    """A fresh ssh-agent holding the run's identity only (from key material or key files),
    for the forwarded session to the node; none without an identity.

    The key is added with destination constraints (OpenSSH 8.9 or newer on the controller and
    the node): it signs for the hop to the node and for the node's hops to this run's targets,
    whose host keys come from the connector's known_hosts file, and for nothing else. Anyone
    on the node who reaches the forwarded agent during the job can log in to these targets
    only, not to other hosts the key opens."""

    def __init__(self, job: NodeJob, node: ExecutionNode, known_hosts: str) -> None:
        self._job = job
        node_name = _destination(node.host, node.port)
        self._constraints = ["-H", known_hosts, "-h", node_name]
        for host, port in job.destinations:
            self._constraints += ["-h", f"{node_name}>{_destination(host, port)}"]
        self._directory: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.socket: str | None = None

    def __enter__(self) -> _Agent:
        if not self._job.ssh_key and not self._job.key_files:
            return self
        self._directory = tempfile.mkdtemp(prefix="tecrax-agent-")
        self.socket = f"{self._directory}/agent.sock"
        self._process = subprocess.Popen(["ssh-agent", "-D", "-a", self.socket],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.socket):
            if time.monotonic() > deadline or self._process.poll() is not None:
                raise NodeFailure(TRANSIENT, "ssh-agent for the execution node did not start")
            time.sleep(0.01)
        environment = {**os.environ, **self.environment()}
        for source in ([None] if self._job.ssh_key else []) + list(self._job.key_files):
            material = (self._job.ssh_key or "").encode() if source is None else None
            added = subprocess.run(["ssh-add", "-q", *self._constraints, source or "-"], input=material,
                                   env=environment, capture_output=True, check=False)
            if added.returncode != 0:
                raise NodeFailure(AUTH_FAILED, "the identity could not be loaded into the run's ssh-agent for the "
                                               "execution node (the node and every target need a host key in "
                                               "known_hosts_file; ssh-add needs OpenSSH 8.9 or newer)")
        return self

    def environment(self) -> dict[str, str]:
        return {"SSH_AUTH_SOCK": self.socket} if self.socket else {}

    def __exit__(self, *_exc: object) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)


class _Drain:
    """Reads a pipe to its end in a thread, keeping the first bytes (ssh's error text)."""

    def __init__(self, pipe: Any) -> None:
        self._kept = b""
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: Any) -> None:
        for chunk in iter(lambda: pipe.read(4096), b""):
            if len(self._kept) < _STDERR_BYTES:
                self._kept += chunk[: _STDERR_BYTES - len(self._kept)]

    def text(self) -> str:
        self._thread.join(timeout=5)
        return self._kept.decode("utf-8", "replace")


class _Watchdog:
    """Cuts the stream (kills the ssh client) on cancellation or when the node overruns."""

    POLL_SECONDS = 0.25

    def __init__(self, process: subprocess.Popen[bytes], limit_seconds: float,
                 cancel_requested: Callable[[], bool]) -> None:
        self._process = process
        self._deadline = time.monotonic() + limit_seconds
        self._cancel_requested = cancel_requested
        self._stopped = threading.Event()
        self.fired = False
        self.reason = ""
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopped.wait(self.POLL_SECONDS):
            reason = "canceled" if self._cancel_requested() else "timeout" if time.monotonic() > self._deadline else ""
            if reason:
                self.fired, self.reason = True, reason
                _end(self._process)
                return

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)


def _end(process: subprocess.Popen[bytes], grace_seconds: float = 0) -> None:
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
