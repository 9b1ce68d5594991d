#!/usr/bin/env python3
"""Check the operator runbooks and write their index.

The runbooks are ``profile/runbooks/*-runbook.md`` (``docs/runbooks`` links there; RExecOp
shows only runbooks inside the profile root). Each one must

* have exactly the level-2 sections of ``RUNBOOK_SECTIONS``, each once, in that order
  (anything finer is a level-3 heading inside them);
* give every fenced code block an info string (``sh`` for commands, ``text`` for output), so
  that no command hides in a block nobody parses;
* contain only ``tecrax`` and ``rexecop`` command lines that the real command-line interfaces
  accept. A command line is any shell command starting with ``tecrax`` or ``rexecop`` in a
  ``sh``/``bash``/``shell``/``console`` block: after a ``$`` prompt, joined over ``\\``
  continuations, inside ``$(...)`` (``OP=$(rexecop plan ...)``), between pipes, ``&&`` and
  ``;``. ``tecrax`` lines are parsed by the argparse parser of src/tecrax/cli.py, ``rexecop``
  lines by the click command of the installed RExecOp, without running anything. Unknown
  subcommands, unknown options and missing required arguments fail; so do intent names the
  profile does not declare, modes the intent does not declare, and ``tecrax run --env``
  without ``--target``. Inline code spans in prose that start with ``tecrax`` or ``rexecop``
  are checked the same way, except that they may leave out required arguments (``...``,
  upper-case and ``<angle>`` placeholders stand for values there).

The command lines of README.md and docs/*.md are checked the same way (their sections are
not). The index, ``profile/runbooks/README.md``, is generated from the runbooks and the intents'
``runbook_ref``; the check fails when it is stale.

    python scripts/check_runbooks.py                 # check; exit 1 and list the problems
    python scripts/check_runbooks.py --write-index   # rewrite the index, then check
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import re
import shlex
import sys
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from repository_finding import report_findings, root_arguments
from validate_public_truth import Problem  # the validators' one `path:line: reason` record

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNBOOK_DIR = Path("profile/runbooks")
RUNBOOK_GLOB = "*-runbook.md"
INDEX_NAME = "README.md"
WIDTH = 94

# The section contract of every runbook, declared once: the level-2 headings, in order.
RUNBOOK_SECTIONS = (
    "Purpose",
    "Scope",
    "Prerequisites",
    "Steps",
    "Validation gates",
    "Rollback or sign-off",
    "Non-claims",
)

SHELL_INFO = frozenset({"sh", "bash", "shell", "console", "zsh"})
PROGRAMS = ("tecrax", "rexecop")
CONTROL_OPERATORS = frozenset({"|", "||", "&&", ";", ";;", "&", "|&", "(", ")"})
REDIRECTIONS = frozenset({">", ">>", "<", "<<", "<<<", ">&", "<&", "&>", "&>>", ">|", "<>"})
SHELL_PREFIXES = frozenset({"!", "if", "then", "else", "elif", "do", "while", "until", "time", "exec", "command", "{"})
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^`\s]*)")
HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
INLINE_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
PLACEHOLDER = re.compile(r"\.\.\.|<[^>]*>|[A-Z][A-Z0-9_]*")
SUBSTITUTION_WORD = "SUBSTITUTED"


class CommandLineError(ValueError):
    """A command line the real interface refuses; the message says why, in one line."""


@dataclass(frozen=True)
class CommandLine:
    """One shell command of a runbook, split into words; ``complete`` is False for prose."""

    line: int
    words: tuple[str, ...]
    complete: bool

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass
class Runbook:
    """What the checks need from one runbook, taken from one read of its text."""

    path: str
    title: str = ""
    sections: list[tuple[int, str]] = field(default_factory=list)
    bare_fences: list[int] = field(default_factory=list)
    commands: list[CommandLine] = field(default_factory=list)
    split_errors: list[Problem] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)  # intents of its `tecrax run` command lines


# --- reading -------------------------------------------------------------------------------


def read_runbooks(root: Path = REPO_ROOT) -> dict[str, str]:
    """Every runbook's text by its path relative to ``root``: the tree is read here, once."""
    directory = root / RUNBOOK_DIR
    return {(RUNBOOK_DIR / path.name).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(directory.glob(RUNBOOK_GLOB))}


