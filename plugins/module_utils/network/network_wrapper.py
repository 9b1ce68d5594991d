# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Calls of the operator-owned ``tecrax-network-cli-readonly`` wrapper.

The wrapper contract (docs/runbooks/network-device-readonly-runbook.md): one argument, a fixed
subcommand (``system-info`` or ``ssh-status``); the device's CLI output on stdout, at most
``MAX_OUTPUT_BYTES``; exit status 0 when the output is the device's answer, anything else when
it is not. The device is named by the environment variable ``TECRAX_NETWORK_DEVICE``.

A wrapper talks to a device over the network, so each call runs through the modules' command
runner (``command_runner``): an argv list, no shell, no stdin, a small fixed environment, its
own process group (killed whole on timeout or excess output), stdout read up to the bound and
stderr discarded. Each call has its own time limit, within the module's budget.
"""

from __future__ import annotations

import os
import re
import stat
import time
from typing import Any, Mapping

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import (
    NOT_STARTED,
    OUTPUT_LIMIT_EXCEEDED,
    TIMEOUT,
    CommandRunner,
    CommandTimedOut,
    fail_timed_out,
    module_commands,
    run_command,
)
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import MAX_RAW_BYTES
from ansible_collections.tecrax.ops.plugins.module_utils.network.network_device import (
    SUBCOMMANDS,
    WRAPPER_NAME,
)

MAX_OUTPUT_BYTES = MAX_RAW_BYTES
DEFAULT_TIMEOUT_SECONDS = 30
MAX_TIMEOUT_SECONDS = 300
DEVICE_ENV = "TECRAX_NETWORK_DEVICE"
SEARCH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Passed through when set: ssh needs HOME, and an operator may authenticate with an agent.
PASSED_ENV = ("HOME", "SSH_AUTH_SOCK")

_DEVICE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\Z")


class WrapperConfigError(ValueError):
    """The wrapper path or device id is unusable; the message says why."""


def check_wrapper_path(path: object) -> str:
    """Validate the syntax of a wrapper path; return it or raise ``WrapperConfigError``.

    Absolute, normalised (no ``.``/``..`` parts, no doubled or trailing ``/``), printable
    without blanks, and naming a file called ``tecrax-network-cli-readonly``.
    """
    if not isinstance(path, str) or not path.startswith("/") or len(path) > 4096:
        raise WrapperConfigError("wrapper_path must be an absolute path")
    if any(not char.isprintable() or char.isspace() for char in path):
        raise WrapperConfigError("wrapper_path must not contain blanks or control characters")
    parts = path.split("/")[1:]
    if any(part in ("", ".", "..") for part in parts):
        raise WrapperConfigError("wrapper_path must be normalised (no '.', '..' or empty parts)")
    if parts[-1] != WRAPPER_NAME:
        raise WrapperConfigError("wrapper_path must name a file called " + WRAPPER_NAME)
    return path


SETTINGS_KEYS = ("wrapper_path", "timeout_seconds")


def device_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A target's checked network-device settings (``wrapper_path``, ``timeout_seconds``) as
    the Tecrax backend passes them to the modules; messages start with the offending key."""
    unknown = sorted(str(key) for key in settings if key not in SETTINGS_KEYS)
    if unknown:
        raise WrapperConfigError("%s is not a known key (known: %s)" % (unknown[0], ", ".join(SETTINGS_KEYS)))
    timeout = settings.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= MAX_TIMEOUT_SECONDS:
        raise WrapperConfigError("timeout_seconds must be an integer from 1 to %d" % MAX_TIMEOUT_SECONDS)
    return {"wrapper_path": check_wrapper_path(settings.get("wrapper_path")), "timeout_seconds": timeout}


def check_device_id(device_id: object) -> str | None:
    if device_id is None:
        return None
    if not isinstance(device_id, str) or not _DEVICE_ID.match(device_id):
        raise WrapperConfigError("device_id must be 1-63 characters of [A-Za-z0-9_.-]")
    return device_id


def insecure_reason(path: str) -> str | None:
    """Why the existing wrapper must not be run, or ``None``.

    An operator-owned program runs with the controller's privileges, so it and its directory
    must be writable only by root or the user running the module.
    """
    allowed_owners = {0, os.geteuid()}
    for where in (path, os.path.dirname(path)):
        try:
            info = os.stat(where)
        except OSError:
            return None  # a missing wrapper is reported as missing, not as insecure
        if info.st_uid not in allowed_owners:
            return "%s is owned by another user" % ("the wrapper" if where == path else "its directory")
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return "%s is writable by group or others" % (
                "the wrapper" if where == path else "its directory")
    return None


