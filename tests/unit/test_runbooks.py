"""Every runbook has the declared sections, and every tecrax/rexecop command line in it is
accepted by the real command-line interfaces (scripts/check_runbooks.py)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from unit.conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import check_runbooks as checker  # noqa: E402

# The runbooks the seed document names, as it names them.
SEED_RUNBOOKS = (
    "network-device-readonly-runbook.md",
    "proxmox-host-readiness-runbook.md",
    "admin-tools-substrate-runbook.md",
    "admin-tools-ct-deployment-runbook.md",
    "proxmox-backup-server-readiness-runbook.md",
    "proxmox-backup-server-deployment-runbook.md",
    "proxmox-backup-server-post-deploy-hardening-runbook.md",
    "proxmox-backup-server-first-backup-job-runbook.md",
    "proxmox-backup-server-restore-proof-runbook.md",
    "proxmox-backup-server-external-copy-checkpoint-runbook.md",
    "dns-authority-checkpoint-runbook.md",
    "samba-ad-dc-deployment-runbook.md",
    "samba-ad-baseline-runbook.md",
    "samba-ad-user-provisioning-runbook.md",
    "samba-ad-user-logon-gpo-pilot-runbook.md",
    "samba-ad-workstation-gpo-rdp-pilot-runbook.md",
    "windows-endpoint-update-management-pilot-runbook.md",
    "windows-ad-pilot-endpoint-runbook.md",
    "adguard-home-deployment-runbook.md",
    "zabbix-vm-docker-deployment-runbook.md",
    "zabbix-postgresql-app-backup-runbook.md",
    "zabbix-first-targets-adoption-runbook.md",
    "chrony-ntp-server-mutation-runbook.md",
)
SECTIONS_TEXT = "\n".join(f"## {name}\n\nText.\n" for name in checker.RUNBOOK_SECTIONS)
BAD_PATH = "profile/runbooks/bad-runbook.md"


@pytest.fixture(scope="module")
def report() -> checker.Report:
    """One check of the repository's runbooks: the tree is read once for all tests here."""
    return checker.check()


def test_every_seed_runbook_exists(report: checker.Report) -> None:
    assert len(SEED_RUNBOOKS) == len(set(SEED_RUNBOOKS)) == 23
    names = {Path(runbook.path).name for runbook in report.runbooks}
    assert sorted(set(SEED_RUNBOOKS) - names) == []


def test_every_runbook_has_the_sections_and_only_commands_that_parse(report: checker.Report) -> None:
    assert [str(problem) for problem in report.problems] == []


def test_the_runbooks_hold_the_commands_the_check_parses(report: checker.Report) -> None:
    by_name = {Path(runbook.path).name: runbook for runbook in report.runbooks}
    intents = checker.profile_intents()
    for intent_id, intent in intents.items():
        runbook = by_name[Path(intent.runbook_ref).name]
        mentioned = any(intent_id in command.words for command in runbook.commands)
        assert mentioned, f"{runbook.path} documents {intent_id} but no command line runs or plans it"
    assert all(runbook.runs for runbook in report.runbooks), "every runbook has at least one `tecrax run` gate"


def test_the_index_is_current(report: checker.Report) -> None:
    index = REPO_ROOT / checker.RUNBOOK_DIR / checker.INDEX_NAME
    assert index.read_text(encoding="utf-8") == report.index, "run: python scripts/check_runbooks.py --write-index"
    for name in SEED_RUNBOOKS:
        assert f"]({name})" in report.index