def stray_files(root: Path = REPO_ROOT) -> list[str]:
    """Files in the runbook directory that are neither a runbook nor the index."""
    directory = root / RUNBOOK_DIR
    return sorted(path.name for path in directory.iterdir()
                  if path.name != INDEX_NAME and not path.match(RUNBOOK_GLOB))


def parse_runbook(path: str, text: str) -> Runbook:
    runbook = Runbook(path)
    fence: tuple[str, str] | None = None  # (marker, info) of the open fenced block
    block: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line)
        if fence is not None:
            if match and match.group(2).startswith(fence[0]) and not match.group(3):
                if fence[1] in SHELL_INFO:
                    _block_commands(runbook, block, console=fence[1] == "console")
                fence, block = None, []
            else:
                block.append((number, line))
            continue
        if match:
            marker, info = match.group(2), match.group(3).lower()
            fence = (marker[0] * len(marker), info)
            if not info:
                runbook.bare_fences.append(number)
            continue
        if line.startswith("# ") and not runbook.title:
            runbook.title = line[2:].strip()
        elif line.startswith("## "):
            runbook.sections.append((number, line[3:].strip()))
        for span in INLINE_CODE.findall(line):
            if span.split(" ", 1)[0] in PROGRAMS:
                _add_commands(runbook, number, span, complete=False)
    return runbook


def _block_commands(runbook: Runbook, block: list[tuple[int, str]], *, console: bool) -> None:
    """The command lines of one shell block: prompts removed, continuations joined,
    here-document bodies skipped."""
    pending: list[str] = []
    start = 0
    heredoc_end: str | None = None
    for number, line in block:
        if heredoc_end is not None:
            if line.strip() == heredoc_end:
                heredoc_end = None
            continue
        if not pending:
            start = number
            stripped = line.lstrip()
            if stripped.startswith("$ "):
                line = stripped[2:]
            elif console:
                continue  # output, not a command
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        joined = " ".join(pending)
        pending = []
        heredoc = HEREDOC.search(joined)
        if heredoc:
            heredoc_end = heredoc.group(2)
        _add_commands(runbook, start, joined, complete=True)


def _add_commands(runbook: Runbook, number: int, text: str, *, complete: bool) -> None:
    try:
        for words in simple_commands(text):
            program = _program(words)
            if program is not None:
                runbook.commands.append(CommandLine(number, tuple(words[program:]), complete))
    except ValueError as exc:
        runbook.split_errors.append(Problem(runbook.path, number, f"cannot split shell line ({exc}): {text.strip()}"))


