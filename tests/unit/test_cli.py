"""The tecrax command refuses bad requests with one clear line and creates nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tecrax.cli import EXIT_OK, EXIT_REFUSED, main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_status_names_versions_and_registration(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "status")
    assert code == EXIT_OK
    assert out.startswith("tecrax 0.1.0: profile tecrax (")
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