def test_the_readme_and_docs_command_lines_are_checked(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    (tree / "README.md").write_text("# T\n\n```sh\ntecrax run check_ntp_health --jsn\n```\n", encoding="utf-8")
    (tree / "docs").mkdir()
    (tree / "docs" / "guide.md").write_text("Run `rexecop aprove --operation op-1`.\n", encoding="utf-8")
    readme, guide = (str(problem) for problem in checker.check(tree).problems)
    assert readme == "README.md:4: unrecognized arguments: --jsn: tecrax run check_ntp_health --jsn"
    assert guide.startswith("docs/guide.md:1: No such command 'aprove'.")


def test_the_tree_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[Path] = []
    original = Path.read_text

    def counting(self: Path, *args: object, **kwargs: object) -> str:
        reads.append(self)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", counting)
    report = checker.check()
    runbook_reads = [path.name for path in reads if path.parent.name == "runbooks"]
    assert sorted(runbook_reads) == sorted(Path(runbook.path).name for runbook in report.runbooks)


@pytest.fixture(scope="module")
def interfaces() -> checker.Interfaces:
    return checker.Interfaces(checker.profile_intents())


@pytest.fixture
def problems_of(interfaces: checker.Interfaces) -> Callable[[str], list[str]]:
    """The problems the check finds in one runbook's text, as ``line: reason``."""
    def check(text: str) -> list[str]:
        _, problems = checker.check_runbook(BAD_PATH, text, interfaces)
        return [f"{problem.line}: {problem.reason}" for problem in sorted(problems)]
    return check


def runbook(body: str) -> str:
    """A runbook with every section, ``body`` in its Steps section."""
    return "# Runbook: test\n\n" + SECTIONS_TEXT.replace("## Steps\n\nText.\n", f"## Steps\n\n{body}\n")


def test_a_correct_runbook_has_no_problem(problems_of: Callable[[str], list[str]]) -> None:
    body = """```sh
tecrax run check_ntp_health --env /etc/tecrax/env.yaml --target ntp-host-01
$ tecrax evidence "$OP" --json | head -n 5
OP=$(rexecop plan --profile tecrax --env /etc/tecrax/env.yaml \\
       --intent check_ntp_health --target ntp-host-01 --mode observe | tail -n 1)
rexecop start --operation "$OP" && rexecop validate --operation "$OP"
```

Prose may name `rexecop approve` or `tecrax run ... --json` without their required values."""
    assert problems_of(runbook(body)) == []


def test_a_typo_an_unknown_subcommand_and_an_unknown_intent_fail(problems_of: Callable[[str], list[str]]) -> None:
    body = """```sh
tecrax run check_ntp_health --env /etc/tecrax/env.yaml --targte ntp-host-01
rexecop plna --profile tecrax --env /etc/tecrax/env.yaml --intent check_ntp_health --target t
tecrax run check_ntp_healht --env /etc/tecrax/env.yaml --target ntp-host-01
```"""
    problems = problems_of(runbook(body))
    assert len(problems) == 3, problems
    typo, subcommand, intent = problems
    assert typo.startswith("18: unrecognized arguments: --targte ntp-host-01")
    assert subcommand.startswith("19: No such command 'plna'")
    assert intent.startswith("20: unknown intent 'check_ntp_healht'")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("$ tecrax evidnce op-1", "invalid choice: 'evidnce'"),
        ("tecrax run check_ntp_health --env /etc/tecrax/env.yaml", "--target is required with --env or --catalog"),
        ("tecrax run check_ntp_health --mode apply", "intent check_ntp_health does not declare mode apply"),
        ("tecrax run configure_chrony_ntp_server --env e.yaml --target t --approve-by ''", "--approve-by needs the approver's name"),
        ("rexecop plan --profile tecrax --env e.yaml --intent check_ntp_health --mode observe", "Missing option '--target'"),
        ("rexecop plan --profile tecrax --env e.yaml --intent check_ntp_health --target t --mode read_only",
         "RExecOp has no operation mode read_only"),
        ("rexecop plan --profile tecrax --env e.yaml --intent configure_chrony_ntp_server --target t --mode dry_run",
         "intent configure_chrony_ntp_server does not declare mode dry_run"),
        ("rexecop plan --profile other --env e.yaml --intent check_ntp_health --target t", "this project's profile is tecrax"),
        ("rexecop runbook show check_ntp_helth --profile tecrax", "unknown intent 'check_ntp_helth'"),
        ("rexecop targets lst --catalog c.yaml", "No such command 'lst'"),
        ("rexecop --rot /srv/rexecop status --operation op-1", "No such option: --rot"),
        ('OP=$(rexecop plan --profile tecrax --env e.yaml --intent check_ntp_health --target t --mode obsrve)',
         "RExecOp has no operation mode obsrve"),
        ("rexecop plan --profile tecrax --env e.yaml \\\n   --intent check_ntp_health --traget t", "No such option: --traget"),
        ('echo "$(tecrax evidence)"', "the following arguments are required: operation"),
        ("rexecop status --operation op-1 | jq . && rexecop approve --operation op-1 --bye alice", "No such option: --bye"),
        ("REXECOP_ROOT=/srv/rexecop tecrax status --jsn", "unrecognized arguments: --jsn"),
    ],
)
def test_each_command_form_is_parsed(problems_of: Callable[[str], list[str]], line: str, reason: str) -> None:
    problems = problems_of(runbook(f"```sh\n{line}\n```"))
    assert len(problems) == 1, problems
    assert problems[0].startswith("18: ") and reason in problems[0], problems


