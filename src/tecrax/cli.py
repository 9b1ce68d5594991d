"""The ``tecrax`` command: status, run an intent through RExecOp, show and verify evidence
(the reaction commands are in ``tecrax.cli_reactions``).

Exit codes: 0 success; 1 refused or invalid request (nothing ran); 3 the operation ran and
failed or did not validate; 4 the operation waits for approval; 128 + the signal number when
SIGINT (130) or SIGTERM (143) interrupted the run (the operation is recorded as cancelled,
its evidence as interrupted); 141 when standard output was closed early (``| head``).

With ``--json`` every command prints exactly one JSON document on standard output, errors
included: ``{"error": "<one line>", "exit_code": <n>}``. A command line argparse cannot use
is such an error too (exit 1, not argparse's 2).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from tecrax import GC_THRESHOLD, __version__

EXIT_OK, EXIT_REFUSED, EXIT_FAILED, EXIT_NEEDS_APPROVAL = 0, 1, 3, 4
EXIT_CLOSED_PIPE = 141
ENVELOPE_KEYS = ("contract", "scope", "coverage", "assessment", "non_claims")
MAX_FACT_LINES = 40


class _UsageError(Exception):
    """The command line cannot be parsed; the message names the command and the problem."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("tecrax").strip()
        raise _UsageError(f"{command + ': ' if command else ''}{message} (see `{self.prog} --help`)")


# Python's cyclic collector, at its default threshold of 700 allocations, ran some 130 times
# in one `tecrax run` (0.05-0.09 s of CPU), almost all while RExecOp, GovEngine and SCLite
# were imported: objects that live until exit. At GC_THRESHOLD it runs about never in a run,
# and the resident set stays where it was (about 40 MiB).


def console_main() -> int:
    """The ``tecrax`` command: ``main``, then the interpreter exits without collecting the
    objects of the run one by one (``gc.freeze``): with RExecOp, GovEngine and SCLite loaded
    that final collection took 0.05-0.1 s; the memory goes back to the system at exit anyway."""
    code = main()
    gc.freeze()
    return code


def main(argv: Sequence[str] | None = None) -> int:
    previous = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLD)
    try:
        return _main(argv)
    finally:
        gc.set_threshold(*previous)


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(arguments)
    except _UsageError as exc:
        return refused(argparse.Namespace(json="--json" in arguments), str(exc))
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_REFUSED
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``tecrax ... | head``): no traceback, and no second error when
        # the interpreter flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_CLOSED_PIPE


def refused(args: argparse.Namespace, message: str, code: int = EXIT_REFUSED) -> int:
    """One line on stderr and, with ``--json``, the error document on stdout."""
    print(f"tecrax: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps({"error": message, "exit_code": code}, sort_keys=True))
    return code


def add_command(commands: Any, name: str, handler: Callable[[argparse.Namespace], int], *,
                json_help: str = "print one JSON document instead of text", **options: Any) -> argparse.ArgumentParser:
    """The ``tecrax`` command ``name`` (``options`` as for ``add_parser``), run by ``handler``,
    with the ``--json`` option every command takes."""
    parser = commands.add_parser(name, **options)
    parser.add_argument("--json", action="store_true", help=json_help)
    parser.set_defaults(handler=handler)
    return parser


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tecrax",
        description="Governed infrastructure operations: tecrax.ops run through RExecOp.",
    )
    parser.add_argument("--version", action="version", version=f"tecrax {__version__}")
    commands = parser.add_subparsers(dest="command")

    add_command(commands, "status", _status, help="one line: versions and what is registered")
    add_command(commands, "intents", _intents, help="list the profile's intents and their modes")
    add_command(
        commands, "collection-path", _collection_path,
        help="print the directory to put on ANSIBLE_COLLECTIONS_PATH for the bundled tecrax.ops",
        description="Print the directory holding ansible_collections/tecrax/ops of this version.",
    )

    run = add_command(
        commands, "run", _run,
        help="plan, admit, start and validate one intent through RExecOp",
        description=(
            "Plan INTENT for a target, let GovEngine admit it, start it and print the result. "
            "Without --env/--catalog the built-in environment is used: this machine "
            "(target 'local') over a local connection, read-only policy."
        ),
    )
    run.add_argument("intent")
    run.add_argument("--target", help="target id from the environment or catalog (default: local)")
    source = run.add_mutually_exclusive_group()
    source.add_argument("--env", type=Path, help="RExecOp environment file")
    source.add_argument("--catalog", type=Path, help="RExecOp target catalog (binds profile and environment)")
    run.add_argument("--mode", help="operation mode (default: observe for read-only intents)")
    run.add_argument("--root", help="RExecOp runtime root (default: $REXECOP_ROOT or ./.rexecop)")
    run.add_argument(
        "--approve-by",
        metavar="NAME",
        help="approve an operation that needs approval (mutations), recording NAME as approver",
    )

    evidence = add_command(commands, "evidence", _evidence, help="show and verify an operation's SCLite evidence")
    evidence.add_argument("operation")
    evidence.add_argument("--root", help="RExecOp runtime root (default: $REXECOP_ROOT or ./.rexecop)")

    from tecrax.cli_reactions import add_commands

    add_commands(commands)
    return parser


