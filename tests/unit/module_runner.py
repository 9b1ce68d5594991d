"""Running a module's ``main()`` in-process, as Ansible would with the given arguments."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from ansible.module_utils.testing import patch_module_args


def run_module(main: Callable[[], None], capsys: pytest.CaptureFixture[str],
               args: dict[str, Any] | None = None) -> tuple[int, dict[str, Any], str]:
    """The module's exit code, its JSON result and the raw output it printed."""
    with patch_module_args(args or {}):
        with pytest.raises(SystemExit) as exited:
            main()
    output = capsys.readouterr().out
    return exited.value.code or 0, json.loads(output), output
