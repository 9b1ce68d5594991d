"""The ``tecrax_ansible`` connector runtime: guards, one playbook run, facts out.

``invoke`` never raises. Every failure is a ``ConnectorResponse(success=False)`` whose
``data.error_class`` is one of RExecOp's classes and whose message names no local path,
environment value or secret.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rexecop.connectors import ConnectorRequest, ConnectorResponse

from tecrax import __version__, collection_root
from tecrax.backend import progress
from tecrax.backend.approval import approval_of_running_operation
from tecrax.backend.actions import (
    ActionCatalogError,
    ActionSpec,
    InputCatalog,
    load_action_catalog,
    load_input_catalog,
)
from tecrax.backend.config import ConfigError, ConnectorConfig, optional_absolute_path, parse_connector_config
from tecrax.backend.digests import collection_digests
from tecrax.backend.facts_check import FactsRejected, canonical_json, check_facts, sha256_digest, validator_for
from tecrax.backend.node_run import ExecutionNode, NodeFailure
from tecrax.backend.playbook_run import PlaybookRun, RunHost, run_playbook
from tecrax.backend.ssh_control import control_options

TIMEOUT = "timeout"
TRANSIENT = "transient_connector_error"
POLICY_DENIED = "policy_denied"
UNSUPPORTED = "unsupported"
AUTH_FAILED = "auth_failed"
VALIDATION_FAILED = "validation_failed"

# RExecOp's read-only modes plus the profile's own read_only mode.
READ_ONLY_MODES = frozenset({"read_only", "dry_run", "observe", "emergency_readonly"})
CHECK_MODES = frozenset({"dry_run"})
MAX_MESSAGE_CHARS = 300

_AUTH_MARKERS = (
    "permission denied",
    "authentication failed",
    "host key verification failed",
    "remote host identification has changed",
    "no matching host key",
)
_UNREACHABLE_REASONS = (
    ("no route to host", "no route to host"),
    ("connection refused", "connection refused"),
    ("timed out", "connection timed out"),
    ("could not resolve", "name resolution failed"),
    ("name or service not known", "name resolution failed"),
    ("network is unreachable", "network unreachable"),
    ("connection reset", "connection reset"),
    ("connection closed", "connection closed by the target"),
    # ssh's keepalive (ServerAliveInterval) gave up: the link or the host went away mid-run.
    ("not responding", "connection lost mid-run"),
)
# ssh ends a session whose keepalives go unanswered this long, so a link that dies mid-run
# is reported as unreachable instead of waiting for the step's timeout.
SERVER_ALIVE_INTERVAL_SECONDS = 5
SERVER_ALIVE_COUNT_MAX = 3
# A path starts with a letter, dot, underscore or tilde after its slash; "/24" and
# "fc00::/7" are prefix lengths of networks named in messages.
_PATH = re.compile(r"(?<![\w.:-])/(?=[A-Za-z_.~])[^\s'\"]+")


@dataclass(frozen=True)
class _Identity:
    key_file: str | None = None
    key_material: str | None = None


@dataclass(frozen=True)
class Failure(Exception):
    error_class: str
    message: str
    data: Mapping[str, Any] | None = None


class AnsibleBackend:
    """Runs fixed playbooks of the bundled ``tecrax.ops`` collection for RExecOp steps."""

    def __init__(
        self,
        *,
        connector_name: str,
        config: Mapping[str, Any] | None,
        profile_root: str | None,
        mutating_allowed: bool,
        secret_resolver: Any = None,
    ) -> None:
        self.connector_name = connector_name
        self.mutating_allowed = bool(mutating_allowed)
        self._raw_config = config
        self._profile_root = profile_root
        self._secret_resolver = secret_resolver
        self._config: ConnectorConfig | None = None
        self._catalog: dict[str, ActionSpec] | None = None

    def invoke(self, request: ConnectorRequest) -> ConnectorResponse:
        try:
            return self._invoke(request)
        except Failure as failure:
            return self._failed(request, failure.error_class, failure.message, failure.data)
        except NodeFailure as failure:
            return self._failed(request, failure.error_class, failure.message)
        except Exception as exc:  # noqa: BLE001 - the backend must never raise into RExecOp
            return self._failed(request, TRANSIENT, f"internal backend error ({type(exc).__name__})")

    # -- the steps of one invocation, in order ------------------------------------------------

    def _invoke(self, request: ConnectorRequest) -> ConnectorResponse:
        if request.connector != self.connector_name:
            raise Failure(UNSUPPORTED, f"backend serves connector {self.connector_name} only")
        action = self._action(request.action)
        self._refuse_unadmitted_mutation(action, request.mode)
        self._refuse_unapproved_apply(request)
        config = self._connector_config()
        target = str(request.target or "")
        if target not in config.inventory:
            group = self._group_step(request, action, config, target)
            if group is not None:
                return group
        inputs = load_input_catalog(self._profile_path())
        host = _where_it_runs(action, inputs, self._run_host(config, target))
        extravars = _action_inputs(action, host, target, inputs.secrets)
        secrets = self._secret_inputs(action, host, target)
        try:
            return self._run_action(request, action, config, host, target, extravars, secrets)
        except Failure as failure:
            # Ansible masks no_log options itself; this keeps a resolved secret out of any
            # message the backend builds from what came back.
            raise Failure(failure.error_class, _without(failure.message, list(secrets.values())), failure.data) from None

    def _run_action(
        self,
        request: ConnectorRequest,
        action: ActionSpec,
        config: ConnectorConfig,
        host: Any,
        target: str,
        extravars: dict[str, Any],
        secrets: dict[str, str],
    ) -> ConnectorResponse:
        timeout = _effective_limit(request, "timeout_seconds", config.timeout_seconds)
        max_output = _effective_limit(request, "max_output_bytes", config.max_output_bytes)
        if not (collection_root() / action.playbook).is_file():
            raise Failure(UNSUPPORTED, f"the bundled collection has no playbook for {action.name}")
        progress.emit(phase="started", action=action.name, module=action.module, target=target)
        identity = _Identity() if host.connection == "local" else self._identity(config)
        prepared = _prepare_result_checks(self._profile_path() / action.schema, action)
        run = run_playbook(
            collection_root=collection_root(),
            playbook=action.playbook,
            module=action.module,
            hosts=[RunHost(target, _host_variables(config, host, identity.key_file))],
            ssh_args=_ssh_args(config, timeout, identity),
            pipelining=config.ssh_pipelining,
            timeout_seconds=timeout,
            check_mode=request.mode in CHECK_MODES,
            extravars=extravars,
            secret_inputs=secrets,
            ssh_key=identity.key_material,
            node=_execution_node(config, [host]),
        )
        prepared.join()
        progress.emit(
            phase="finished", action=action.name, target=target,
            status=run.outcome_for(target).status, seconds=run.duration_seconds,
        )
        try:
            result = _module_result(run, target)
        except Failure as failure:
            raise Failure(failure.error_class, failure.message, self._failed_module_data(action, run, target)) from None
        return self._succeeded(request, action, result, run, max_output)

    def _action(self, name: str) -> ActionSpec:
        if self._catalog is None:
            try:
                self._catalog = load_action_catalog(self._profile_path())
            except ActionCatalogError as exc:
                raise Failure(UNSUPPORTED, f"profile action catalog unusable: {exc}") from None
        action = self._catalog.get(name)
        if action is None:
            raise Failure(UNSUPPORTED, f"unknown action for {self.connector_name}: {name[:64]}")
        return action

    def _refuse_unadmitted_mutation(self, action: ActionSpec, mode: str) -> None:
        if not action.mutating:
            return
        if mode in READ_ONLY_MODES:
            raise Failure(POLICY_DENIED, f"mutating action {action.name} refused in {mode} mode")
        if not self.mutating_allowed:
            raise Failure(
                POLICY_DENIED,
                f"mutating action {action.name} refused: the operation was not approved for mutation",
            )

    def _refuse_unapproved_apply(self, request: ConnectorRequest) -> None:
        """Every step of an operation in a mutating mode (its reads too, so nothing connects)
        needs an approval record naming an approver: RExecOp's own gate trusts the operation
        record, which a hand edit can set to approved."""
        if request.mode in READ_ONLY_MODES:
            return
        check = approval_of_running_operation(request)
        if check.approver is None:
            raise Failure(
                POLICY_DENIED,
                f"{request.mode} step {request.action} refused: {check.reason}; an apply runs only after "
                "rexecop approve --operation <id> --by <name>",
            )

    def _connector_config(self) -> ConnectorConfig:
        if self._config is None:
            try:
                self._config = parse_connector_config(self._raw_config, load_input_catalog(self._profile_path()))
            except ConfigError as exc:
                raise Failure(VALIDATION_FAILED, f"connector config: {exc}") from None
        return self._config

    def _run_host(self, config: ConnectorConfig, target: str) -> Any:
        host = config.host_for(target)
        if host is None:
            raise Failure(VALIDATION_FAILED, f"target {target[:64]!r} is not in the connector inventory")
        return host

    def _group_step(
        self, request: ConnectorRequest, action: ActionSpec, config: ConnectorConfig, target: str
    ) -> ConnectorResponse | None:
        """Run the step over the members when ``target`` is an environment group (see
        ``tecrax.backend.groups``); ``None`` when it is not one."""
        from tecrax.backend.group_run import resolve_group_step

        return resolve_group_step(self, request, action, config, target)

    def _identity(self, config: ConnectorConfig) -> _Identity:
        """Resolve the identity secret: a path to a key file, or the key itself (which goes to
        a fresh ssh-agent and is never written to disk)."""
        ref = config.identity_file_secret_ref
        if ref is None:
            return _Identity()
        try:
            value = str(self._resolver().resolve(ref))
        except Exception:  # noqa: BLE001 - resolver errors may quote environment names
            raise Failure(AUTH_FAILED, f"identity secret {ref} could not be resolved") from None
        if value.lstrip().startswith("-----BEGIN"):
            return _Identity(key_material=value.strip() + "\n")
        try:
            path = optional_absolute_path(value, "identity")
        except ConfigError:
            path = None
        if path is None or not Path(path).is_file():
            raise Failure(AUTH_FAILED, f"identity secret {ref} does not name a readable key file")
        return _Identity(key_file=path)

    def _secret_inputs(self, action: ActionSpec, host: Any, target: str) -> dict[str, str]:
        """Resolve the action's secret inputs by reference: ``{extra var name: value}``.

        The playbook run serves each through a pipe (never through a file or a variable); the
        module reads it from its ``*_file`` option. A reference that does not resolve refuses
        the step (auth_failed) before Ansible runs; the message names the reference, never a
        value.
        """
        secrets = load_input_catalog(self._profile_path()).secrets
        values: dict[str, str] = {}
        for name in action.inputs:
            if name not in secrets:
                continue
            declared = secrets[name]
            ref = (host.inputs.get(declared.block) or {}).get(declared.ref_key)
            if ref is None:
                raise Failure(
                    VALIDATION_FAILED,
                    f"action {action.name} needs inventory.{target[:64]}.{declared.block}.{declared.ref_key}"
                    " in the connector config",
                )
            try:
                value = str(self._resolver().resolve(ref))
            except Exception:  # noqa: BLE001 - resolver errors may quote environment names
                raise Failure(AUTH_FAILED, f"secret {ref} could not be resolved") from None
            values[f"tecrax_{name}"] = value
        return values

    def _resolver(self) -> Any:
        if self._secret_resolver is None:
            from rexecop.secrets.resolver import default_secret_resolver

            self._secret_resolver = default_secret_resolver()
        return self._secret_resolver

    def _profile_path(self) -> Path:
        if self._profile_root:
            return Path(self._profile_root)
        from tecrax import profile_root

        return Path(profile_root())

    # -- responses --------------------------------------------------------------------------

    def _succeeded(
        self,
        request: ConnectorRequest,
        action: ActionSpec,
        result: Mapping[str, Any],
        run: PlaybookRun,
        max_output: int,
    ) -> ConnectorResponse:
        facts = result.get("facts")
        try:
            encoded = check_facts(
                facts,
                schema_path=self._profile_path() / action.schema,
                contract_id=action.facts_contract,
            )
        except FactsRejected as exc:
            raise Failure(VALIDATION_FAILED, str(exc)) from None
        data: dict[str, Any] = {
            "action": action.name,
            "target": request.target,
            "mode": request.mode,
            "changed": bool(result.get("changed", False)),
            "check_mode": request.mode in CHECK_MODES,
            "facts_contract": action.facts_contract,
            "facts_key": action.facts_key,
            "facts": facts,
            "output_digests": {"facts": sha256_digest(encoded)},
            "output_sizes": {"facts_bytes": len(encoded)},
            "output_truncated": {"facts": False},
            "collection": {"name": "tecrax.ops", "version": __version__, **collection_digests(action)},
            "runner": {"status": run.status, "duration_seconds": run.duration_seconds},
        }
        for state_key in ("before_state", "after_state"):
            if isinstance(result.get(state_key), dict):
                data[state_key] = result[state_key]
        size = len(canonical_json(data))
        if size > max_output:
            raise Failure(VALIDATION_FAILED, f"step data of {size} bytes exceeds max_output_bytes {max_output}")
        return ConnectorResponse(request.connector, request.action, True, data, "")

    def _failed_module_data(self, action: ActionSpec, run: PlaybookRun, target: str) -> dict[str, Any] | None:
        """What a failed module still reported: schema-valid facts (a mutation says there
        whether it restored the previous state), its changed flag and before/after state."""
        result = run.outcome_for(target).result
        if run.outcome_for(target).status != "failed" or not isinstance(result.get("facts"), dict):
            return None
        try:
            check_facts(result["facts"], schema_path=self._profile_path() / action.schema,
                        contract_id=action.facts_contract)
        except FactsRejected:
            return None
        data: dict[str, Any] = {
            "facts_contract": action.facts_contract,
            "facts": result["facts"],
            "changed": bool(result.get("changed", False)),
        }
        for state_key in ("before_state", "after_state"):
            if isinstance(result.get(state_key), dict):
                data[state_key] = result[state_key]
        return data

    def _failed(
        self,
        request: ConnectorRequest,
        error_class: str,
        message: str,
        extra: Mapping[str, Any] | None = None,
    ) -> ConnectorResponse:
        message = _scrub(message)
        data = {
            **(extra or {}),
            "action": str(request.action)[:64],
            "target": str(request.target)[:64],
            "mode": str(request.mode)[:32],
            "error_class": error_class,
            "error": message,
        }
        return ConnectorResponse(request.connector, request.action, False, data, message)


def _prepare_result_checks(schema: Path, action: ActionSpec) -> threading.Thread:
    """Build the facts validator (importing jsonschema) and digest the collection files in a
    thread while the playbook runs, instead of after it: both are cached, and the checks of
    the result then use them. A failure here is left for those checks to report."""

    def prepare() -> None:
        try:
            validator_for(str(schema))
            collection_digests(action)
        except Exception:  # noqa: BLE001 - the result checks repeat the work and report it
            pass

    # The run imports ansible_runner first thing; importing it before the thread starts leaves
    # the thread's imports the only ones in flight (imports from two threads at once can meet
    # in a package's circular import), and nothing else is imported during the run.
    import ansible_runner  # noqa: F401

    thread = threading.Thread(target=prepare, name="tecrax-prepare-checks", daemon=True)
    thread.start()
    return thread


def _module_result(run: PlaybookRun, target: str) -> Mapping[str, Any]:
    if run.status == "timeout":
        raise Failure(TIMEOUT, f"playbook run exceeded its timeout after {run.duration_seconds:.0f}s")
    outcome = run.outcome_for(target)
    message = str(outcome.result.get("msg") or "")
    if outcome.status == "ok":
        return outcome.result
    if outcome.status == "unreachable":
        if any(marker in message.lower() for marker in _AUTH_MARKERS):
            raise Failure(AUTH_FAILED, f"SSH authentication or host key check failed for {target}")
        raise Failure(TRANSIENT, f"target {target} unreachable ({_unreachable_reason(message)})")
    if outcome.status == "failed":
        if outcome.result.get("timed_out") is True:
            # The module's own budget ended a hung command (see command_runner).
            raise Failure(TIMEOUT, f"module on {target} {message or 'timed out'}")
        raise Failure(VALIDATION_FAILED, f"module failed on {target}: {message or 'no message'}")
    if outcome.status == "skipped":
        raise Failure(VALIDATION_FAILED, f"module was skipped on {target}")
    raise Failure(TRANSIENT, f"playbook run ended {run.status} without a result for {target}")


def _where_it_runs(action: ActionSpec, inputs: InputCatalog, host: Any) -> Any:
    """The host entry the run uses: the target's own, or the controller (local connection)
    for an action whose module only talks to services from the controller."""
    if action.runs_on_controller(inputs) and host.connection != "local":
        return replace(host, host="localhost", connection="local", python_interpreter=None)
    return host


def _action_inputs(action: ActionSpec, host: Any, target: str, secrets: Mapping[str, Any]) -> dict[str, Any]:
    """Extra vars ``tecrax_<input>`` for the action's declared inputs, from the target's
    already validated inventory entry; a missing one refuses the step before Ansible runs
    (a missing optional one is left out). Secret inputs are resolved separately
    (AnsibleBackend._secret_inputs)."""
    extravars: dict[str, Any] = {}
    for name in action.inputs + action.optional_inputs:
        if name in secrets:
            continue
        value = host.inputs.get(name)
        if value is None and name in action.optional_inputs:
            continue
        if value is None:
            raise Failure(
                VALIDATION_FAILED,
                f"action {action.name} needs inventory.{target[:64]}.{name} in the connector config",
            )
        extravars[f"tecrax_{name}"] = list(value) if isinstance(value, tuple) else value
    return extravars


def _without(message: str, secret_values: list[str]) -> str:
    for value in secret_values:
        if value:
            message = message.replace(value, "[REDACTED]")
    return message


def _unreachable_reason(message: str) -> str:
    """A short, fixed reason instead of SSH's text (which names addresses and paths)."""
    lowered = message.lower()
    for marker, reason in _UNREACHABLE_REASONS:
        if marker in lowered:
            return reason
    return "SSH connection failed"


