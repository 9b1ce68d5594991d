# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Running the fixed commands of the modules: argv lists, the C locale, one deadline.

``AnsibleModule.run_command`` can neither stop a hung program nor bound what it reads. Here
every command runs from an argv list (no shell) with no standard input (unless the module
gives it bytes to read), the C locale (``LC_ALL=C LANG=C``), ``/`` as working directory and
a session, so a process group, of its own. Output is kept up to a bound. When the deadline
passes (or, if asked, the output exceeds its bound) the whole group is killed; whatever a
finished command left running in its group is killed too, so nothing a command started
outlives :func:`run_command`.

A module run has one budget for all of its commands (:class:`CommandRunner`). The Tecrax
connector sets it a little under the step's timeout through the environment variable
``TECRAX_MODULE_BUDGET_SECONDS`` (the playbooks fill it from the variable
``tecrax_module_budget_seconds``); without it the budget is ``DEFAULT_BUDGET_SECONDS``. A
command still running when the budget is spent is killed with its group and the module fails
with a "timed out" message and ``timed_out: true``, which the connector reports as a
``timeout``.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence

from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import MAX_RAW_BYTES, exit_with_facts

BUDGET_ENV = "TECRAX_MODULE_BUDGET_SECONDS"
DEFAULT_BUDGET_SECONDS = 90
MAX_BUDGET_SECONDS = 3600
C_LOCALE = {"LC_ALL": "C", "LANG": "C"}
MAX_ERROR_BYTES = 8192

EXITED = "exited"
TIMEOUT = "timeout"
OUTPUT_LIMIT_EXCEEDED = "output_limit_exceeded"
NOT_STARTED = "not_started"

_CHUNK = 8192
# How long the pipes may stay silent before the runner checks whether the command has
# already exited (and something it started merely holds the pipes open).
_IDLE_CHECK_SECONDS = 0.1
_MAX_WAIT_STEP_SECONDS = 0.05
_BUDGET_TEXT = re.compile(r"[0-9]{1,5}\Z")

Clock = Callable[[], float]


@dataclass(frozen=True)
class CommandResult:
    """How one command ended.

    ``status``: ``exited`` (``exit_code`` is its status, negative for a signal), ``timeout``
    (killed at the deadline), ``output_limit_exceeded`` (killed for output beyond the bound,
    only with ``kill_on_overflow``) or ``not_started`` (the program could not be executed).
    ``stdout`` holds at most the bound; ``stdout_bytes`` counts everything it wrote.
    """

    status: str
    exit_code: Optional[int]
    stdout: bytes
    stderr: bytes
    stdout_bytes: int
    seconds: float

    @property
    def rc(self) -> Optional[int]:
        """The exit status, or ``None`` when the command did not run to its end."""
        return self.exit_code if self.status == EXITED else None


def run_command(argv: Sequence[str], *, deadline: float, environment: Optional[Mapping[str, str]] = None,
                max_output_bytes: int = MAX_RAW_BYTES, kill_on_overflow: bool = False,
                capture_stderr: bool = True, stdin_bytes: Optional[bytes] = None,
                clock: Clock = time.monotonic) -> CommandResult:
    """Run ``argv`` until it ends or ``deadline`` (a ``clock()`` value) passes.

    ``environment`` (default: this process's) gets the C locale on top. Output beyond
    ``max_output_bytes`` is read and dropped, or, with ``kill_on_overflow``, ends the command.
    Without ``capture_stderr`` the command's standard error goes to ``/dev/null``. The
    command's standard input is ``stdin_bytes`` (from a temporary file, so writing it can
    never block), or empty. Never raises for anything the command does.
    """
    started = clock()
    if deadline <= started:
        return CommandResult(TIMEOUT, None, b"", b"", 0, 0.0)
    command_environment = dict(os.environ if environment is None else environment)
    command_environment.update(C_LOCALE)
    try:
        with _standard_input(stdin_bytes) as stdin:
            process = subprocess.Popen(
                list(argv), stdin=stdin, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE if capture_stderr else subprocess.DEVNULL,
                env=command_environment, cwd="/", close_fds=True, start_new_session=True,
            )
    except OSError:
        return CommandResult(NOT_STARTED, None, b"", b"", 0, clock() - started)
    output = _Output(max_output_bytes)
    try:
        status = _read(process, output, deadline, kill_on_overflow, clock)
        if status == EXITED and not _wait_for_exit(process.pid, deadline, clock):
            status = TIMEOUT
    finally:
        # The leader is not reaped yet, so its group id cannot have been reused.
        _kill_group(process.pid)
        process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    exit_code = process.returncode if status == EXITED else None
    return CommandResult(status, exit_code, bytes(output.stdout), bytes(output.stderr), output.stdout_bytes,
                         clock() - started)


