"""The tecrax command refuses bad requests with one clear line and creates nothing."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tecrax import __version__, cli
from tecrax.cli import EXIT_CLOSED_PIPE, EXIT_OK, EXIT_REFUSED, main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_status_names_versions_and_registration(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "status")
    assert code == EXIT_OK
    assert out.startswith(f"tecrax {__version__}: profile tecrax (")
    assert "registered" in out and "NOT registered" not in out
    assert "rexecop 0.2.16a0, govengine 0.16.8, sclite-core 1.0.8" in out
    assert len(out.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "no_such_intent"], "unknown intent: no_such_intent"),
        (["run", "collect_basic_host_inventory", "--mode", "apply"], "does not declare mode apply"),
        (["run", "collect_basic_host_inventory", "--env", "missing.yaml"], "file not found: missing.yaml"),
        (["run", "configure_chrony_ntp_server", "--approve-by", ""],
         "--approve-by needs the approver's name; an empty or blank name approves nothing"),
        (["run", "configure_chrony_ntp_server", "--approve-by", "  "], "--approve-by needs the approver's name"),
    ],
)
def test_bad_run_requests_are_refused_before_planning(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, *argv, "--root", str(tmp_path / "rx"))
    assert code == EXIT_REFUSED
    assert err.startswith("tecrax: ") and len(err.strip().splitlines()) == 1
    assert message in err
    assert not (tmp_path / "rx").exists() or not list((tmp_path / "rx").rglob("op-*.json"))


def test_unknown_target_is_refused_by_rexecop(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run_cli(
        capsys, "run", "collect_basic_host_inventory", "--target", "elsewhere", "--root", str(tmp_path / "rx")
    )
    assert code == EXIT_REFUSED
    assert "elsewhere" in err and "Traceback" not in err


def test_read_only_mode_is_an_alias_of_observe() -> None:
    from tecrax.operations import choose_mode

    assert choose_mode("collect_basic_host_inventory", "read_only") == "observe"
    assert choose_mode("collect_basic_host_inventory", None) == "observe"


def test_evidence_of_unknown_operation(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "evidence", "op-nope", "--root", str(tmp_path / "rx"))
    assert code == EXIT_REFUSED
    assert "no operation op-nope" in err


def test_json_errors_are_one_document_on_stdout(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run_cli(capsys, "run", "no_such_intent", "--json", "--root", str(tmp_path / "rx"))
    assert code == EXIT_REFUSED
    document = json.loads(out)
    assert document["exit_code"] == EXIT_REFUSED and document["error"].startswith("unknown intent: no_such_intent")
    assert err.strip() == "tecrax: " + document["error"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--json"], "run: the following arguments are required: intent (see `tecrax run --help`)"),
        (["run", "x", "--bogus", "--json"], "unrecognized arguments: --bogus (see `tecrax --help`)"),
        (["run", "x", "--env", "a", "--catalog", "b", "--json"], "run: argument --catalog: not allowed with argument --env"),
        (["evidence", "--json"], "evidence: the following arguments are required: operation"),
        (["nope", "--json"], "argument command: invalid choice: 'nope'"),
    ],
)
def test_unusable_command_lines_are_refused_like_any_request(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert code == EXIT_REFUSED
    document = json.loads(out)
    assert document == {"error": document["error"], "exit_code": EXIT_REFUSED} and message in document["error"]
    assert err == f"tecrax: {document['error']}\n"


def test_an_unusable_command_line_without_json_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "run")
    assert (code, out) == (EXIT_REFUSED, "")
    assert err == "tecrax: run: the following arguments are required: intent (see `tecrax run --help`)\n"


def test_evidence_error_with_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run_cli(capsys, "evidence", "op-none", "--json", "--root", str(tmp_path / "rx"))
    assert code == EXIT_REFUSED and json.loads(out)["error"].startswith("no operation op-none under ")


def test_status_and_intents_speak_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "status", "--json")
    status = json.loads(out)
    assert code == EXIT_OK and status["tecrax"] == __version__ and all(status["registered"].values())
    assert status["versions"]["rexecop"] == "0.2.16a0"
    code, out, _ = run_cli(capsys, "intents", "--json")
    intents = json.loads(out)["intents"]
    assert code == EXIT_OK and intents["collect_basic_host_inventory"][0] == "read_only"
    assert intents["configure_chrony_ntp_server"] == ["apply"]


def test_collection_path_holds_the_installed_collection(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "collection-path")
    assert code == EXIT_OK
    assert (Path(out.strip()) / "ansible_collections" / "tecrax" / "ops" / "galaxy.yml").is_file()


def test_a_closed_pipe_ends_quietly() -> None:
    tecrax = str(Path(sys.executable).with_name("tecrax"))
    with subprocess.Popen([tecrax, "intents", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # the reader is gone before the first write, as with `| head -0`
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=120) == EXIT_CLOSED_PIPE
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


def test_a_retry_is_labelled_in_progress_output(capsys: pytest.CaptureFixture[str]) -> None:
    from tecrax.cli import _Printer

    printer = _Printer(quiet=False)
    started = {"phase": "started", "action": "host_inventory", "module": "tecrax.ops.host_inventory", "target": "t"}
    printer.progress(started)
    printer.progress({"phase": "finished", "action": "host_inventory", "status": "unreachable", "seconds": 1})
    printer.progress(started)
    printer.progress({"phase": "finished", "action": "host_inventory", "status": "ok", "seconds": 1})
    printer.progress(started)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["running", "finished", "retrying", "finished", "running"]


def test_commands_run_with_a_raised_collector_threshold_and_restore_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int, int]] = []
    monkeypatch.setattr(cli, "_intents", lambda args: seen.append(gc.get_threshold()) or cli.EXIT_OK)
    before = gc.get_threshold()
    assert run_cli(capsys, "intents")[0] == cli.EXIT_OK
    assert seen == [cli.GC_THRESHOLD]
    assert gc.get_threshold() == before
