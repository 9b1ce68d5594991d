"""tecrax fixture-review: GovEngine's runtime contract proof for a fixture service, its
receipt bound through an SCLite artifact descriptor, and no I/O while it is built."""

from __future__ import annotations

import builtins
import copy
import json
import os
import socket
import subprocess
from typing import Any

import pytest
from govengine import GovApiError, validate_runtime_contract_proof
from sclite import artifact_descriptor

from tecrax.fixture_review import FixtureReviewError, fixture_review, verify_fixture_review


def test_the_review_is_govengines_proof_over_the_fixture() -> None:
    review = fixture_review("demo-web")
    proof = review["proof"]
    assert review["verdict"] == "passed" and review["service"] == "demo-web"
    assert proof["profile"]["name"] == "tecrax-infra-ops" and proof["profile_conformance"]["status"] == "passed"
    assert proof["intent"]["task_contracts"][0]["target_ref"] == "fixture:service:demo-web"
    assert proof["supervision_plan"]["dry_run"] is True and proof["supervision_plan"]["live_backend_enabled"] is False
    assert proof["supervision_plan"]["runner_profile"] == "local_fixture_only"
    assert proof["runtime_snapshot"]["state"] == "running_dry_run"
    assert [a["action"] for a in proof["runtime_snapshot"]["control_actions"]] == ["record_only"]
    assert review["qualification"]["result"] == "supported"
    assert proof["review_result"]["qualification_refs"] == [review["qualification"]["qualification_id"]]
    validate_runtime_contract_proof(proof)  # GovEngine accepts the proof as JSON, too


def test_the_receipt_is_bound_by_its_descriptor() -> None:
    review = fixture_review("demo-web")
    descriptor = artifact_descriptor(review["fixture_receipt"])
    assert review["receipt_descriptor"] == descriptor
    assert review["proof"]["evidence_refs"] == [f"sclite:artifact_descriptor:sha256:{descriptor['digest']}"]
    assert review["fixture_receipt"]["status"] == "dry-run" and review["fixture_receipt"]["executed"] is False
    verify_fixture_review(json.loads(json.dumps(review)))


def test_the_same_service_gives_the_same_review_and_another_a_different_one() -> None:
    assert json.dumps(fixture_review("demo-web")) == json.dumps(fixture_review("demo-web"))
    assert fixture_review("billing-api")["receipt_descriptor"]["digest"] != \
        fixture_review("demo-web")["receipt_descriptor"]["digest"]


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda r: r["fixture_receipt"].update(executed=True), "does not match its SCLite artifact descriptor"),
        (lambda r: r["fixture_receipt"].update(status="succeeded"), "does not match its SCLite artifact descriptor"),
        (lambda r: r["proof"].update(evidence_refs=["sclite:artifact_descriptor:sha256:" + "0" * 64]),
         "is not the receipt's descriptor digest"),
        (lambda r: r["proof"]["supervision_plan"].update(dry_run=False, live_backend_enabled=True),
         "GovEngine refuses the proof: proof_live_execution_not_allowed"),
    ],
)
def test_a_changed_review_does_not_verify(tamper: Any, message: str) -> None:
    review = copy.deepcopy(fixture_review("demo-web"))
    tamper(review)
    with pytest.raises(FixtureReviewError, match=message):
        verify_fixture_review(review)


@pytest.mark.parametrize("name", ["", "Demo", "demo web", "-demo", "demo/../x", "x" * 64, "demo\n"])
def test_bad_service_names(name: str) -> None:
    with pytest.raises(FixtureReviewError, match="is not a service name"):
        fixture_review(name)


def test_govengine_itself_refuses_a_live_proof() -> None:
    proof = copy.deepcopy(fixture_review("demo-web")["proof"])
    proof["supervision_plan"].update(dry_run=False, live_backend_enabled=True)
    with pytest.raises(GovApiError):
        validate_runtime_contract_proof(proof)


def test_no_io_while_building(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sockets, processes and writes are made to fail (stand-ins that raise); the review is
    built and verified all the same, so it needs none of them."""
    fixture_review("warm-up")  # imports happen once, outside the guarded part

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("I/O attempted")

    real_open = builtins.open

    def read_only_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(flag in mode for flag in "wax+"):
            raise AssertionError(f"write attempted: {file}")
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(os, "system", refuse)
    monkeypatch.setattr(builtins, "open", read_only_open)
    verify_fixture_review(fixture_review("demo-web"))