@contextmanager
def _standard_input(data: Optional[bytes]) -> Iterator[Any]:
    if data is None:
        yield subprocess.DEVNULL
        return
    with tempfile.TemporaryFile() as stdin:
        stdin.write(data)
        stdin.seek(0)
        yield stdin


class _Output:
    def __init__(self, max_output_bytes: int) -> None:
        self.max_output_bytes = max_output_bytes
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.stdout_bytes = 0

    def add(self, is_stdout: bool, chunk: bytes) -> None:
        if is_stdout:
            self.stdout_bytes += len(chunk)
            self.stdout += chunk[:max(0, self.max_output_bytes - len(self.stdout))]
        else:
            self.stderr += chunk[:max(0, MAX_ERROR_BYTES - len(self.stderr))]

    @property
    def overflowed(self) -> bool:
        return self.stdout_bytes > self.max_output_bytes


def _read(process: subprocess.Popen, output: _Output, deadline: float, kill_on_overflow: bool,
          clock: Clock) -> str:
    """Read both pipes until they close, the deadline passes or the output overflows."""
    with selectors.DefaultSelector() as selector:
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                selector.register(stream, selectors.EVENT_READ, stream is process.stdout)
        while selector.get_map():
            remaining = deadline - clock()
            if remaining <= 0:
                return TIMEOUT
            events = selector.select(min(remaining, _IDLE_CHECK_SECONDS))
            if not events and _exited(process.pid):
                return EXITED
            for key, _mask in events:
                chunk = os.read(key.fd, _CHUNK)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                output.add(key.data, chunk)
                if kill_on_overflow and output.overflowed:
                    return OUTPUT_LIMIT_EXCEEDED
    return EXITED


def _exited(pid: int) -> bool:
    """Whether the child has exited, without reaping it."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _wait_for_exit(pid: int, deadline: float, clock: Clock) -> bool:
    """Wait (without reaping) until the child exits; ``False`` if the deadline passes first."""
    step = 0.001
    while not _exited(pid):
        remaining = deadline - clock()
        if remaining <= 0:
            return False
        time.sleep(min(step, remaining))
        step = min(step * 2, _MAX_WAIT_STEP_SECONDS)
    return True


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


class CommandTimedOut(Exception):
    """A command was still running when the module's budget was spent; its group was killed."""

    def __init__(self, program: str, budget_seconds: float) -> None:
        super().__init__(
            "timed out: %s did not finish within the module's budget of %d s and was killed with its "
            "process group" % (program, budget_seconds))
        self.program = program