def _status(args: argparse.Namespace) -> int:
    from importlib.metadata import entry_points, version

    from tecrax.operations import known_intents

    registered = {
        group: any(ep.name in ("tecrax", "tecrax_ansible") for ep in entry_points(group=group))
        for group in ("rexecop.profiles", "rexecop.connector_backends", "rexecop.internal_actions")
    }
    missing = [group for group, ok in registered.items() if not ok]
    versions = {name: version(name) for name in ("rexecop", "govengine", "sclite-core", "ansible-core")}
    code = EXIT_OK if not missing else EXIT_REFUSED
    if args.json:
        print(json.dumps({"tecrax": __version__, "intents": len(known_intents()), "registered": registered,
                          "versions": versions, "exit_code": code}, sort_keys=True))
        return code
    stack = ", ".join(f"{name} {value}" for name, value in versions.items())
    state = "registered" if not missing else "NOT registered: " + ", ".join(missing)
    print(
        f"tecrax {__version__}: profile tecrax ({len(known_intents())} intents), backend tecrax_ansible, "
        f"collection tecrax.ops {__version__} {state}; {stack}"
    )
    return code


def _intents(args: argparse.Namespace) -> int:
    from tecrax.operations import intent_modes, known_intents

    if args.json:
        print(json.dumps({"intents": {intent: intent_modes(intent) for intent in known_intents()}}, sort_keys=True))
        return EXIT_OK
    for intent in known_intents():
        print(f"{intent}  [{', '.join(intent_modes(intent))}]")
    return EXIT_OK


def _collection_path(args: argparse.Namespace) -> int:
    from tecrax import collection_root

    root = collection_root()
    if root.parent.name != "tecrax" or root.parent.parent.name != "ansible_collections":
        return refused(args, "this tecrax is not installed from a wheel; use the repository checkout itself")
    path = str(root.parent.parent.parent)
    print(json.dumps({"collections_path": path}) if args.json else path)
    return EXIT_OK


def run_arguments_problem(args: argparse.Namespace) -> str | None:
    """Why the arguments of ``tecrax run`` make no valid request, before any file is read;
    None when they do. (The runbook check applies it to the runbooks' command lines too.)"""
    if (args.env is not None or args.catalog is not None) and not args.target:
        return "--target is required with --env or --catalog"
    if args.approve_by is not None and not args.approve_by.strip():
        return "--approve-by needs the approver's name; an empty or blank name approves nothing"
    return None


def _run(args: argparse.Namespace) -> int:
    """``tecrax run``, with the playbook launcher warmed while RExecOp plans and GovEngine
    admits (``tecrax.backend.warm_start``: it holds nothing of the step until the backend runs it)."""
    from tecrax.backend import warm_start

    if run_arguments_problem(args) is None:
        warm_start.start()
    try:
        return _run_operation(args)
    finally:
        warm_start.discard()


