"""One instrumented `tecrax run`: where its wall time goes, phase by phase.

Used by bench_inventory.py --phases (run with the interpreter of the tecrax to measure, the
arguments of `tecrax run` after it). It times the calls that separate the phases of a
governed run (RExecOp's plan and start, the backend's invoke, ansible-runner's run and its
pty close, the report) and prints one JSON line: seconds per phase, the process's own CPU
and that of the processes it waited for (ansible-playbook with its workers and ssh clients).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import functools  # noqa: E402
import importlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from contextlib import redirect_stdout  # noqa: E402
from typing import Any  # noqa: E402

marks: list[tuple[str, float]] = []


def mark(name: str) -> None:
    marks.append((name, time.perf_counter()))


def timed(module: str, qualified: str) -> None:
    """Mark entry (``name>``) and return (``name<``) of ``module.qualified`` when it exists."""
    try:
        owner: Any = importlib.import_module(module)
    except ImportError:
        return
    *path, attribute = qualified.split(".")
    for part in path:
        owner = getattr(owner, part, None)
        if owner is None:
            return
    original = getattr(owner, attribute, None)
    if original is None:
        return

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        mark(f"{qualified}>")
        try:
            return original(*args, **kwargs)
        finally:
            mark(f"{qualified}<")

    setattr(owner, attribute, wrapper)


# Consecutive marks bound the phases: (phase, mark that ends it).
PHASES = (
    ("imports (tecrax CLI, RExecOp, GovEngine, SCLite)", "imported"),
    ("preflight (environment file check, mode)", "OperationController.plan>"),
    ("plan (RExecOp plan, GovEngine admission)", "OperationController.plan<"),
    ("start until the backend is called", "AnsibleBackend.invoke>"),
    ("backend before ansible-runner (catalog, config, private dir)", "run>"),
    ("ansible-runner start to ansible-playbook exit", "PtyProcess.close>"),
    ("pty close", "PtyProcess.close<"),
    ("ansible-runner after the close", "run<"),
    ("backend after the run (cleanup, facts check, digests)", "AnsibleBackend.invoke<"),
    ("RExecOp after the step (facts lift, validation, SCLite bundle)", "OperationController.start<"),
    ("report and SCLite verification", "Operations.report<"),
)


def main(argv: list[str]) -> None:
    try:  # a build with a warm start: launched before the imports, as `tecrax run` does
        from tecrax.backend import warm_start
    except ImportError:
        pass
    else:
        warm_start.start()
    import rexecop.operation.controller  # noqa: F401  (counted as imports, not as planning)

    import tecrax.cli

    mark("imported")
    for module, qualified in (
        ("rexecop.operation.controller", "OperationController.plan"),
        ("rexecop.operation.controller", "OperationController.start"),
        ("tecrax.backend.runtime", "AnsibleBackend.invoke"),
        ("tecrax.operations", "Operations.report"),
        ("ptyprocess.ptyprocess", "PtyProcess.close"),
    ):
        timed(module, qualified)
    import ansible_runner

    original_run = ansible_runner.run

    def run(*args: Any, **kwargs: Any) -> Any:
        mark("run>")
        try:
            return original_run(*args, **kwargs)
        finally:
            mark("run<")

    ansible_runner.run = run
    # The `tecrax` command's own entry point where it has one (it also prepares the exit).
    command = getattr(tecrax.cli, "console_main", None)
    sys.argv = ["tecrax", *argv]
    with redirect_stdout(io.StringIO()):
        code = command() if command is not None else tecrax.cli.main(argv)
    if code != 0:
        raise SystemExit(f"tecrax run exited {code}")
    ended = time.perf_counter()
    times: dict[str, float] = {}
    for name, at in marks:
        times.setdefault(name, at)  # the first call: a pty closed again later is not a phase
    phases: dict[str, float] = {}
    previous = STARTED
    for phase, boundary in PHASES:
        at = times.get(boundary)
        if at is None:
            continue
        phases[phase] = at - previous
        previous = at
    phases["output and the rest"] = ended - previous
    own = resource.getrusage(resource.RUSAGE_SELF)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "phases": phases,
        "elapsed": ended - STARTED,
        "cpu_self": own.ru_utime + own.ru_stime,
        "cpu_children": waited.ru_utime + waited.ru_stime,
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