def test_output_blocks_and_here_documents_are_not_commands(problems_of: Callable[[str], list[str]]) -> None:
    body = """```text
tecrax run check_ntp_health on ntp-host-01 (mode observe, env.yaml)
```

```console
$ tecrax status
tecrax statsu is not a command here: this is output
```

```sh
cat > notes.txt <<'EOF'
tecrax bogus
EOF
```"""
    assert problems_of(runbook(body)) == []


def test_prose_is_checked_without_required_values(problems_of: Callable[[str], list[str]]) -> None:
    body = ("Use `rexecop recover`, `tecrax run check_ntp_health --jsn`, `tecrax run no_such_intent`,\n"
            "but `rexecop approve`, `tecrax run INTENT --env ENV --target T` and `tecrax evidence <op>` are fine.")
    assert problems_of(runbook(body)) == [
        "17: No such command 'recover'.: rexecop recover",
        "17: unknown intent 'no_such_intent': profile/intents declares no such intent: tecrax run no_such_intent",
        "17: unrecognized arguments: --jsn: tecrax run check_ntp_health --jsn",
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (SECTIONS_TEXT, "no level-1 title"),
        ("# Runbook: t\n\n" + SECTIONS_TEXT.replace("## Non-claims\n", ""), "missing ['Non-claims']"),
        ("# Runbook: t\n\n" + SECTIONS_TEXT.replace("## Scope\n", "## Scope and purpose\n"),
         "missing ['Scope']; unexpected 'Scope and purpose' (line 7)"),
        ("# Runbook: t\n\n" + SECTIONS_TEXT + "## Steps\n", "repeated ['Steps']"),
        ("# Runbook: t\n\n" + SECTIONS_TEXT.replace("## Purpose\n\nText.\n", "") + "## Purpose\n",
         "out of order"),
        (runbook("```\ntecrax statsu\n```"), "fenced block without an info string"),
    ],
)
def test_the_section_contract_fails_on(problems_of: Callable[[str], list[str]], text: str, reason: str) -> None:
    problems = problems_of(text)
    assert len(problems) == 1 and reason in problems[0], problems


def copy_tree(tmp_path: Path) -> Path:
    """What the check reads: the profile and src/tecrax/cli.py."""
    shutil.copytree(REPO_ROOT / "profile", tmp_path / "profile")
    (tmp_path / "src" / "tecrax").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "src" / "tecrax" / "cli.py", tmp_path / "src" / "tecrax" / "cli.py")
    return tmp_path


def test_stray_files_and_dangling_runbook_refs_fail(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    (tree / "profile" / "runbooks" / "notes.md").write_text("# Notes\n", encoding="utf-8")
    (tree / "profile" / "runbooks" / "ubuntu-host-readonly-runbook.md").unlink()
    problems = [str(problem) for problem in checker.check(tree).problems]
    assert "profile/runbooks/notes.md: neither a runbook (*-runbook.md) nor the index" in problems
    assert ("profile/intents/check_ntp_health.yaml: runbook_ref runbooks/ubuntu-host-readonly-runbook.md"
            " is not a runbook") in problems


def test_main_reports_a_stale_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = copy_tree(tmp_path)
    index = tree / "profile" / "runbooks" / "README.md"
    index.write_text(index.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    assert checker.main(["--root", str(tree)]) == 1
    assert "profile/runbooks/README.md: stale" in capsys.readouterr().out
    assert checker.main(["--root", str(tree), "--write-index"]) == 0
    assert index.read_text(encoding="utf-8") == checker.check(tree).index
