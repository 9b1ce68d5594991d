# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The chrony NTP server mutation on the host: files, fixed commands and transactions.

Everything the modules do goes through :class:`ChronyHost` (files and argv-only commands),
and three transactions decide what to do:

* :func:`read` observes the host (nothing changes);
* :func:`apply` makes the file hold the desired content (or be absent): unchanged -> no
  write; otherwise validate the rendered file with ``chronyd -p -f``, record a backup of the
  previous content (or its absence), write atomically, check chrony's whole configuration,
  restart chrony through systemd and verify it (active, allow lines loaded and effective,
  UDP 123 listening). Any failure after the write restores the previous state, restarts
  chrony and says so;
* :func:`rollback` restores the state recorded before the most recent apply that changed
  the file, but only while the file still holds what that apply wrote.

Check mode computes the same decision, including the refusals before the first write (the
same failure and message), and touches nothing.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.tecrax.ops.plugins.module_utils.ntp.chrony_ntp_server import (
    CHRONY_UNIT,
    CONF_DIR,
    MANAGED_FILE,
    MAX_FILE_BYTES,
    POLL_SECONDS,
    RECORD_FORMAT,
    RECORD_KEYS,
    SERVICE_PROPERTIES,
    STATE_DIR,
    VERIFY_SECONDS,
    ChronyError,
    Observation,
    Outcome,
    accheck_verdict,
    allow_lines_in,
    build_facts_from,
    file_state,
    parse_record,
    parse_systemctl_show,
    probe_address,
    render,
    sha256,
    socket_inodes,
    subnets_to_check,
    udp_listener_inodes,
)
from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import CommandRunner, CommandTimedOut
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import bounded_text, raw_text
from ansible_collections.tecrax.ops.plugins.module_utils.common.systemd_show import show_argv
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_subnets import validate_allowed_subnets


# --- the host ---------------------------------------------------------------------------------

Runner = Callable[[List[str]], Tuple[int, str, str]]


@dataclass(frozen=True)
class Paths:
    managed_file: str = MANAGED_FILE
    conf_dir: str = CONF_DIR
    state_dir: str = STATE_DIR
    proc: str = "/proc"

    @property
    def record(self) -> str:
        return os.path.join(self.state_dir, "record.json")

    def previous(self, generation: int) -> str:
        return os.path.join(self.state_dir, "previous-%d.conf" % generation)


@dataclass(frozen=True)
class Binaries:
    chronyd: Optional[str]
    chronyc: Optional[str]
    systemctl: Optional[str]