def _run_operation(args: argparse.Namespace) -> int:
    from tecrax.operations import (
        DEFAULT_TARGET,
        OperationError,
        Operations,
        RunRequest,
        MUTATING_MODES,
        choose_mode,
        default_environment,
        intent_risk,
        runtime_root,
    )

    from tecrax.backend.interruption import OperatorInterrupt, interruptible
    from tecrax.operator_files import OperatorFileError, check_catalog, check_environment, check_group_mutation

    out = _Printer(quiet=args.json)
    operation_id: str | None = None
    try:
        with interruptible():
            for path in (args.env, args.catalog):
                if path is not None and not path.is_file():
                    raise OperationError(f"file not found: {path}")
            builtin = args.env is None and args.catalog is None
            problem = run_arguments_problem(args)
            if problem:
                raise OperationError(problem)
            if args.env is not None:
                check_environment(args.env)
            if args.catalog is not None:
                check_catalog(args.catalog, args.target)
            request = RunRequest(
                intent=args.intent,
                target=args.target or DEFAULT_TARGET,
                mode=choose_mode(args.intent, args.mode),
                environment=default_environment() if builtin else args.env,
                catalog=args.catalog,
            )
            if args.env is not None and request.mode in MUTATING_MODES:
                check_group_mutation(args.env, intent=request.intent, target=request.target, mode=request.mode,
                                     risk=intent_risk(request.intent))
            root = runtime_root(args.root)
            operations = Operations(root)
            where = "built-in local environment" if builtin else str(args.env or args.catalog)
            out.line(f"tecrax run {request.intent} on {request.target} (mode {request.mode}, {where})")
            operation_id = operations.plan(request)
            out.line(f"  planned   {operation_id}: admitted by GovEngine policy")
            if operations.state(operation_id) == "waiting_for_approval":
                if not args.approve_by:
                    return _needs_approval(out, operation_id, root, args.json)
                operations.approve(operation_id, args.approve_by)
                out.line(f"  approved  {operation_id} by {args.approve_by} (recorded by RExecOp)")
            final_state = operations.start(operation_id, out.progress)
    except (OperationError, OperatorFileError) as exc:
        return refused(args, str(exc))
    except OperatorInterrupt as interrupt:
        return _interrupted(out, operations if operation_id else None, operation_id, interrupt, args.json)
    report = operations.report(operation_id)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, sort_keys=True))
    else:
        _print_report(out, report, final_state)
    return EXIT_OK if report.succeeded else EXIT_FAILED


def _interrupted(out: _Printer, operations: Any, operation_id: str | None, interrupt: Any, as_json: bool) -> int:
    """Record the interruption in RExecOp (cancelled) and SCLite (interrupted), then report."""
    print(f"tecrax: {interrupt} received, stopping", file=sys.stderr, flush=True)
    code = 128 + int(interrupt.signum)
    if operations is None:
        return code
    final_state = operations.interrupt(operation_id)
    report = operations.report(operation_id)
    if as_json:
        print(json.dumps(report.as_dict(), indent=2, sort_keys=True))
    else:
        _print_report(out, report, final_state)
    return code


def _needs_approval(out: _Printer, operation_id: str, root: Path, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"operation_id": operation_id, "state": "waiting_for_approval"}))
    else:
        out.line(f"  waiting   {operation_id} needs approval before it may start; nothing ran. Either:")
        out.line(f"            rexecop --root {root} approve --operation {operation_id} --by <name>")
        out.line(f"            rexecop --root {root} start --operation {operation_id}")
        out.line("            or run again with --approve-by <name>")
    return EXIT_NEEDS_APPROVAL


def _evidence(args: argparse.Namespace) -> int:
    from tecrax.operations import Operations, runtime_root

    root = runtime_root(args.root)
    operations = Operations(root)
    try:
        report = operations.report(args.operation)
    except Exception as exc:  # noqa: BLE001 - RExecOp raises several types for a bad id
        return refused(args, f"no operation {args.operation} under {root} ({type(exc).__name__})")
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, sort_keys=True))
    else:
        _print_report(_Printer(quiet=False), report, report.state)
    verified = bool(report.evidence_checks) and all(check.passed for check in report.evidence_checks)
    return EXIT_OK if verified else EXIT_FAILED