def simple_commands(text: str) -> Iterator[list[str]]:
    """The simple commands of one shell line, words unquoted; command substitutions are
    replaced by one word and yield their own commands (nested ones too)."""
    outer, inner = _substitutions(text)
    for substituted in inner:
        yield from simple_commands(substituted)
    lexer = shlex.shlex(outer, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words: list[str] = []
    skip_next = False
    for token in lexer:
        if skip_next:
            skip_next = False
        elif token in CONTROL_OPERATORS:
            if words:
                yield words
            words = []
        elif token in REDIRECTIONS:
            if words and words[-1].isdigit():
                words.pop()  # the file descriptor of ``2>``
            skip_next = True
        else:
            words.append(token)
    if words:
        yield words


def _substitutions(text: str) -> tuple[str, list[str]]:
    """``text`` with each outermost ``$(...)`` replaced by one word, and their contents."""
    outer, inner = [], []
    index = 0
    while (found := text.find("$(", index)) != -1:
        depth, end = 1, found + 2
        while end < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        if depth:
            raise ValueError("unclosed $(")
        outer.append(text[index:found] + SUBSTITUTION_WORD)
        inner.append(text[found + 2:end - 1])
        index = end
    outer.append(text[index:])
    return "".join(outer), inner


def _program(words: list[str]) -> int | None:
    """Index of the ``tecrax``/``rexecop`` word that starts the command, if it is one."""
    for index, word in enumerate(words):
        if ASSIGNMENT.match(word) or word in SHELL_PREFIXES:
            continue
        return index if word.rsplit("/", 1)[-1] in PROGRAMS else None
    return None


# --- the profile ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Intent:
    modes: tuple[str, ...]
    runbook_ref: str


def profile_intents(root: Path = REPO_ROOT) -> dict[str, Intent]:
    intents = {}
    for path in sorted((root / "profile" / "intents").glob("*.yaml")):
        intent = yaml.safe_load(path.read_text(encoding="utf-8"))["intent"]
        intents[intent["id"]] = Intent(tuple(str(mode) for mode in intent.get("modes", [])),
                                       str(intent.get("catalog", {}).get("runbook_ref", "")))
    return intents


# --- the command-line interfaces -----------------------------------------------------------


class Interfaces:
    """The real ``tecrax`` and ``rexecop`` parsers, and the profile's intents."""

    def __init__(self, intents: Mapping[str, Intent], root: Path = REPO_ROOT) -> None:
        self.intents = intents
        self.root = root

    def check(self, command: CommandLine) -> str | None:
        """Raise CommandLineError when the interface refuses ``command``; return the intent
        of a complete ``tecrax run``."""
        program, arguments = command.words[0].rsplit("/", 1)[-1], list(command.words[1:])
        if not command.complete:
            arguments = [word for word in arguments if word != "..."]
        if program == "tecrax":
            return self._check_tecrax(arguments, complete=command.complete)
        self._check_rexecop(arguments, complete=command.complete)
        return None

    def _known_intent(self, intent: str, complete: bool) -> Intent | None:
        if not complete and PLACEHOLDER.fullmatch(intent):
            return None
        if intent not in self.intents:
            raise CommandLineError(f"unknown intent {intent!r}: profile/intents declares no such intent")
        return self.intents[intent]

    # tecrax

    @cached_property
    def _tecrax_cli(self) -> Any:
        """src/tecrax/cli.py of this tree, whatever ``tecrax`` is installed."""
        spec = importlib.util.spec_from_file_location("_tecrax_cli_of_tree", self.root / "src" / "tecrax" / "cli.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def _tecrax_parser(self) -> argparse.ArgumentParser:
        parser = self._tecrax_cli._parser()
        for each in _argparse_parsers(parser):
            each.error = _raise_usage  # type: ignore[method-assign]
        return parser

    def _check_tecrax(self, arguments: list[str], *, complete: bool) -> str | None:
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                args = self._tecrax_parser().parse_args(arguments)
        except SystemExit as exc:  # --help and --version print and exit 0
            if exc.code:
                raise CommandLineError(f"exit {exc.code}") from None
            return None
        except CommandLineError as exc:
            if not complete and str(exc).startswith("the following arguments are required"):
                return None
            raise
        if args.command is None and complete:
            raise CommandLineError("no subcommand")
        if args.command != "run":
            return None
        self._check_tecrax_run(args, complete)
        return args.intent if complete else None

    def _check_tecrax_run(self, args: argparse.Namespace, complete: bool) -> None:
        intent = self._known_intent(args.intent, complete)
        if intent is not None and args.mode is not None:
            from tecrax.operations import READ_ONLY_ALIAS

            if READ_ONLY_ALIAS.get(args.mode, args.mode) not in intent.modes:
                raise CommandLineError(f"intent {args.intent} does not declare mode {args.mode}")
        if complete:
            problem = self._tecrax_cli.run_arguments_problem(args)
            if problem:
                raise CommandLineError(problem)

    # rexecop

    @cached_property
    def _rexecop_command(self) -> Any:
        import typer.main
        from rexecop.cli import app

        return typer.main.get_command(app)

    def _check_rexecop(self, arguments: list[str], *, complete: bool) -> None:
        import typer

        usage_error = next(cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "UsageError")
        try:
            # Typer prints help while building some usage errors: keep it off the output.
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                params = self._rexecop_params(arguments)
        except usage_error as exc:
            missing = type(exc).__name__ in {"MissingParameter", "NoArgsIsHelpError"}
            if complete or not missing:
                raise CommandLineError(exc.format_message()) from None
            return
        self._check_rexecop_values(params, complete)

    def _rexecop_params(self, arguments: list[str]) -> dict[str, Any]:
        """The parameters of the subcommand ``arguments`` name, parsed as click would before
        invoking it; raises click's usage errors."""
        command, name, context = self._rexecop_command, "rexecop", None
        while True:
            context = command.make_context(name, arguments, parent=context)
            if not hasattr(command, "resolve_command"):
                return dict(context.params)
            # A group keeps the subcommand and its arguments for invocation.
            rest = [*getattr(context, "_protected_args", ()), *context.args]
            name, command, arguments = command.resolve_command(context, rest)

    def _check_rexecop_values(self, params: Mapping[str, Any], complete: bool) -> None:
        from rexecop.operation.controller import SUPPORTED_MODES

        profile = params.get("profile")
        if profile is not None and profile != "tecrax" and not (not complete and PLACEHOLDER.fullmatch(profile)):
            raise CommandLineError(f"--profile {profile}: this project's profile is tecrax")
        intent = self._known_intent(params["intent"], complete) if params.get("intent") else None
        mode = params.get("mode")
        if intent is not None and mode is not None:
            if mode not in SUPPORTED_MODES:
                raise CommandLineError(f"RExecOp has no operation mode {mode} (modes: {', '.join(sorted(SUPPORTED_MODES))})")
            if mode not in intent.modes:
                raise CommandLineError(f"intent {params['intent']} does not declare mode {mode}")


def _raise_usage(message: str) -> None:
    raise CommandLineError(message)


def _argparse_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                yield from _argparse_parsers(subparser)


# --- the checks ----------------------------------------------------------------------------


def section_problems(runbook: Runbook) -> list[Problem]:
    problems = []
    if not runbook.title:
        problems.append(Problem(runbook.path, 0, "no level-1 title"))
    found = [name for _, name in runbook.sections]
    if found != list(RUNBOOK_SECTIONS):
        missing = [name for name in RUNBOOK_SECTIONS if name not in found]
        extra = [f"{name!r} (line {line})" for line, name in runbook.sections if name not in RUNBOOK_SECTIONS]
        duplicated = sorted({name for name in found if found.count(name) > 1})
        details = [f"missing {missing}" if missing else "", f"unexpected {', '.join(extra)}" if extra else "",
                   f"repeated {duplicated}" if duplicated else ""]
        reason = "; ".join(detail for detail in details if detail) or f"out of order {found}"
        problems.append(Problem(runbook.path, 0, f"level-2 sections must be exactly {list(RUNBOOK_SECTIONS)}: {reason}"))
    problems += [Problem(runbook.path, line, "fenced block without an info string (sh, text, yaml, ...)")
                 for line in runbook.bare_fences]
    return problems


def command_problems(runbook: Runbook, interfaces: Interfaces) -> list[Problem]:
    """Parse every command line; note the intents its ``tecrax run`` lines name."""
    problems = list(runbook.split_errors)
    for command in runbook.commands:
        try:
            intent = interfaces.check(command)
        except CommandLineError as exc:
            reason = " ".join(str(exc).split())
            problems.append(Problem(runbook.path, command.line, f"{reason}: {command.text}"))
            continue
        if intent and intent not in runbook.runs:
            runbook.runs.append(intent)
    return problems


def render_index(runbooks: Sequence[Runbook], intents: Mapping[str, Intent]) -> str:
    documented: dict[str, list[str]] = {}
    for intent_id, intent in sorted(intents.items()):
        documented.setdefault(Path(intent.runbook_ref).name, []).append(intent_id)
    rows = []
    for runbook in runbooks:
        name = Path(runbook.path).name
        title = runbook.title.removeprefix("Runbook: ")
        own = ", ".join(f"`{intent}`" for intent in documented.get(name, [])) or "none (operator-owned procedure)"
        runs = ", ".join(f"`{intent}`" for intent in runbook.runs) or "none"
        rows.append(f"| [{title[:1].upper()}{title[1:]}]({name}) | {own} | {runs} |")
    paragraphs = (
        "Operator procedures for Tecrax and for the infrastructure around it. A runbook that an intent "
        "names (its `runbook_ref`) describes the live path of that intent through this project's "
        "commands; `rexecop runbook show INTENT --profile tecrax` prints it. The others are "
        "operator-owned procedures: Tecrax has no connector for Proxmox VE, Proxmox Backup Server, "
        "Samba AD or Windows, so their steps are the operator's own commands, and Tecrax takes part "
        "only where a gate is one of its read-only intents (`tecrax run`).",
        f"Every runbook has these sections, in this order: {', '.join(RUNBOOK_SECTIONS)}. "
        "tests/unit/test_runbooks.py checks them and parses every `tecrax` and `rexecop` command "
        "line of every runbook against the real command-line interfaces.",
    )
    return "\n".join([
        "<!-- Generated by scripts/check_runbooks.py --write-index from the runbooks and the",
        "     intents' runbook_ref; do not edit. -->",
        "# Runbooks",
        "",
        *(line for paragraph in paragraphs for line in [*textwrap.wrap(paragraph, WIDTH, break_on_hyphens=False), ""]),
        "| runbook | intents it documents | intents it runs (`tecrax run`) |",
        "|---|---|---|",
        *rows,
        "",
    ])


@dataclass
class Report:
    runbooks: list[Runbook]
    problems: list[Problem]
    index: str


def check_runbook(path: str, text: str, interfaces: Interfaces) -> tuple[Runbook, list[Problem]]:
    """One runbook's sections and command lines."""
    runbook = parse_runbook(path, text)
    return runbook, section_problems(runbook) + command_problems(runbook, interfaces)


def check(root: Path = REPO_ROOT) -> Report:
    """Check the runbooks under ``root`` (the tree is read once, here) and render the index;
    check the command lines of the other documents (README.md, docs/*.md) too."""
    texts = read_runbooks(root)
    intents = profile_intents(root)
    interfaces = Interfaces(intents, root)
    problems = [Problem((RUNBOOK_DIR / name).as_posix(), 0, "neither a runbook (*-runbook.md) nor the index")
                for name in stray_files(root)]
    for document in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        if document.is_file():
            path = document.relative_to(root).as_posix()
            problems += command_problems(parse_runbook(path, document.read_text(encoding="utf-8")), interfaces)
    runbooks = []
    for path, text in sorted(texts.items()):
        runbook, found = check_runbook(path, text, interfaces)
        runbooks.append(runbook)
        problems += found
    for intent_id, intent in sorted(intents.items()):
        if f"profile/{intent.runbook_ref}" not in texts:
            problems.append(Problem(f"profile/intents/{intent_id}.yaml", 0, f"runbook_ref {intent.runbook_ref} is not a runbook"))
    return Report(runbooks, sorted(problems), render_index(runbooks, intents))


def main(argv: list[str] | None = None) -> int:
    parser = root_arguments(__doc__)
    parser.add_argument("--write-index", action="store_true", help=f"rewrite {RUNBOOK_DIR / INDEX_NAME}")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    report = check(root)
    index_path = root / RUNBOOK_DIR / INDEX_NAME
    if args.write_index:
        index_path.write_text(report.index, encoding="utf-8")
    problems = list(report.problems)
    if not index_path.is_file() or index_path.read_text(encoding="utf-8") != report.index:
        problems.append(Problem((RUNBOOK_DIR / INDEX_NAME).as_posix(), 0,
                                "stale: run python scripts/check_runbooks.py --write-index"))
    commands = sum(len(runbook.commands) for runbook in report.runbooks)
    return report_findings("check_runbooks", problems,
                           summary=f"{len(report.runbooks)} runbooks, {commands} command lines")


if __name__ == "__main__":
    sys.exit(main())
