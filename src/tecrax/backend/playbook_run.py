"""One ansible-runner run of one fixed playbook, with per-host outcomes from the event stream.

Every run gets a fresh private data directory (ansible-runner keeps env files and writes the
environment into artifacts, so a shared directory would leak state between runs); it is
removed afterwards. Results are read from ``runner_on_*`` events, never from text output.
The run covers a list of hosts so that a group target can use the same path later.

The module gets a time budget a little under the run's timeout (``module_budget_seconds``,
the extra var ``tecrax_module_budget_seconds``, which the playbooks pass to the module as
``TECRAX_MODULE_BUDGET_SECONDS``): the module ends its own commands and answers "timed out"
while the SSH session still stands, instead of being cut off by ansible-runner's timeout and
leaving its commands running on the host.

Operator values never reach Ansible's templar: ansible-core 2.19 trusts inventory files and
extra-vars files as templates, so every string in both is written with YAML's ``!unsafe`` tag
and reaches the module (or the connection plugin) as literal text.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

HostStatus = Literal["ok", "failed", "unreachable", "skipped", "no_result"]
# The part of a run's timeout that is not the module's: ansible-playbook starting, the SSH
# connection, the module's transfer and its answer.
MIN_MODULE_MARGIN_SECONDS = 10
MAX_MODULE_MARGIN_SECONDS = 30
BUDGET_VARIABLE = "tecrax_module_budget_seconds"
_EVENT_STATUS: dict[str, HostStatus] = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}


@dataclass(frozen=True)
class HostOutcome:
    status: HostStatus
    result: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlaybookRun:
    status: str  # ansible-runner status: successful, failed, timeout, canceled
    rc: int | None
    duration_seconds: float
    hosts: Mapping[str, HostOutcome]

    def outcome_for(self, host: str) -> HostOutcome:
        return self.hosts.get(host, HostOutcome("no_result"))


@dataclass(frozen=True)
class RunHost:
    """One inventory entry; ``name`` is the RExecOp target id."""

    name: str
    variables: Mapping[str, str | int | bool]


def run_playbook(
    *,
    collection_root: Path,
    playbook: str,
    module: str,
    hosts: Sequence[RunHost],
    ssh_args: str,
    pipelining: bool,
    timeout_seconds: int,
    check_mode: bool,
    extravars: Mapping[str, Any] | None = None,
) -> PlaybookRun:
    """Run ``playbook`` of the collection over ``hosts`` and collect ``module``'s results.

    ``extravars`` (the action's validated inputs) and the module budget go to the private
    data dir's ``env/extravars``, which ansible-runner passes as ``-e @file``: they outrank
    every other variable source."""
    import ansible_runner  # imported lazily: backend factories must stay cheap

    outcomes: dict[str, HostOutcome] = {}

    def on_event(event: Mapping[str, Any]) -> bool:
        status = _EVENT_STATUS.get(str(event.get("event")))
        data = event.get("event_data")
        if status is None or not isinstance(data, Mapping):
            return False
        if data.get("task_action") != module:
            return False
        host = str(data.get("host") or "")
        result = data.get("res")
        outcomes[host] = HostOutcome(status, result if isinstance(result, Mapping) else {})
        return False

    workdir = Path(tempfile.mkdtemp(prefix="tecrax-run-"))
    try:
        variables = {**(extravars or {}), BUDGET_VARIABLE: module_budget_seconds(timeout_seconds)}
        _prepare_private_data_dir(workdir, collection_root, hosts, variables)
        started = time.monotonic()
        runner = ansible_runner.run(
            private_data_dir=str(workdir),
            project_dir=str(workdir / "project"),
            playbook=str(collection_root / playbook),
            inventory=str(workdir / "inventory" / "hosts.yml"),
            limit=",".join(host.name for host in hosts),
            envvars=_ansible_environment(workdir, ssh_args, pipelining),
            cmdline="--check --diff" if check_mode else None,
            timeout=timeout_seconds,
            event_handler=on_event,
            quiet=True,
            json_mode=False,
        )
        return PlaybookRun(
            status=str(runner.status),
            rc=runner.rc if isinstance(runner.rc, int) else None,
            duration_seconds=round(time.monotonic() - started, 3),
            hosts=outcomes,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def module_budget_seconds(timeout_seconds: int) -> int:
    """The module's share of a run's timeout: a quarter of it (10 to 30 s) is kept back."""
    margin = min(MAX_MODULE_MARGIN_SECONDS, max(MIN_MODULE_MARGIN_SECONDS, timeout_seconds // 4))
    return max(1, timeout_seconds - margin)


def _prepare_private_data_dir(
    workdir: Path, collection_root: Path, hosts: Sequence[RunHost], extravars: Mapping[str, Any]
) -> None:
    os.chmod(workdir, 0o700)
    namespace_dir = workdir / "collections" / "ansible_collections" / "tecrax"
    namespace_dir.mkdir(parents=True)
    (namespace_dir / "ops").symlink_to(collection_root, target_is_directory=True)
    (workdir / "project").mkdir()
    (workdir / "home").mkdir()
    (workdir / "inventory").mkdir()
    inventory = {
        "all": {"hosts": {host.name: dict(host.variables) for host in hosts}},
    }
    (workdir / "inventory" / "hosts.yml").write_text(untrusted_yaml(inventory), encoding="utf-8")
    if extravars:
        (workdir / "env").mkdir()
        extravars_file = workdir / "env" / "extravars"
        extravars_file.touch(mode=0o600)
        extravars_file.write_text(untrusted_yaml(dict(extravars)), encoding="utf-8")
    # An empty configuration file: no ansible.cfg of the operator or the machine applies.
    (workdir / "ansible.cfg").write_text("[defaults]\n", encoding="utf-8")


class _UntrustedDumper(yaml.SafeDumper):
    """Writes every string *value* as ``!unsafe``; mapping keys stay plain names."""

    def represent_mapping(self, tag: str, mapping: Any, flow_style: Any = None) -> yaml.MappingNode:
        node = super().represent_mapping(tag, mapping, flow_style)
        for key_node, _ in node.value:
            key_node.tag = "tag:yaml.org,2002:str"
        return node


_UntrustedDumper.add_representer(str, lambda dumper, value: dumper.represent_scalar("!unsafe", value))


def untrusted_yaml(data: Mapping[str, Any]) -> str:
    """``data`` as YAML that Ansible loads without ever templating a string in it."""
    return yaml.dump(data, Dumper=_UntrustedDumper, default_flow_style=False, sort_keys=True)


def _ansible_environment(workdir: Path, ssh_args: str, pipelining: bool) -> dict[str, str]:
    # ansible-playbook is looked up on PATH; the one beside this interpreter is the one that
    # matches the installed ansible-core, even when the venv is not activated.
    search_path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {
        "PATH": search_path,
        "ANSIBLE_CONFIG": str(workdir / "ansible.cfg"),
        "ANSIBLE_HOME": str(workdir / "home"),
        "ANSIBLE_LOCAL_TEMP": str(workdir / "home" / "tmp"),
        "ANSIBLE_COLLECTIONS_PATH": str(workdir / "collections"),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_SSH_ARGS": ssh_args,
        "ANSIBLE_PIPELINING": str(pipelining),
        "ANSIBLE_GATHERING": "explicit",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "True",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "ANSIBLE_SYSTEM_WARNINGS": "False",
    }
