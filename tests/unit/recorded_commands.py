"""Recorded answers for the modules' command runner, in place of real programs."""

from __future__ import annotations

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import EXITED, CommandResult


def exited(rc: int, stdout: bytes = b"", stderr: bytes = b"") -> CommandResult:
    """What the runner returns for a program that ran to its end with ``rc``."""
    return CommandResult(EXITED, rc, stdout, stderr, len(stdout), 0.0)