class ChronyHost:
    """Files and fixed commands of one host. ``run`` takes an argv list (never a shell)."""

    def __init__(self, run: Runner, binaries: Binaries, paths: Paths = Paths(),
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.run = run
        self.bin = binaries
        self.paths = paths
        self.sleep = sleep
        self.clock = clock

    # files

    def read_managed(self) -> Tuple[bool, Optional[bytes]]:
        """(readable, content); content ``None`` when the file does not exist."""
        return _read_optional(self.paths.managed_file)

    def write_managed(self, content: Optional[bytes]) -> None:
        """Atomically make the managed file hold ``content``, or remove it for ``None``."""
        if content is None:
            try:
                os.unlink(self.paths.managed_file)
            except FileNotFoundError:
                return
            _fsync_directory(os.path.dirname(self.paths.managed_file))
            return
        atomic_write(self.paths.managed_file, content, 0o644)

    def read_record(self) -> Tuple[bool, Optional[bytes]]:
        return _read_optional(self.paths.record, 4096)

    def read_previous(self, generation: int) -> Tuple[bool, Optional[bytes]]:
        return _read_optional(self.paths.previous(generation))

    def write_backup(self, previous: Optional[bytes], record: Mapping[str, Any]) -> None:
        """Keep the previous content under the new generation, then commit the record that
        describes it; the older record stays consistent until that commit."""
        os.makedirs(self.paths.state_dir, mode=0o700, exist_ok=True)
        generation = int(record["generation"])
        if previous is not None:
            atomic_write(self.paths.previous(generation), previous, 0o600)
        atomic_write(self.paths.record, json.dumps(dict(record), sort_keys=True).encode() + b"\n", 0o600)
        keep = os.path.basename(self.paths.previous(generation)) if previous is not None else None
        for name in os.listdir(self.paths.state_dir):
            if name.startswith("previous-") and name.endswith(".conf") and name != keep:
                os.unlink(os.path.join(self.paths.state_dir, name))

    def set_phase(self, record: Mapping[str, Any], phase: str) -> None:
        updated = {key: record[key] for key in RECORD_KEYS}
        updated.update(format=RECORD_FORMAT, phase=phase)
        atomic_write(self.paths.record, json.dumps(updated, sort_keys=True).encode() + b"\n", 0o600)

    def conf_dir_exists(self) -> bool:
        return os.path.isdir(self.paths.conf_dir)

    # commands

    def check_fragment(self, content: bytes, check_mode: bool = False) -> Tuple[bool, str]:
        """``chronyd -p -f`` on the rendered lines, from a private temporary file: in the state
        directory (created if needed), or in check mode, which must not create that
        directory, in the system's temporary directory."""
        if self.bin.chronyd is None:
            return False, "chronyd is not installed"
        directory = None
        if not check_mode:
            os.makedirs(self.paths.state_dir, mode=0o700, exist_ok=True)
            directory = self.paths.state_dir
        handle, path = tempfile.mkstemp(prefix="tecrax-chrony-candidate-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
            rc, _out, err = self.run([self.bin.chronyd, "-p", "-f", path])
        finally:
            os.unlink(path)
        return rc == 0, err

    def parse_config(self) -> Tuple[Optional[int], str, str]:
        """``chronyd -p``: chrony's whole configuration as it would load it (rc, text, error)."""
        if self.bin.chronyd is None:
            return None, "", ""
        rc, out, err = self.run([self.bin.chronyd, "-p"])
        return rc, out, err

    def restart(self) -> Tuple[bool, str]:
        if self.bin.systemctl is None:
            return False, "systemctl is not available"
        rc, _out, err = self.run([self.bin.systemctl, "restart", CHRONY_UNIT])
        return rc == 0, err

    def service(self) -> Optional[Dict[str, str]]:
        if self.bin.systemctl is None:
            return None
        rc, out, _err = self.run(show_argv(self.bin.systemctl, [CHRONY_UNIT], SERVICE_PROPERTIES))
        values = parse_systemctl_show(out)
        return values if values.get("LoadState") else None

    def accheck(self, subnet: str) -> Optional[str]:
        if self.bin.chronyc is None:
            return None
        rc, out, _err = self.run([self.bin.chronyc, "-n", "accheck", probe_address(subnet)])
        return out if rc == 0 else None

    def udp_tables(self) -> Optional[List[str]]:
        tables = []
        for name in ("udp", "udp6"):
            readable, content = _read_optional(os.path.join(self.paths.proc, "net", name))
            if readable and content is not None:
                tables.append(raw_text(content))
        return tables or None

    def fd_links(self, pid: str) -> Optional[List[str]]:
        if not pid.isdigit() or pid == "0":
            return None
        directory = os.path.join(self.paths.proc, pid, "fd")
        try:
            names = os.listdir(directory)[:4096]
        except OSError:
            return None
        links = []
        for name in names:
            try:
                links.append(os.readlink(os.path.join(directory, name)))
            except OSError:
                continue
        return links

    def observe(self, subnets_to_check: Sequence[str]) -> Observation:
        file_readable, content = self.read_managed()
        record_readable, record = self.read_record()
        config_rc, config_text, _error = self.parse_config()
        service = self.service()
        pid = (service or {}).get("MainPID", "0")
        return Observation(
            file_readable=file_readable,
            file_content=content,
            record=record,
            record_readable=record_readable,
            chronyd_installed=self.bin.chronyd is not None,
            config_rc=config_rc,
            config_text=config_text,
            service=service,
            udp_tables=self.udp_tables(),
            chrony_fd_links=self.fd_links(pid),
            accheck={subnet: self.accheck(subnet) for subnet in subnets_to_check},
        )

    def wait_until_serving(self, subnets: Sequence[str], serving: bool) -> Tuple[Optional[str], Observation]:
        """Poll until chrony is active (and, when ``serving``, loads the allow lines, listens
        on UDP 123 and allows the subnets); returns the failure reason or ``None``."""
        deadline = self.clock() + VERIFY_SECONDS
        while True:
            seen = self.observe(subnets if serving else [])
            failure = _verification_failure(seen, subnets, serving)
            if failure is None or self.clock() >= deadline:
                return failure, seen
            self.sleep(POLL_SECONDS)


def _verification_failure(seen: Observation, subnets: Sequence[str], serving: bool) -> Optional[str]:
    service = seen.service or {}
    if service.get("ActiveState") != "active":
        return "chrony_inactive"
    if not serving:
        return None
    if seen.config_rc != 0 or not all(subnet in allow_lines_in(seen.config_text) for subnet in subnets):
        return "config_not_loaded"
    bound = set()
    for table in seen.udp_tables or []:
        bound.update(udp_listener_inodes(table))
    if not bound.intersection(socket_inodes(seen.chrony_fd_links or [])):
        return "udp_123_not_listening"
    if not all(accheck_verdict(seen.accheck.get(subnet)) for subnet in subnets):
        return "allow_not_effective"
    return None


def _read_optional(path: str, limit: int = MAX_FILE_BYTES) -> Tuple[bool, Optional[bytes]]:
    """(readable, content or None when absent); a file larger than ``limit`` is unreadable:
    a digest or a restore of a truncated copy would be wrong."""
    try:
        with open(path, "rb") as stream:
            content = stream.read(limit + 1)
    except FileNotFoundError:
        return True, None
    except OSError:
        return False, None
    return (False, None) if len(content) > limit else (True, content)


def atomic_write(path: str, content: bytes, mode: int) -> None:
    """Write ``content`` to ``path`` so that readers see the old or the new file, never a mix:
    a temporary file beside it (not matching ``*.conf``), fsync, rename, fsync the directory."""
    directory = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(prefix=".tecrax-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            os.fchmod(stream.fileno(), mode)
            if os.geteuid() == 0:
                os.fchown(stream.fileno(), 0, 0)
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.rename(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    handle = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


# --- transactions -----------------------------------------------------------------------------


@dataclass
class Result:
    facts: Dict[str, Any]
    changed: bool
    failed: bool = False
    message: str = ""
    diff: Optional[Dict[str, str]] = None


VERIFICATION_MESSAGES = {
    "chrony_inactive": "chrony is not active after the restart",
    "config_not_loaded": "chrony's configuration does not contain the allow lines",
    "udp_123_not_listening": "chronyd does not listen on UDP port 123",
    "allow_not_effective": "chronyc accheck does not allow every subnet",
}


def desired_content(state: str, subnets: Sequence[str]) -> Optional[bytes]:
    return render(subnets) if state == "present" else None


def read(host: ChronyHost, desired_state: str, subnets: Sequence[str]) -> Result:
    """Observe the host against the desired state (``unspecified``: against the file itself).

    Raises :class:`SubnetError` for invalid subnets."""
    subnets = validate_allowed_subnets(list(subnets)) if desired_state == "present" else []
    readable, content = host.read_managed()
    current = file_state(content, readable)
    outcome = Outcome("read", False, desired_state, list(subnets), current, current)
    seen = host.observe(subnets_to_check(outcome, current))
    return Result(build_facts_from(outcome, seen), changed=False)


def apply(host: ChronyHost, desired_state: str, subnets: Sequence[str], check_mode: bool) -> Result:
    """Make the managed file hold the desired content, or be absent (see the module docstring).

    Raises :class:`SubnetError` for invalid subnets before anything is read or written.
    """
    subnets = validate_allowed_subnets(list(subnets)) if desired_state == "present" else []
    readable, before_content = host.read_managed()
    if not readable:
        return _refused(host, "apply", desired_state, subnets, check_mode, "managed_file_unreadable",
                        "the managed chrony file exists but cannot be read (or is larger than 64 KiB)")
    desired = desired_content(desired_state, subnets)
    before = file_state(before_content)
    diff = _diff(before_content, desired)
    outcome = Outcome("apply", check_mode, desired_state, subnets, before, file_state(desired))

    readable, record_content = host.read_record()
    record = parse_record(record_content if readable else None)
    if before_content == desired:
        if record["phase"] == "writing" and record["applied_sha256"] == sha256(desired):
            # An earlier apply wrote this content and was interrupted before it restarted
            # and verified chrony: finish that transaction instead of calling it unchanged.
            return _finish_interrupted(host, outcome, record, check_mode, diff)
        return Result(build_facts_from(outcome, host.observe(subnets)), changed=False, diff=diff)

    outcome.changed = True
    outcome.file_action = "remove" if desired is None else ("create" if before_content is None else "replace")
    try:
        _preflight(host, desired, check_mode)
    except ChronyError as error:
        return _refused(host, "apply", desired_state, subnets, check_mode, error.failure, error.message)
    if check_mode:
        return Result(build_facts_from(outcome, host.observe(subnets)), changed=True, diff=diff)

    new_record = {
        "format": RECORD_FORMAT,
        "generation": record["generation"] + 1,
        "phase": "writing",
        "previous_present": before_content is not None,
        "previous_sha256": sha256(before_content),
        "applied_sha256": sha256(desired),
    }
    try:
        host.write_backup(before_content, new_record)
    except OSError as error:
        return _refused(host, "apply", desired_state, subnets, False, "backup_failed",
                        "could not record a backup of the previous state (%s)" % _os_reason(error))
    try:
        host.write_managed(desired)
        failure, message, detail = _activate(host, subnets, serving=desired is not None)
    except OSError as error:
        failure, message, detail = "write_failed", "could not write the managed chrony file", _os_reason(error)
    if not failure:
        host.set_phase(new_record, "applied")
        return _finished(host, outcome, subnets, diff)
    return _restore_after(host, outcome, new_record, before_content, (failure, message, detail), diff)


def _finish_interrupted(host: ChronyHost, outcome: Outcome, record: Mapping[str, Any], check_mode: bool,
                        diff: Dict[str, str]) -> Result:
    outcome.changed = True
    previous: Optional[bytes] = None
    if record["previous_present"]:
        readable, previous = host.read_previous(record["generation"])
        if not readable or sha256(previous) != record["previous_sha256"]:
            return _refused(host, "apply", outcome.desired_state, outcome.desired_subnets, check_mode,
                            "backup_corrupt",
                            "an interrupted apply left a backup that is missing or does not match its record")
    if check_mode:
        try:
            _preflight(host, desired_content(outcome.desired_state, outcome.desired_subnets), check_mode)
        except ChronyError as error:
            return _refused(host, "apply", outcome.desired_state, outcome.desired_subnets, check_mode,
                            error.failure, error.message)
        return Result(build_facts_from(outcome, host.observe(outcome.desired_subnets)), changed=True, diff=diff)
    try:
        _preflight(host, desired_content(outcome.desired_state, outcome.desired_subnets))
        failure, message, detail = _activate(host, outcome.desired_subnets, serving=outcome.desired_state == "present")
    except ChronyError as error:
        failure, message, detail = error.failure, error.message, ""
    if not failure:
        host.set_phase(record, "applied")
        return _finished(host, outcome, outcome.desired_subnets, diff)
    return _restore_after(host, outcome, record, previous, (failure, message, detail), diff)


def _finished(host: ChronyHost, outcome: Outcome, subnets: Sequence[str], diff: Dict[str, str]) -> Result:
    seen = host.observe(subnets)
    outcome.after = file_state(seen.file_content, seen.file_readable)
    return Result(build_facts_from(outcome, seen), changed=True, diff=diff)


def _restore_after(host: ChronyHost, outcome: Outcome, record: Mapping[str, Any], previous: Optional[bytes],
                   step: StepFailure, diff: Dict[str, str]) -> Result:
    failure, message, detail = step
    restored, note = _restore(host, previous)
    try:
        host.set_phase(record, "restored" if restored else "writing")
    except OSError:
        pass
    seen = host.observe(outcome.desired_subnets)
    outcome.after = file_state(seen.file_content, seen.file_readable)
    outcome.changed = outcome.after["sha256"] != outcome.before["sha256"]
    outcome.automatic_restore = True
    outcome.restore_succeeded = restored
    outcome.failure = failure
    if restored:
        message += "; the previous configuration was restored and chrony is active again"
    else:
        message += "; restoring the previous configuration FAILED (%s): manual action is needed" % note
    if detail:
        message += " [%s]" % detail
    return Result(build_facts_from(outcome, seen), changed=outcome.changed, failed=True, message=message, diff=diff)


def rollback(host: ChronyHost, check_mode: bool) -> Result:
    """Restore the state recorded before the most recent apply that changed the file, if the
    file still holds what that apply wrote; a no-op when it already holds the previous state."""
    readable, record_content = host.read_record()
    record = parse_record(record_content if readable else None)
    if record["phase"] in ("none", "invalid"):
        return _refused(host, "rollback", "previous", [], check_mode, "no_backup",
                        "there is no usable backup record on the host, so there is nothing to roll back")
    file_readable, current_content = host.read_managed()
    if not file_readable:
        return _refused(host, "rollback", "previous", [], check_mode, "managed_file_unreadable",
                        "the managed chrony file exists but cannot be read (or is larger than 64 KiB)")
    previous: Optional[bytes] = None
    if record["previous_present"]:
        previous_readable, previous = host.read_previous(record["generation"])
        if not previous_readable or sha256(previous) != record["previous_sha256"]:
            return _refused(host, "rollback", "previous", [], check_mode, "backup_corrupt",
                            "the backup of the previous content is missing or does not match its record")
    current = file_state(current_content)
    outcome = Outcome("rollback", check_mode, "previous", [], current, current)
    if sha256(current_content) == record["previous_sha256"]:
        return _restart_if_inactive(host, outcome, check_mode)
    if sha256(current_content) != record["applied_sha256"]:
        return _refused(host, "rollback", "previous", [], check_mode, "file_diverged",
                        "the managed chrony file holds neither what the last apply wrote nor what was there "
                        "before it; it was changed outside Tecrax and is left as it is")
    outcome.after = file_state(previous)
    outcome.changed = True
    outcome.file_action = "remove" if previous is None else ("create" if current_content is None else "replace")
    diff = _diff(current_content, previous)
    try:
        _preflight(host, previous, check_mode)
    except ChronyError as error:
        return _refused(host, "rollback", "previous", [], check_mode, error.failure, error.message)
    if check_mode:
        return Result(build_facts_from(outcome, host.observe([])), changed=True, diff=diff)
    try:
        host.write_managed(previous)
        failure, message, detail = _activate(host, [], serving=False)
    except OSError as error:
        failure, message, detail = "write_failed", "could not write the managed chrony file", _os_reason(error)
    if failure != "write_failed":
        host.set_phase(record, "rolled_back")
    seen = host.observe([])
    outcome.after = file_state(seen.file_content, seen.file_readable)
    outcome.changed = outcome.after["sha256"] != current["sha256"]
    if failure:
        outcome.failure = failure
        return Result(build_facts_from(outcome, seen), changed=outcome.changed, failed=True, diff=diff,
                      message="rolling back to the previous configuration: %s [%s]" % (message, detail))
    return Result(build_facts_from(outcome, seen), changed=True, diff=diff)


def _restart_if_inactive(host: ChronyHost, outcome: Outcome, check_mode: bool) -> Result:
    """The previous file is in place; bring chrony back if it is not running (for instance
    after an automatic restore whose restart failed)."""
    if (host.service() or {}).get("ActiveState") == "active":
        return Result(build_facts_from(outcome, host.observe([])), changed=False)
    outcome.changed = True
    try:
        _preflight(host, None, check_mode)
    except ChronyError as error:
        return _refused(host, "rollback", "previous", [], check_mode, error.failure, error.message)
    if check_mode:
        return Result(build_facts_from(outcome, host.observe([])), changed=True)
    failure, message, detail = _activate(host, [], serving=False)
    seen = host.observe([])
    if failure:
        outcome.failure = failure
        return Result(build_facts_from(outcome, seen), changed=True, failed=True,
                      message="restarting chrony with the previous configuration: %s [%s]" % (message, detail))
    return Result(build_facts_from(outcome, seen), changed=True)


def _preflight(host: ChronyHost, desired: Optional[bytes], check_mode: bool = False) -> None:
    """Everything that can be checked before the first write. Check mode runs it too, so that
    it refuses exactly where a real run would."""
    if host.bin.systemctl is None:
        raise ChronyError("systemd_unavailable", "systemctl is not available, so chrony cannot be restarted")
    service = host.service()
    if service is None:
        raise ChronyError("systemd_unavailable", "systemd does not answer, so chrony cannot be restarted")
    if host.bin.chronyd is None or service.get("LoadState") != "loaded":
        raise ChronyError("chrony_not_installed", "chrony is not installed (no chronyd or no %s)" % CHRONY_UNIT)
    if desired is not None:
        if not host.conf_dir_exists():
            raise ChronyError("confdir_missing", "chrony's conf.d directory does not exist on this host")
        valid, error = host.check_fragment(desired, check_mode)
        if not valid:
            raise ChronyError("rendered_config_rejected", "chronyd -p rejected the rendered file: %s" % _detail(error))


StepFailure = Tuple[str, str, str]  # (failure reason, message, command detail); ("", "", "") is success


def _activate(host: ChronyHost, subnets: Sequence[str], serving: bool) -> StepFailure:
    """Check the whole configuration, restart chrony and verify it."""
    rc, _text, error = host.parse_config()
    if rc != 0:
        return ("chrony_config_rejected", "chronyd -p rejected chrony's configuration with the new file in place",
                _detail(error))
    restarted, error = host.restart()
    if not restarted:
        return "restart_failed", "chrony did not restart with the new configuration", _detail(error)
    failure, _seen = host.wait_until_serving(subnets, serving)
    if failure:
        return failure, VERIFICATION_MESSAGES[failure], "checked for %.0f s after the restart" % VERIFY_SECONDS
    return "", "", ""


def _detail(text: str) -> str:
    """The first line of a command's error output, without paths, bounded."""
    first = (raw_text(text or "", 4096).strip().splitlines() or [""])[0]
    return bounded_text(_without_paths(first), 120, "no message")


def _restore(host: ChronyHost, previous: Optional[bytes]) -> Tuple[bool, str]:
    try:
        host.write_managed(previous)
    except OSError as error:
        return False, "write failed: %s" % _os_reason(error)
    restarted, error = host.restart()
    if not restarted:
        return False, "chrony did not restart: %s" % _detail(error)
    failure, _seen = host.wait_until_serving([], serving=False)
    if failure:
        return False, "chrony is not active"
    return True, ""


def _refused(host: ChronyHost, action: str, desired_state: str, subnets: Sequence[str], check_mode: bool,
             failure: str, message: str) -> Result:
    """A failure before anything was written."""
    readable, content = host.read_managed()
    current = file_state(content, readable)
    outcome = Outcome(action, check_mode, desired_state, list(subnets), current, current, failure=failure)
    return Result(build_facts_from(outcome, host.observe(list(subnets))), changed=False, failed=True,
                  message=message + "; nothing was changed")


def _diff(before: Optional[bytes], after: Optional[bytes]) -> Dict[str, str]:
    return {
        "before_header": MANAGED_FILE if before is not None else "%s (absent)" % MANAGED_FILE,
        "after_header": MANAGED_FILE if after is not None else "%s (absent)" % MANAGED_FILE,
        "before": raw_text(before or b""),
        "after": raw_text(after or b""),
    }


_PATH = re.compile(r"(?<![\w.:-])/(?=[A-Za-z_.~])[^\s'\"]+")


def _without_paths(text: str) -> str:
    return _PATH.sub("<path>", raw_text(text or "", 4096))


def _os_reason(error: OSError) -> str:
    return os.strerror(error.errno) if error.errno else type(error).__name__


# --- wiring for the modules -----------------------------------------------------------------

SBIN_DIRS = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]


def binaries(module: Any) -> Binaries:
    """Absolute paths of the fixed commands, looked up by an AnsibleModule."""
    return Binaries(
        chronyd=module.get_bin_path("chronyd", opt_dirs=SBIN_DIRS),
        chronyc=module.get_bin_path("chronyc", opt_dirs=SBIN_DIRS),
        systemctl=module.get_bin_path("systemctl", opt_dirs=SBIN_DIRS),
    )


# The status :class:`ChronyHost` sees for a command that did not run to its end.
DID_NOT_FINISH_RC = -1


def module_runner(commands: CommandRunner) -> Runner:
    """``run`` for :class:`ChronyHost` through the module's runner (argv lists, C locale,
    bounded output, the module's budget).

    A command the budget ends is a failed command, so a transaction still restores what it
    can; the module then reports the timeout (``commands.timed_out``).
    """

    def run(argv: List[str]) -> Tuple[int, str, str]:
        try:
            ended = commands.run(argv)
        except CommandTimedOut as error:
            return DID_NOT_FINISH_RC, "", str(error)
        rc = DID_NOT_FINISH_RC if ended.rc is None else ended.rc
        return rc, raw_text(ended.stdout), raw_text(ended.stderr)

    return run