def run_wrapper(path: str, subcommand: str, *, device_id: str | None = None,
                timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS,
                commands: CommandRunner | None = None) -> dict[str, Any]:
    """Call the wrapper once; return ``{status, exit_code, output, output_bytes, seconds}``.

    ``status``: ``ok`` (exit 0), ``failed`` (non-zero exit or killed by a signal),
    ``timeout``, ``output_limit_exceeded`` (more than ``MAX_OUTPUT_BYTES`` on stdout; the
    wrapper is killed), ``missing`` (not an executable regular file). Never raises for
    anything the wrapper does; with ``commands`` (the module's runner), a call that the
    module's budget ends raises :class:`CommandTimedOut`.
    """
    if subcommand not in SUBCOMMANDS:
        raise ValueError("subcommand must be one of " + ", ".join(SUBCOMMANDS))
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return _result("missing", None, b"", 0.0)
    environment = {"PATH": SEARCH_PATH}
    environment.update({name: os.environ[name] for name in PASSED_ENV if name in os.environ})
    if device_id is not None:
        environment[DEVICE_ENV] = device_id
    argv = [path, subcommand]
    options: dict[str, Any] = {"environment": environment, "max_output_bytes": MAX_OUTPUT_BYTES,
                               "kill_on_overflow": True, "capture_stderr": False}
    if commands is None:
        ended = run_command(argv, deadline=time.monotonic() + timeout_seconds, **options)
    else:
        ended = commands.run(argv, timeout_seconds=timeout_seconds, **options)
    if ended.status == NOT_STARTED:
        return _result("missing", None, b"", ended.seconds)
    if ended.status == TIMEOUT:
        return _result(TIMEOUT, None, b"", ended.seconds)
    if ended.status == OUTPUT_LIMIT_EXCEEDED:
        return _result(OUTPUT_LIMIT_EXCEEDED, None, b"", ended.seconds, ended.stdout_bytes)
    if ended.exit_code != 0:
        return _result("failed", ended.exit_code, b"", ended.seconds, ended.stdout_bytes)
    return _result("ok", 0, ended.stdout, ended.seconds)


def _result(status: str, exit_code: int | None, output: bytes, seconds: float,
            size: int | None = None) -> dict[str, Any]:
    return {
        "status": status,
        "exit_code": exit_code,
        "output": output,
        "output_bytes": len(output) if size is None else size,
        "seconds": round(seconds, 3),
    }


def observe_device(path: str, *, device_id: str | None, timeout_seconds: int,
                   family_of: Any, commands: CommandRunner | None = None) -> Mapping[str, Any]:
    """Both wrapper calls. ``ssh-status`` runs only when ``family_of(system-info output)``
    names a supported family: an unsupported or silent device is not asked again."""
    system_info = run_wrapper(path, "system-info", device_id=device_id,
                              timeout_seconds=timeout_seconds, commands=commands)
    ssh_status: dict[str, Any] = _result("not_run", None, b"", 0.0)
    if system_info["status"] == "ok" and family_of(system_info["output"]) is not None:
        ssh_status = run_wrapper(path, "ssh-status", device_id=device_id,
                                 timeout_seconds=timeout_seconds, commands=commands)
    return {"system_info": system_info, "ssh_status": ssh_status}


def wrapper_argument_spec(default_timeout: int = DEFAULT_TIMEOUT_SECONDS) -> dict[str, Any]:
    """The options both network-device modules take (documented in doc fragment network_wrapper)."""
    return {
        "wrapper_path": {"type": "str", "required": True},
        "device_id": {"type": "str"},
        "timeout_seconds": {"type": "int", "default": default_timeout},
    }


def observe_with_module(module: Any, family_of: Any) -> Mapping[str, Any]:
    """Validate the module's options, refuse an unsafe wrapper, then call it.

    Bad options and an unsafe wrapper end the module with ``fail_json`` and a message that
    names the option; a wrapper that cannot be run is an observation (``missing``), and so is
    a call that exceeds ``timeout_seconds`` (``timeout``). A call still running when the
    module's budget is spent fails the module as timed out.
    """
    commands = module_commands(module)
    params = module.params
    try:
        path = check_wrapper_path(params["wrapper_path"])
        device_id = check_device_id(params["device_id"])
    except WrapperConfigError as exc:
        module.fail_json(msg=str(exc))
    timeout = params["timeout_seconds"]
    if not 1 <= timeout <= MAX_TIMEOUT_SECONDS:
        module.fail_json(msg="timeout_seconds must be between 1 and %d" % MAX_TIMEOUT_SECONDS)
    reason = insecure_reason(path)
    if reason:
        module.fail_json(msg="refusing to run the wrapper: " + reason)
    try:
        return observe_device(path, device_id=device_id, timeout_seconds=timeout, family_of=family_of,
                              commands=commands)
    except CommandTimedOut as exc:
        fail_timed_out(module, exc)
        raise  # not reached: fail_json exits
