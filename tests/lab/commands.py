"""Running external commands with error messages that say what failed."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from os import PathLike

from lab.errors import CommandError, LabError

Arg = str | PathLike[str]


def run(
    argv: Sequence[Arg],
    *,
    check: bool = True,
    timeout: float | None = 60.0,
    input_text: str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing text output; raise CommandError on failure if `check`."""
    args = [str(arg) for arg in argv]
    try:
        completed = subprocess.run(
            args,
            input=input_text,
            stdin=subprocess.DEVNULL if input_text is None else None,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env=env,
            check=False,
        )
    except FileNotFoundError as error:
        raise LabError(f"{args[0]} is not installed (needed to run: {' '.join(args)})") from error
    except subprocess.TimeoutExpired as error:
        raise CommandError(
            args, None, _as_text(error.stdout), _as_text(error.stderr), f"timed out after {timeout} s"
        ) from error
    if check and completed.returncode != 0:
        raise CommandError(args, completed.returncode, completed.stdout, completed.stderr)
    return completed


def _as_text(output: bytes | str | None) -> str:
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""
