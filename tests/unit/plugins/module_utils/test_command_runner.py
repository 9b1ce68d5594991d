"""The modules' command runner, with real programs on this machine."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import pytest

from ansible_collections.tecrax.ops.plugins.module_utils.common import command_runner as cr
from ansible_collections.tecrax.ops.plugins.module_utils.common import facts_envelope as fe
from unit.processes import assert_ended


def later(seconds: float = 60.0) -> float:
    return time.monotonic() + seconds


def assert_ends(pid_file: Path) -> None:
    assert_ended(int(pid_file.read_text()))


def test_argv_c_locale_no_stdin_and_root_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    monkeypatch.setenv("TECRAX_TEST_PASSED", "yes")
    script = 'echo "$# $1"; echo "$LC_ALL $LANG $TECRAX_TEST_PASSED"; cat; pwd; echo oops >&2; exit 3'
    result = cr.run_command(["sh", "-c", script, "sh", "one argument"], deadline=later())
    assert result.status == cr.EXITED and result.exit_code == 3 and result.rc == 3
    assert result.stdout == b"1 one argument\nC C yes\n/\n"
    assert result.stderr == b"oops\n"
    assert result.stdout_bytes == len(result.stdout)


def test_standard_input_given_to_a_command_cannot_block_it() -> None:
    """More than a pipe holds, to a command that reads it only after writing as much."""
    data = bytes(range(256)) * 1024
    script = "head -c 262144 /dev/zero; cat"
    result = cr.run_command(["sh", "-c", script], deadline=later(), stdin_bytes=data, max_output_bytes=2 * len(data))
    assert result.status == cr.EXITED and result.rc == 0
    assert result.stdout == b"\0" * 262144 + data


def test_environment_replaces_this_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TECRAX_TEST_PASSED", "yes")
    result = cr.run_command(["/usr/bin/env"], deadline=later(), environment={"ONLY": "this"})
    assert sorted(result.stdout.decode().splitlines()) == ["LANG=C", "LC_ALL=C", "ONLY=this"]


def test_output_beyond_the_bound_is_dropped_and_the_command_finishes() -> None:
    result = cr.run_command(["sh", "-c", "head -c 100000 /dev/zero; exit 4"], deadline=later(),
                            max_output_bytes=1000)
    assert result.status == cr.EXITED and result.rc == 4
    assert result.stdout == b"\0" * 1000
    assert result.stdout_bytes == 100000


def test_output_beyond_the_bound_can_end_the_command() -> None:
    result = cr.run_command(["yes"], deadline=later(), max_output_bytes=1000, kill_on_overflow=True)
    assert result.status == cr.OUTPUT_LIMIT_EXCEEDED and result.rc is None
    assert len(result.stdout) == 1000 and result.stdout_bytes > 1000


def test_stderr_is_bounded_or_discarded() -> None:
    noisy = ["sh", "-c", "head -c 100000 /dev/zero >&2"]
    assert len(cr.run_command(noisy, deadline=later()).stderr) == cr.MAX_ERROR_BYTES
    assert cr.run_command(noisy, deadline=later(), capture_stderr=False).stderr == b""


def test_deadline_kills_the_whole_process_group(tmp_path: Path) -> None:
    child = tmp_path / "child.pid"
    script = f"sh -c 'echo $$ > {child}; exec sleep 300' & echo started; sleep 300"
    result = cr.run_command(["sh", "-c", script], deadline=later(1.0))
    assert result.status == cr.TIMEOUT and result.rc is None and result.exit_code is None
    assert result.stdout == b"started\n"
    assert_ends(child)


def test_a_finished_command_leaves_nothing_running(tmp_path: Path) -> None:
    holder, detached = tmp_path / "holder.pid", tmp_path / "detached.pid"
    # One leftover keeps the output pipe open, one does not; both are the command's.
    script = (f"sh -c 'echo $$ > {holder}; exec sleep 300' & "
              f"sh -c 'echo $$ > {detached}; exec sleep 300' >/dev/null 2>&1 & "
              f"while [ ! -s {holder} ] || [ ! -s {detached} ]; do sleep 0.01; done; echo done")
    result = cr.run_command(["sh", "-c", script], deadline=later())
    assert result.status == cr.EXITED and result.rc == 0
    assert result.stdout == b"done\n"
    assert_ends(holder)
    assert_ends(detached)


def test_a_command_that_closes_its_output_and_keeps_running_times_out() -> None:
    result = cr.run_command(["sh", "-c", "exec >/dev/null 2>&1; sleep 300"], deadline=later(1.0))
    assert result.status == cr.TIMEOUT


@pytest.mark.parametrize("argv", [["/nonexistent/program"], ["/"]])
def test_a_program_that_cannot_run_is_not_started(argv: list[str]) -> None:
    result = cr.run_command(argv, deadline=later())
    assert result.status == cr.NOT_STARTED and result.rc is None


def test_a_spent_deadline_starts_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    result = cr.run_command(["touch", str(marker)], deadline=time.monotonic() - 1)
    assert result.status == cr.TIMEOUT
    assert not marker.exists()


def test_the_budget_ends_a_command_and_every_later_one(tmp_path: Path) -> None:
    runner = cr.CommandRunner(1)
    with pytest.raises(cr.CommandTimedOut) as timed_out:
        runner.run(["/bin/sleep", "300"])
    assert str(timed_out.value) == (
        "timed out: sleep did not finish within the module's budget of 1 s and was killed with its process group")
    assert runner.timed_out is timed_out.value
    marker = tmp_path / "ran"
    with pytest.raises(cr.CommandTimedOut):
        runner.run(["touch", str(marker)])
    assert not marker.exists()


def test_a_command_time_limit_inside_the_budget_is_a_result() -> None:
    runner = cr.CommandRunner(600)
    result = runner.run(["sleep", "300"], timeout_seconds=1)
    assert result.status == cr.TIMEOUT
    assert runner.timed_out is None


def test_runner_environment_update_and_program_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TECRAX_TEST_PASSED", "yes")
    looked_up: list[tuple[str, list[str]]] = []

    def which(program: str, opt_dirs: list[str]) -> str | None:
        looked_up.append((program, opt_dirs))
        return "/bin/" + program

    runner = cr.CommandRunner(60, which=which)
    assert runner.find("sh", ["/usr/sbin"]) == "/bin/sh"
    assert looked_up == [("sh", ["/usr/sbin"])]
    result = runner.run(["sh", "-c", 'echo "$TECRAX_TEST_PASSED $EXTRA $LC_ALL"'],
                        environ_update={"EXTRA": "added", "LC_ALL": "de_DE.UTF-8"})
    assert result.stdout == b"yes added C\n"
    assert cr.CommandRunner(60).find("sh") is None


@pytest.mark.parametrize(("value", "budget"), [
    (None, cr.DEFAULT_BUDGET_SECONDS), ("", cr.DEFAULT_BUDGET_SECONDS), (" 45 ", 45), ("1", 1), ("3600", 3600)])
def test_budget_from_the_environment(value: str | None, budget: int) -> None:
    environ = {} if value is None else {cr.BUDGET_ENV: value}
    assert cr.budget_seconds(environ) == budget


@pytest.mark.parametrize("value", ["0", "3601", "1.5", "-3", "soon", "\u0663", "99999999"])
def test_a_malformed_budget_is_refused_by_name(value: str) -> None:
    with pytest.raises(ValueError, match="TECRAX_MODULE_BUDGET_SECONDS must be a whole number of seconds from 1 to 3600"):
        cr.budget_seconds({cr.BUDGET_ENV: value})


class EndedModule(Exception):
    """What a fake module raises where AnsibleModule would exit."""


class FakeModule:
    def __init__(self) -> None:
        self.ended: dict[str, object] = {}

    def get_bin_path(self, _name: str, opt_dirs: object = None) -> None:
        return None

    def exit_json(self, **result: object) -> None:
        self.ended = {"exit": result}
        raise EndedModule

    def fail_json(self, **result: object) -> None:
        self.ended = {"fail": result}
        raise EndedModule


def _end(collect: Callable[[cr.CommandRunner], Any], normalize: Callable[[Any], Any]) -> dict[str, object]:
    module = FakeModule()
    with pytest.raises(EndedModule):
        cr.run_host_observation(module, "example", collect, normalize)
    return module.ended


def test_a_host_observation_exits_unchanged_with_the_normalized_facts() -> None:
    assert _end(lambda commands: {"raw": 1}, lambda raw: {"facts_of": raw}) == {
        "exit": {"changed": False, "facts": {"facts_of": {"raw": 1}}}}


def test_a_spent_budget_and_a_broken_contract_fail_the_module() -> None:
    def timed_out(_commands: cr.CommandRunner) -> None:
        raise cr.CommandTimedOut("chronyc", 20)

    def broken(_raw: object) -> None:
        raise fe.FactsContractError("facts.scope is missing")

    assert _end(timed_out, dict) == {"fail": {"msg": str(cr.CommandTimedOut("chronyc", 20)), "timed_out": True}}
    assert _end(lambda commands: {}, broken) == {
        "fail": {"msg": "example produced facts that break their contract: facts.scope is missing"}}