class CommandRunner:
    """Finds and runs the fixed programs of one module run, all within one budget."""

    def __init__(self, budget_seconds: float, which: Optional[Callable[..., Optional[str]]] = None,
                 clock: Clock = time.monotonic) -> None:
        self.budget_seconds = budget_seconds
        self.deadline = clock() + budget_seconds
        self.timed_out: Optional[CommandTimedOut] = None
        self._which = which
        self._clock = clock

    def find(self, program: str, opt_dirs: Optional[List[str]] = None) -> Optional[str]:
        """The absolute path of ``program`` on the host, or ``None``."""
        if self._which is None:
            return None
        return self._which(program, opt_dirs=opt_dirs or [])

    def run(self, argv: Sequence[str], *, environ_update: Optional[Mapping[str, str]] = None,
            environment: Optional[Mapping[str, str]] = None, timeout_seconds: Optional[float] = None,
            max_output_bytes: int = MAX_RAW_BYTES, kill_on_overflow: bool = False,
            capture_stderr: bool = True, stdin_bytes: Optional[bytes] = None) -> CommandResult:
        """:func:`run_command` within the budget (and ``timeout_seconds``, if given).

        Raises :class:`CommandTimedOut` when the budget, not ``timeout_seconds``, ended the
        command; a command's own time limit is a result (status ``timeout``).
        """
        deadline = self.deadline
        if timeout_seconds is not None:
            deadline = min(deadline, self._clock() + timeout_seconds)
        command_environment: Dict[str, str] = dict(os.environ if environment is None else environment)
        command_environment.update(environ_update or {})
        result = run_command(argv, deadline=deadline, environment=command_environment,
                             max_output_bytes=max_output_bytes, kill_on_overflow=kill_on_overflow,
                             capture_stderr=capture_stderr, stdin_bytes=stdin_bytes, clock=self._clock)
        if result.status == TIMEOUT and self._clock() >= self.deadline:
            self.timed_out = CommandTimedOut(os.path.basename(argv[0]), self.budget_seconds)
            raise self.timed_out
        return result


def budget_seconds(environ: Mapping[str, str]) -> int:
    """The module budget from ``TECRAX_MODULE_BUDGET_SECONDS`` (unset or empty: the default)."""
    text = environ.get(BUDGET_ENV, "").strip()
    if not text:
        return DEFAULT_BUDGET_SECONDS
    if not _BUDGET_TEXT.match(text) or not 1 <= int(text) <= MAX_BUDGET_SECONDS:
        raise ValueError("%s must be a whole number of seconds from 1 to %d, not %r"
                         % (BUDGET_ENV, MAX_BUDGET_SECONDS, text[:32]))
    return int(text)


def module_commands(module: Any) -> CommandRunner:
    """The runner of an AnsibleModule's commands; a malformed budget fails the module."""
    try:
        return CommandRunner(budget_seconds(os.environ), which=module.get_bin_path)
    except ValueError as error:
        module.fail_json(msg=str(error))
        raise  # not reached: fail_json exits


def fail_timed_out(module: Any, error: CommandTimedOut, detail: str = "", **result: Any) -> None:
    """End the module for a command the budget ended (the connector maps this to ``timeout``);
    ``detail`` (what the module did about it) follows the timeout in the message."""
    message = str(error) + ("; " + detail if detail else "")
    module.fail_json(msg=message, timed_out=True, **result)


def read_bounded(path: str, max_bytes: int = MAX_RAW_BYTES) -> Optional[bytes]:
    """The first ``max_bytes`` of a file on the host, or None when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read(max_bytes)
    except OSError:
        return None


def run_host_observation(module: Any, name: str, collect: Callable[[CommandRunner], Any],
                         normalize: Callable[[Any], Mapping[str, Any]]) -> None:
    """End the read-only module ``name``: ``normalize(collect(runner))`` within its budget."""
    commands = module_commands(module)

    def produce() -> Mapping[str, Any]:
        try:
            return normalize(collect(commands))
        except CommandTimedOut as exc:
            fail_timed_out(module, exc)
            raise

    exit_with_facts(module, name, produce)


def run_host_module(name: str, collect: Callable[[CommandRunner], Any],
                    normalize: Callable[[Any], Mapping[str, Any]]) -> None:
    """The whole ``main()`` of the read-only module ``name``, which takes no options: build it
    (check mode makes the same observation) and end it with :func:`run_host_observation`.

    ``collect`` lives beside ``normalize`` in the family's module_utils, not in the module, so
    that one module can make several observations (monitoring_host_local)."""
    # Imported here: the Tecrax backend imports this file (through the network family's
    # checks) and needs none of Ansible's module machinery.
    from ansible.module_utils.basic import AnsibleModule

    run_host_observation(AnsibleModule(argument_spec={}, supports_check_mode=True), name, collect, normalize)