def _host_variables(config: ConnectorConfig, host: Any, identity: str | None) -> dict[str, Any]:
    if host.connection == "local":
        import sys

        return {
            "ansible_connection": "local",
            "ansible_python_interpreter": config.python_interpreter or sys.executable,
        }
    variables: dict[str, Any] = {
        "ansible_connection": "ssh",
        "ansible_host": host.host,
        "ansible_port": host.port,
        "ansible_python_interpreter": host.python_interpreter
        or config.python_interpreter
        or "/usr/bin/python3",
    }
    user = host.user or config.user
    if user:
        variables["ansible_user"] = user
    if identity:
        variables["ansible_ssh_private_key_file"] = identity
    return variables


def _ssh_args(config: ConnectorConfig, timeout: int, identity: _Identity | None = None) -> str:
    if config.connection == "local":
        return ""
    identity = identity or _Identity()
    agent = identity.key_material is not None
    options = {
        "UserKnownHostsFile": config.known_hosts_file,
        "GlobalKnownHostsFile": "/dev/null",
        "StrictHostKeyChecking": "yes",
        "BatchMode": "yes",
        "PasswordAuthentication": "no",
        "ConnectTimeout": str(max(1, min(10, timeout))),
        "ServerAliveInterval": str(SERVER_ALIVE_INTERVAL_SECONDS),
        "ServerAliveCountMax": str(SERVER_ALIVE_COUNT_MAX),
        # With key material the key is in the run's own ssh-agent, which IdentitiesOnly would
        # exclude; that agent holds that one key only.
        "IdentitiesOnly": "no" if agent else "yes",
    }
    options.update(control_options(
        options, persist_seconds=config.ssh_control_persist_seconds, known_hosts_file=config.known_hosts_file,
        identity_file=identity.key_file, key_material=identity.key_material,
    ))
    return " ".join(f"-o {key}={value}" for key, value in options.items())


def _execution_node(config: ConnectorConfig, hosts: list[Any]) -> ExecutionNode | None:
    """The configured execution node, for a run whose hosts are all reached over SSH (a
    ``connection: local`` target is a controller-side check and runs on the controller)."""
    if config.execution_node is None or any(host.connection == "local" for host in hosts):
        return None
    return config.execution_node


def _effective_limit(request: ConnectorRequest, name: str, configured: int) -> int:
    metadata = request.metadata if isinstance(request.metadata, Mapping) else {}
    controls = metadata.get("execution_controls")
    value = controls.get(name) if isinstance(controls, Mapping) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return max(1, min(configured, int(value)))
    return configured


def _scrub(message: str) -> str:
    text = " ".join(_PATH.sub("<path>", str(message)).split())
    return text[:MAX_MESSAGE_CHARS]
