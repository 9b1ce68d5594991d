"""``tecrax fixture-review``: a public-safe dry-run proof built only from GovEngine's and
SCLite's contracts, for one named fixture service.

Nothing is read from or sent to any host, file or network; nothing runs. The proof is
GovEngine's ``RuntimeContractProof`` for its ``tecrax-infra-ops`` domain profile:

- profile: the domain profile and its conformance report (dry-run runners only,
  receipt-bound evidence rules);
- planning: a plan intent with one task contract for ``fixture:service:<name>``;
- supervision: a dry-run supervision plan on the ``local_fixture_only`` runner;
- runtime: a ``running_dry_run`` snapshot whose one control action is ``record_only``;
- review: a review result whose verdict comes from GovEngine's evidence qualification of
  the fixture receipt (a ``dry-run`` receipt meets the ``dry-run`` minimum).

The fixture receipt is bound through its SCLite artifact descriptor: the proof's evidence
reference and the evidence claim carry the descriptor's sha256, so a changed receipt no
longer matches (``verify_fixture_review``). The payload has no timestamps: the same service
name gives the same payload, byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SERVICE_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")
RUNNER_PROFILE = "local_fixture_only"
RECEIPT_STATUS = "dry-run"
NON_CLAIMS = (
    "No host, network, file or credential was touched; nothing was executed.",
    "A passed fixture review is not admission of any live operation.",
    "The service is a name in a fixture, not an inventory entry.",
)


class FixtureReviewError(ValueError):
    """The review cannot be built or does not verify; one line."""


def fixture_review(service: str) -> dict[str, Any]:
    from govengine import (
        ArtifactChangeOrder,
        GovApiError,
        GovControlAction,
        GovEvidenceClaim,
        GovEvidenceRequirement,
        GovPlanIntentContract,
        GovReviewResult,
        GovRuntimeSnapshot,
        GovSupervisionPlan,
        GovTaskContract,
        RuntimeContractProof,
        governance_contract_vocabulary,
        qualify_evidence_claim,
        tecrax_infra_ops_profile,
        validate_profile_conformance,
        validate_runtime_contract_proof,
    )

    if not SERVICE_NAME.fullmatch(service):
        raise FixtureReviewError(
            f"--service {service!r:.80} is not a service name (lowercase letters, digits and -, "
            "starting with a letter, at most 63)"
        )
    profile = tecrax_infra_ops_profile()
    prefix = f"tecrax-fixture-{service}"
    task = GovTaskContract(
        contract_id=f"{prefix}-task",
        task_family="dry_run_change",
        objective=f"Review a dry-run change of the fixture service {service}.",
        capability="dry_run_infra_change_review",
        target_ref=f"fixture:service:{service}",
        target_kind="service",
        evidence_goal="fixture_receipt_required",
        constraints={"change_scope": "local_fixture", "aggression": "dry_run_only"},
        metadata={"fixture": "tecrax_fixture_review"},
    )
    intent = GovPlanIntentContract(
        intent_id=f"{prefix}-intent",
        profile=profile.name,
        planner_id="tecrax_fixture_review",
        goal=f"Show the governed handoff for {service} without touching infrastructure.",
        task_contracts=(task,),
        non_claims=("Does not connect to infrastructure.",),
    )
    supervision = GovSupervisionPlan(
        plan_id=f"{prefix}-supervision", request_id=task.contract_id, runner_profile=RUNNER_PROFILE,
        dry_run=True, live_backend_enabled=False,
    )
    receipt = fixture_receipt(service, task.contract_id, supervision.plan_id, list(profile.planning_stages.names))
    descriptor = receipt_descriptor(receipt)
    evidence_ref = f"sclite:artifact_descriptor:sha256:{descriptor['digest']}"
    qualification = qualify_evidence_claim(
        GovEvidenceClaim(
            claim_id=f"{prefix}-claim", subject_ref=intent.intent_id, claim_type="dry_run_change_review",
            statement=f"The dry-run review of {service} produced a fixture receipt.",
            receipt_refs=(evidence_ref,), evidence_refs=(evidence_ref,),
        ),
        GovEvidenceRequirement(
            requirement_id=f"{prefix}-requirement", subject_ref=intent.intent_id,
            evidence_kind="execution_receipt", min_receipt_status=RECEIPT_STATUS,
        ),
        receipt_status=receipt["status"],
        qualification_id=f"{prefix}-qualification",
    )
    run_id = f"{prefix}-run"
    try:
        proof = validate_runtime_contract_proof(RuntimeContractProof(
            proof_id=f"{prefix}-proof",
            profile=profile,
            profile_conformance=validate_profile_conformance(profile),
            intent=intent,
            policy_constraints={"authorization": "fixture_only", "change_scope": "local_fixture"},
            supervision_plan=supervision,
            runtime_snapshot=GovRuntimeSnapshot(
                snapshot_id=f"{prefix}-snapshot", run_id=run_id, state="running_dry_run",
                control_actions=(GovControlAction(action_id=f"{prefix}-record-only", run_id=run_id,
                                                  action="record_only", profile=profile.name),),
                profile=profile.name, non_claims=("Snapshot is built from the fixture, not from a runtime.",),
            ),
            review_result=GovReviewResult(
                review_id=f"{prefix}-review", subject_ref=intent.intent_id,
                verdict="passed" if qualification.result == "supported" else "failed",
                qualification_refs=(qualification.qualification_id,),
            ),
            change_order=ArtifactChangeOrder(required_actions=("operator_review_before_any_live_change",)),
            evidence_refs=(evidence_ref,),
            vocabulary=governance_contract_vocabulary(),
            metadata={"proof_scope": "local_fixture_only", "service": service},
        ))
    except GovApiError as exc:
        raise FixtureReviewError(f"GovEngine refused the fixture proof: {exc}") from None
    return {
        "artifact_type": "tecrax_fixture_review",
        "schema_version": "v0.1",
        "service": service,
        "verdict": proof.review_result.verdict,
        "proof": proof.as_dict(),
        "qualification": qualification.as_dict(),
        "fixture_receipt": receipt,
        "receipt_descriptor": descriptor,
        "non_claims": list(NON_CLAIMS),
    }


def fixture_receipt(service: str, task_ref: str, supervision_ref: str, stages: list[str]) -> dict[str, Any]:
    """What the dry run records: every planning stage passed through, none executed."""
    return {
        "artifact_type": "tecrax_fixture_receipt",
        "schema_version": "v0.1",
        "service": service,
        "task_ref": task_ref,
        "supervision_ref": supervision_ref,
        "runner_profile": RUNNER_PROFILE,
        "status": RECEIPT_STATUS,
        "executed": False,
        "stages": [{"index": index, "stage": stage, "status": RECEIPT_STATUS} for index, stage in enumerate(stages)],
    }


def receipt_descriptor(receipt: Mapping[str, Any]) -> dict[str, Any]:
    from sclite import artifact_descriptor

    return artifact_descriptor(receipt)


def verify_fixture_review(review: Mapping[str, Any]) -> None:
    """Raise :class:`FixtureReviewError` unless the receipt still matches its descriptor and
    the proof's evidence reference, and GovEngine still accepts the proof."""
    from govengine import GovApiError, validate_runtime_contract_proof

    descriptor = receipt_descriptor(review["fixture_receipt"])
    if descriptor != review["receipt_descriptor"]:
        raise FixtureReviewError("the fixture receipt does not match its SCLite artifact descriptor")
    expected = f"sclite:artifact_descriptor:sha256:{descriptor['digest']}"
    if list(review["proof"]["evidence_refs"]) != [expected]:
        raise FixtureReviewError("the proof's evidence reference is not the receipt's descriptor digest")
    try:
        validate_runtime_contract_proof(review["proof"])
    except GovApiError as exc:
        raise FixtureReviewError(f"GovEngine refuses the proof: {exc}") from None
