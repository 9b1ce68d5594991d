"""The reaction commands of ``tecrax``: their output, and bad input refused with one line,
exit 1, a JSON error document with --json, no traceback and nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from sclite.artifacts import artifact_sha256, validate_artifact

import diagnosis_fixture
from tecrax.cli import EXIT_CLOSED_PIPE, EXIT_OK, EXIT_REFUSED, main

OPERATION = "op-20261205-101500-a1b2c3"
TARGET = "monitoring-host-01"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def saved(workdir: Path, name: str = "diagnosis.json", **changes: Any) -> str:
    return str(diagnosis_fixture.write(workdir / name, diagnosis_fixture.diagnosis(**changes)))


def diagnosis_args(path: str, *extra: str) -> list[str]:
    return ["--input", path, "--operation", OPERATION, "--target", TARGET, *extra]


def assert_refused(code: int, out: str, err: str, message: str, *, as_json: bool) -> None:
    assert code == EXIT_REFUSED
    assert err.startswith("tecrax: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert message in err, err
    if as_json:
        document = json.loads(out)
        assert document == {"error": err.strip().removeprefix("tecrax: "), "exit_code": EXIT_REFUSED}
    else:
        assert out == ""


def test_reaction_observation_prints_the_envelope(capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
    path = saved(workdir, ntp=("unhealthy", ["clock_not_synchronized"]))
    code, out, _ = run_cli(capsys, "reaction-observation", *diagnosis_args(path))
    observation = json.loads(out)
    assert code == EXIT_OK
    validate_artifact(observation, "schemas/observation_envelope.v0.1.schema.json")
    assert observation["source"] == {"operation_id": OPERATION, "intent_id": "diagnose_monitoring_host",
                                     "target_id": TARGET}
    assert observation["profile_ref"]["id"] == "tecrax" and len(observation["profile_ref"]["digest"]) == 64
    assert observation["facts"]["components"]["ntp"]["status"] == "unhealthy"
    assert sorted(p.name for p in workdir.iterdir()) == ["diagnosis.json"]


def environment(workdir: Path) -> str:
    document = {"environment": {"id": "e", "profile": "tecrax", "targets": {TARGET: {"type": "host"}},
                                "connectors": {}, "safety": {}, "policy_pack": {}}}
    (workdir / "env.yaml").write_text(yaml.safe_dump(document))
    return str(workdir / "env.yaml")


def catalog(workdir: Path) -> str:
    document = {"target_catalog": {"version": "0.1", "targets": [{"id": TARGET, "target_kind": "host"}]}}
    (workdir / "catalog.yaml").write_text(yaml.safe_dump(document))
    return str(workdir / "catalog.yaml")


def test_a_known_target_passes_the_env_and_catalog_checks(capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
    path = saved(workdir)
    for option, file in (("--env", environment(workdir)), ("--catalog", catalog(workdir))):
        code, out, _ = run_cli(capsys, "reaction-observation", *diagnosis_args(path, option, file))
        assert code == EXIT_OK and json.loads(out)["source"]["target_id"] == TARGET


def write(workdir: Path, name: str, content: str | bytes) -> str:
    path = workdir / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return str(path)


BAD_DIAGNOSES = [
    ("broken.json", "{\"contract\": {", "broken.json: invalid JSON at line 1 column 15"),
    ("list.json", "[]", "list.json: a diagnosis must be a JSON object"),
    ("other.json", json.dumps({"contract": {"id": "tecrax.basic_host_inventory", "version": "1.0"}}),
     "contract must be {id: tecrax.monitoring_host_diagnosis"),
    ("report.json", json.dumps({"operation_id": "op-elsewhere", "facts": {}}), "the report's operation_id is 'op-elsewhere'"),
]


@pytest.mark.parametrize("command", ["reaction-observation", "escalation-proposal"])
@pytest.mark.parametrize(("name", "content", "message"), BAD_DIAGNOSES, ids=[case[0] for case in BAD_DIAGNOSES])
@pytest.mark.parametrize("as_json", [False, True])
def test_invalid_diagnosis_json(capsys: pytest.CaptureFixture[str], workdir: Path, command: str, name: str,
                                content: str, message: str, as_json: bool) -> None:
    path = write(workdir, name, content)
    code, out, err = run_cli(capsys, command, *diagnosis_args(path), *(["--json"] if as_json else []))
    assert_refused(code, out, err, message, as_json=as_json)


def test_a_diagnosis_missing_a_component(capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
    facts = diagnosis_fixture.healthy()
    facts["components"].pop("zabbix_api")
    path = str(diagnosis_fixture.write(workdir / "d.json", facts))
    code, out, err = run_cli(capsys, "reaction-observation", *diagnosis_args(path))
    assert_refused(code, out, err, "missing: zabbix_api", as_json=False)


@pytest.mark.parametrize("as_json", [False, True])
def test_an_observation_for_an_unknown_target(capsys: pytest.CaptureFixture[str], workdir: Path, as_json: bool) -> None:
    path = saved(workdir)
    flag = ["--json"] if as_json else []
    args = ["--input", path, "--operation", OPERATION, "--target", "ghost-host"]
    code, out, err = run_cli(capsys, "reaction-observation", *args, "--env", environment(workdir), *flag)
    assert_refused(code, out, err, "unknown target ghost-host: env.yaml declares no such environment.targets entry",
                   as_json=as_json)
    code, out, err = run_cli(capsys, "reaction-observation", *args, "--catalog", catalog(workdir), *flag)
    assert_refused(code, out, err, "unknown target ghost-host: catalog.yaml lists no such target_catalog entry",
                   as_json=as_json)
    report = {"operation_id": OPERATION, "target": TARGET, "facts": {"monitoring_host_diagnosis": {}}}
    code, out, err = run_cli(capsys, "reaction-observation", "--input", write(workdir, "r.json", json.dumps(report)),
                             "--operation", OPERATION, "--target", "ghost-host", *flag)
    assert_refused(code, out, err, "the report's target is 'monitoring-host-01', not 'ghost-host'", as_json=as_json)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--target", "two words", "--target 'two words' is not an id"),
        ("--target", "../etc", "--target '../etc' is not an id"),
        ("--operation", "op\nx", "--operation 'op\\nx' is not an id"),
    ],
)
def test_bad_ids(capsys: pytest.CaptureFixture[str], workdir: Path, option: str, value: str, message: str) -> None:
    args = {"--input": saved(workdir), "--operation": OPERATION, "--target": TARGET, option: value}
    code, out, err = run_cli(capsys, "reaction-observation", *[part for pair in args.items() for part in pair])
    assert_refused(code, out, err, message, as_json=False)


def test_missing_input_file_and_usage_errors(capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
    code, out, err = run_cli(capsys, "reaction-observation", *diagnosis_args("nope.json"))
    assert_refused(code, out, err, "cannot read nope.json: No such file or directory", as_json=False)
    code, out, err = run_cli(capsys, "reaction-observation", "--input", "x.json", "--json")
    assert_refused(code, out, err, "reaction-observation: the following arguments are required: --operation, --target",
                   as_json=True)
    code, out, err = run_cli(capsys, "escalation-proposal", *diagnosis_args("x.json", "--frobnicate"))
    assert code == EXIT_REFUSED and "unrecognized arguments: --frobnicate" in err and len(err.splitlines()) == 1


def test_escalation_proposal_prints_a_checked_proposal(capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
    path = saved(workdir, docker=("unhealthy", ["docker_inactive"]))
    code, out, _ = run_cli(capsys, "escalation-proposal", *diagnosis_args(path, "--reaction", "reaction-abc"))
    proposal = json.loads(out)
    assert code == EXIT_OK and proposal["reaction_id"] == "reaction-abc"
    assert (proposal["suggested_outcome"], proposal["intent_ref"]) == ("run_intent", "check_docker_services_health")
    assert proposal["authority"]["may_execute"] is False
    proposal_file = write(workdir, "proposal.json", out)
    code, out, _ = run_cli(capsys, "escalation-proposal-check", "--proposal", proposal_file, "--json")
    result = json.loads(out)
    assert code == EXIT_OK and result["status"] == "valid_untrusted_proposal"
    assert result["proposal_digest"] == artifact_sha256(proposal) and result["may_execute"] is False
    code, out, _ = run_cli(capsys, "escalation-proposal-check", "--proposal", proposal_file)
    assert code == EXIT_OK and out.startswith(f"valid untrusted proposal {proposal['proposal_id']}: suggests run_intent")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--intent", "configure_chrony_ntp_server"], "intent_ref configure_chrony_ntp_server is not read-only"),
        (["--evidence-ref", "/etc/tecrax/receipt.json"], "evidence_refs[0] '/etc/tecrax/receipt.json' is absolute"),
        (["--evidence-ref", "https://example.org/r"], "evidence_refs[0] 'https://example.org/r' is not a relative path"),
        (["--reaction", "reaction x"], "--reaction 'reaction x' is not an id"),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_escalation_proposal_refusals(capsys: pytest.CaptureFixture[str], workdir: Path, extra: list[str],
                                      message: str, as_json: bool) -> None:
    path = saved(workdir)
    code, out, err = run_cli(capsys, "escalation-proposal", *diagnosis_args(path, *extra),
                             *(["--json"] if as_json else []))
    assert_refused(code, out, err, message, as_json=as_json)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.update(intent_ref="configure_chrony_ntp_server"), "is not read-only (modes: apply)"),
        (lambda p: p.update(command="chronyc makestep"), "proposal.command is a 'command' key"),
        (lambda p: p.update(evidence_refs=["/srv/evidence.json"]), "evidence_refs[0] '/srv/evidence.json' is absolute"),
        (lambda p: p.update(explanation="The token is abc; paste it."), "explanation contains secret-like text"),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_escalation_proposal_check_refusals(capsys: pytest.CaptureFixture[str], workdir: Path, change: Any,
                                            message: str, as_json: bool) -> None:
    code, out, _ = run_cli(capsys, "escalation-proposal", *diagnosis_args(saved(workdir, ntp=("unhealthy", []))))
    proposal = json.loads(out)
    change(proposal)
    path = write(workdir, "bad.json", json.dumps(proposal))
    code, out, err = run_cli(capsys, "escalation-proposal-check", "--proposal", path, *(["--json"] if as_json else []))
    assert_refused(code, out, err, message, as_json=as_json)


def test_escalation_proposal_check_bad_files(capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
    code, out, err = run_cli(capsys, "escalation-proposal-check", "--proposal", write(workdir, "p.json", "{nope"))
    assert_refused(code, out, err, "p.json: invalid JSON at line 1 column 2", as_json=False)
    code, out, err = run_cli(capsys, "escalation-proposal-check", "--proposal", write(workdir, "p.json", "[]"))
    assert_refused(code, out, err, "a proposal must be a JSON object", as_json=False)


def test_fixture_review_text_and_json(capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
    code, out, _ = run_cli(capsys, "fixture-review", "--service", "demo-web")
    lines = out.splitlines()
    assert code == EXIT_OK and lines[0] == "fixture review of demo-web: passed (dry run, nothing executed, no I/O)"
    assert [line.split()[0] for line in lines[1:]] == ["profile", "planning", "supervision", "runtime", "review",
                                                      "receipt"]
    code, out, _ = run_cli(capsys, "fixture-review", "--service", "demo-web", "--json")
    review = json.loads(out)
    assert code == EXIT_OK and review["verdict"] == "passed"
    assert f"sha256:{review['receipt_descriptor']['digest']}" in lines[-1]
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("as_json", [False, True])
def test_fixture_review_bad_service(capsys: pytest.CaptureFixture[str], workdir: Path, as_json: bool) -> None:
    code, out, err = run_cli(capsys, "fixture-review", "--service", "Demo Web", *(["--json"] if as_json else []))
    assert_refused(code, out, err, "--service 'Demo Web' is not a service name", as_json=as_json)


def test_a_closed_pipe_ends_quietly() -> None:
    tecrax = str(Path(sys.executable).with_name("tecrax"))
    with subprocess.Popen([tecrax, "fixture-review", "--service", "demo-web", "--json"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=120) == EXIT_CLOSED_PIPE
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
