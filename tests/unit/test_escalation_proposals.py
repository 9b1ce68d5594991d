"""Escalation proposals: built from diagnoses, never granting execution, and checked by
Tecrax's rules on top of SCLite's schema (what the schema lets through is refused here)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

import diagnosis_fixture
from tecrax import profile_root
from tecrax.proposals import AUTHORITY, MAX_EXPLANATION, ProposalError, build_proposal, check_proposal

OPERATION = "op-20261205-101500-a1b2c3"
TARGET = "monitoring-host-01"
ROOT = profile_root()


def build(facts: dict[str, Any], **options: Any) -> dict[str, Any]:
    return build_proposal(facts, operation_id=OPERATION, target_id=TARGET, profile_root=ROOT, **options)


@pytest.mark.parametrize(
    ("changes", "outcome", "intent_ref", "words"),
    [
        ({}, "no_op", None, ["assessment healthy", "monitoring.observed_healthy (info)", "nothing to do"]),
        ({"ntp": ("unhealthy", ["clock_not_synchronized"])}, "run_intent", "check_ntp_health",
         ["Unhealthy: ntp (clock_not_synchronized)", "monitoring.ntp_unhealthy (high)", "GovEngine admits"]),
        ({"portainer": ("unavailable", ["tls_failed"])}, "escalate", None,
         ["Unavailable: portainer (tls_failed)", "monitoring.component_unavailable (medium)"]),
        ({"docker": ("flapping", [])}, "escalate", None, ["monitoring.unclassified_state (medium)"]),
    ],
)
def test_the_proposal_follows_the_reaction_pack(changes: dict[str, Any], outcome: str, intent_ref: str | None,
                                                words: list[str]) -> None:
    proposal = build(diagnosis_fixture.diagnosis(**changes))
    assert (proposal["suggested_outcome"], proposal["intent_ref"]) == (outcome, intent_ref)
    assert proposal["authority"] == AUTHORITY == {"trusted": False, "may_execute": False,
                                                  "requires_profile_validation": True,
                                                  "requires_govengine_admission": True}
    assert proposal["artifact_type"] == "escalation_proposal" and proposal["reaction_id"] == f"unplanned:{OPERATION}"
    for word in words:
        assert word in proposal["explanation"]
    assert proposal["evidence_refs"][0] == f"sclite/{OPERATION}/05_execution_receipt.json"
    assert proposal["evidence_refs"][1].startswith("sha256:")


def test_the_proposal_id_is_its_content() -> None:
    facts = diagnosis_fixture.diagnosis(ntp=("unhealthy", []))
    first = build(facts, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    again = build(facts)
    assert first["proposal_id"] == again["proposal_id"] and first["created_at"] != again["created_at"]
    assert build(facts, reaction_id="reaction-0123456789abcdef01234567")["proposal_id"] != first["proposal_id"]


def test_the_explanation_is_bounded_and_made_of_state_words_only() -> None:
    hostile = ["https://evil.example/x", "rm -rf /", "password=hunter2", "$(reboot)"] + [f"r{i}" for i in range(20)]
    facts = diagnosis_fixture.diagnosis(**{name: ("unhealthy", hostile) for name in diagnosis_fixture.healthy()["components"]})
    proposal = build(facts)
    text = proposal["explanation"]
    assert len(text) <= MAX_EXPLANATION
    for bad in ("https", "rm -rf", "hunter2", "$("):
        assert bad not in text
    assert "ntp (r0, r1, r2, +21 more)" in text


def test_an_operator_may_name_a_read_only_intent() -> None:
    proposal = build(diagnosis_fixture.healthy(), intent="check_docker_services_health")
    assert (proposal["suggested_outcome"], proposal["intent_ref"]) == ("run_intent", "check_docker_services_health")
    assert "the operator's choice" in proposal["explanation"]


@pytest.mark.parametrize(
    ("intent", "message"),
    [
        ("configure_chrony_ntp_server", "intent_ref configure_chrony_ntp_server is not read-only (modes: apply)"),
        ("wipe_host", "intent_ref 'wipe_host' is not an intent of profile tecrax"),
        ("../profile", "is not an intent of profile tecrax"),
    ],
)
def test_a_mutating_or_unknown_intent_is_refused(intent: str, message: str) -> None:
    with pytest.raises(ProposalError) as caught:
        build(diagnosis_fixture.healthy(), intent=intent)
    assert message in str(caught.value)


GOOD = build(diagnosis_fixture.diagnosis(ntp=("unhealthy", ["clock_not_synchronized"])))


def changed(change: Any) -> dict[str, Any]:
    proposal = copy.deepcopy(GOOD)
    change(proposal)
    return proposal


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.update(command="systemctl restart chrony"), "proposal.command is a 'command' key"),
        (lambda p: p["authority"].update(shell="bash"), "proposal.authority.shell is a 'shell' key"),
        (lambda p: p.update(evidence_refs=["/var/lib/rexecop/sclite/op/05.json"]), "evidence_refs[0] '/var/lib"),
        (lambda p: p.update(evidence_refs=["~/receipt.json"]), "is absolute"),
        (lambda p: p.update(evidence_refs=["sclite/../../etc/shadow"]), "may not contain '..'"),
        (lambda p: p.update(evidence_refs=["sclite/op x/receipt.json"]), "is not a relative path"),
        (lambda p: p.update(explanation="See https://example.org/runbook for details."), "explanation contains a URL"),
        (lambda p: p.update(explanation="Log in with password hunter2 first."), "explanation contains secret-like text"),
        (lambda p: p.update(explanation="Use the api_key from the vault."), "explanation contains secret-like text"),
        (lambda p: p.update(explanation="key -----BEGIN OPENSSH PRIVATE KEY----- x"),  # secret-topology: allow test input
         "explanation contains key material"),
        (lambda p: p.update(explanation="Session c2VjcmV0dmFsdWUxMjM0NTY3ODkwYWJjZGVm0 is live."),
         "explanation contains secret-like text (a long opaque string)"),
        (lambda p: p.update(explanation="Then run $(reboot) on the host."), "explanation contains command syntax"),
        (lambda p: p.update(explanation="Pipe the log | grep error."), "explanation contains command syntax"),
        (lambda p: p.update(explanation="Just sudo it."), "explanation contains a command"),
        (lambda p: p.update(intent_ref="configure_chrony_ntp_server"), "is not read-only (modes: apply)"),
        (lambda p: p.update(suggested_outcome="escalate"), "intent_ref must be null for suggested_outcome escalate"),
        (lambda p: p.update(intent_ref=None), "intent_ref is required for suggested_outcome run_intent"),
        (lambda p: p["authority"].update(may_execute=True), "not an SCLite escalation_proposal v0.1"),
        (lambda p: p.update(suggested_outcome="execute"), "not an SCLite escalation_proposal v0.1"),
        (lambda p: p.pop("reaction_id"), "not an SCLite escalation_proposal v0.1"),
    ],
)
def test_check_refuses_what_a_proposal_must_not_hold(change: Any, message: str) -> None:
    with pytest.raises(ProposalError) as caught:
        check_proposal(changed(change), ROOT)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_check_accepts_digests_and_relative_refs() -> None:
    proposal = changed(lambda p: p.update(evidence_refs=["sha256:" + "ab" * 32, "reactions/reaction-1/03_reaction_plan.json"]))
    assert check_proposal(proposal, ROOT) is proposal


def test_not_an_object() -> None:
    with pytest.raises(ProposalError, match="a proposal must be a JSON object"):
        check_proposal([GOOD], ROOT)
