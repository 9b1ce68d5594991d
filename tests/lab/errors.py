"""Errors raised by the lab-host manager."""

from __future__ import annotations

from collections.abc import Sequence


class LabError(RuntimeError):
    """Something in the lab could not be set up, reached or torn down."""


def text_tail(text: str | None, lines: int = 12) -> str:
    """The last lines of a command's output, for error messages."""
    if not text:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


class CommandError(LabError):
    """An external command exited non-zero (or timed out)."""

    def __init__(self, argv: Sequence[str], returncode: int | None, stdout: str, stderr: str, reason: str = "") -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        outcome = reason or f"exit {returncode}"
        message = f"command failed ({outcome}): {' '.join(self.argv)}"
        detail = text_tail(stderr) or text_tail(stdout)
        if detail:
            message += "\n" + "\n".join(f"  | {line}" for line in detail.splitlines())
        super().__init__(message)
