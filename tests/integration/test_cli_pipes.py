"""`tecrax run ... --json | head -1` and `tecrax evidence OP --json | head`: a reader that goes
away early ends the command quietly (exit 141, no traceback), and the operation it ran stays
complete and verified. Runs the built-in environment on this machine (local connection)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tecrax.cli import EXIT_CLOSED_PIPE, EXIT_OK

TECRAX = str(Path(sys.executable).with_name("tecrax"))
INTENT = "collect_basic_host_inventory"


def with_closed_stdout(*argv: str) -> tuple[int, str]:
    """Run tecrax with its stdout a pipe whose reader is gone before the first write."""
    with subprocess.Popen([TECRAX, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        stderr = process.stderr.read().decode()
        return process.wait(timeout=300), stderr


def test_run_and_evidence_end_quietly_when_the_reader_is_gone(tmp_path: Path) -> None:
    root = str(tmp_path / "rx")
    code, stderr = with_closed_stdout("run", INTENT, "--json", "--root", root)
    assert code == EXIT_CLOSED_PIPE and stderr == ""
    (record,) = (tmp_path / "rx" / "operations").glob("op-*.json")
    assert json.loads(record.read_text())["state"] == "completed"

    code, stderr = with_closed_stdout("evidence", record.stem, "--json", "--root", root)
    assert code == EXIT_CLOSED_PIPE and stderr == ""
    shown = subprocess.run([TECRAX, "evidence", record.stem, "--json", "--root", root],
                           capture_output=True, text=True, timeout=300, check=False)
    assert shown.returncode == EXIT_OK and json.loads(shown.stdout)["evidence"]["verified"] is True


def test_the_issues_pipelines_print_no_traceback(tmp_path: Path) -> None:
    """The very command lines: whether head is gone before or after the write, nothing but
    the first line of output comes out."""
    root = str(tmp_path / "rx")
    script = (f'"$1" run {INTENT} --json --root "$2" | head -1; echo "run=${{PIPESTATUS[0]}}"; '
              'op=$(ls "$2/operations" | head -1); '
              '"$1" evidence "${op%.json}" --json --root "$2" | head; echo "evidence=${PIPESTATUS[0]}"')
    completed = subprocess.run(["bash", "-c", script, "bash", TECRAX, root],
                               capture_output=True, text=True, timeout=600, check=False)
    lines = completed.stdout.splitlines()
    assert completed.stderr == ""
    assert lines[0] == "{" and lines[1] in {f"run={EXIT_OK}", f"run={EXIT_CLOSED_PIPE}"}
    assert lines[-1] in {f"evidence={EXIT_OK}", f"evidence={EXIT_CLOSED_PIPE}"} and len(lines) == 2 + 10 + 1