class _Printer:
    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self._last_finished: tuple[Any, Any] | None = None

    def line(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)

    def progress(self, event: Mapping[str, Any]) -> None:
        if event.get("phase") == "started":
            # RExecOp retries a failed step at once, so a start of the action that just failed is its retry.
            last = self._last_finished
            verb = "retrying" if last and last[0] == event.get("action") and last[1] != "ok" else "running "
            self.line(f"  {verb}  {event.get('module')} on {event.get('target')} ...")
        elif event.get("phase") == "finished":
            self._last_finished = (event.get("action"), event.get("status"))
            detail = f" ({event['detail']})" if event.get("detail") else ""
            self.line(
                f"  finished  {event.get('action')}: {event.get('status')}{detail} in {event.get('seconds', 0):.1f}s")


def _print_report(out: _Printer, report: Any, final_state: str) -> None:
    verdict = {True: "passed", False: "FAILED", None: "not run"}[report.validation_passed]
    out.line(f"  state     {final_state}; validation {verdict}")
    for rule in report.validation_rules:
        out.line(f"            {rule}")
    if report.failure:
        out.line(
            f"  failure   step {report.failure.get('step_id')}: "
            f"{report.failure.get('error_class')}: {report.failure.get('error')}"
        )
    if report.hosts:
        _print_hosts(out, report)
    for key, facts in report.facts.items():
        if report.hosts:
            break  # the members' facts: tecrax evidence OP --json, or run with --json
        reasons = _get(facts, "assessment.reasons") or []
        blockers = _get(facts, "coverage.blockers") or []
        out.line(
            f"  facts     {key}: assessment {_get(facts, 'assessment.state')}"
            + (f" ({', '.join(reasons)})" if reasons else "")
            + f", coverage {_get(facts, 'coverage.state')}"
            + (f" (blockers: {', '.join(blockers)})" if blockers else "")
        )
        for line in _fact_lines(facts)[:MAX_FACT_LINES]:
            out.line(f"            {line}")
    if report.evidence_checks:
        failed = [check.name for check in report.evidence_checks if not check.passed]
        status = "verified" if not failed else "NOT verified: " + ", ".join(failed)
        out.line(f"  evidence  {_shown_path(report.evidence_dir)} ({status})")
    else:
        out.line(f"  evidence  {_shown_path(report.evidence_dir)} (no bundle)")
    out.line(f"  operation {report.operation_id}")


def _print_hosts(out: _Printer, report: Any) -> None:
    """The per-host table of a group target."""
    rows = report.hosts
    passed = [member for member, row in rows.items() if row.get("passed")]
    out.line(f"  hosts     {report.target}: {len(passed)} of {len(rows)} passed")
    width = max(len("host"), *(len(member) for member in rows))
    header = f"{'host':<{width}}  {'passed':<6}  {'result':<11}  {'coverage':<8}  {'assessment':<11}  error"
    out.line(f"            {header}")
    for member, row in rows.items():
        error = f"{row['error_class']}: {row.get('error', '')}" if row.get("error_class") else ""
        out.line(
            f"            {member:<{width}}  {'yes' if row.get('passed') else 'NO':<6}  {row.get('result', ''):<11}  "
            f"{row.get('coverage', ''):<8}  {row.get('assessment', ''):<11}  {error}".rstrip()
        )


def _shown_path(path: Path) -> str:
    """Relative to the working directory when inside it, so the line stays short."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _fact_lines(facts: Mapping[str, Any], prefix: str = "") -> list[str]:
    lines: list[str] = []
    for key, value in facts.items():
        if not prefix and key in ENVELOPE_KEYS:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            lines.extend(_fact_lines(value, f"{name}."))
        else:
            lines.append(f"{name} = {value}")
    return lines


def _get(facts: Mapping[str, Any], dotted: str) -> Any:
    value: Any = facts
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


if __name__ == "__main__":
    sys.exit(console_main())
