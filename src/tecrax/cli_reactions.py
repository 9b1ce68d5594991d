"""The ``tecrax`` commands around reactions: ``reaction-observation``,
``escalation-proposal``, ``escalation-proposal-check`` and ``fixture-review``.

Registered by ``tecrax.cli`` and following its conventions: ``--json`` everywhere, a refused
request is one line on stderr (and with ``--json`` one ``{"error", "exit_code"}`` document on
stdout) with exit 1, and nothing is written anywhere. Observations and proposals are JSON
artifacts, so they are printed as JSON with or without ``--json``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tecrax.cli import EXIT_FAILED, EXIT_OK, add_command, refused

# The diagnosis commands print JSON artifacts either way: --json changes only how they refuse.
_ERRORS_AS_JSON = "errors as one JSON document on stdout"


def add_commands(commands: Any) -> None:
    observation = add_command(
        commands, "reaction-observation", _reaction_observation, json_help=_ERRORS_AS_JSON,
        help="print the SCLite observation envelope of a saved diagnosis (for rexecop reaction-plan)",
        description=(
            "Build the observation envelope RExecOp's reaction pack reads from a saved "
            "diagnose_monitoring_host result: profile ref with the reaction snapshot digest, "
            "source (operation, intent, target) and the diagnosis facts."
        ),
    )
    _diagnosis_options(observation)

    proposal = add_command(
        commands, "escalation-proposal", _escalation_proposal, json_help=_ERRORS_AS_JSON,
        help="print an untrusted escalation proposal built from a saved diagnosis",
        description=(
            "Build an SCLite escalation_proposal from a saved diagnosis: the reaction pack's "
            "suggestion (or --intent, a read-only intent) and a bounded explanation. It never "
            "grants execution: may_execute is false and GovEngine admission is required."
        ),
    )
    _diagnosis_options(proposal)
    proposal.add_argument("--reaction", help="id of the reaction this proposal escalates (rexecop reaction-plan)")
    proposal.add_argument("--intent", help="suggest run_intent of this read-only intent instead of the pack's outcome")
    proposal.add_argument("--evidence-ref", action="append", default=[], metavar="REF",
                          help="evidence reference relative to the RExecOp root, or sha256:<hex> (repeatable)")

    check = add_command(
        commands, "escalation-proposal-check", _escalation_proposal_check,
        help="check an escalation proposal file by Tecrax's rules and SCLite's schema",
        description="Refuse a proposal that names a non-read-only intent, carries a command, an absolute "
                    "evidence ref, a URL or secret-like text; it is never executed.",
    )
    check.add_argument("--proposal", type=Path, required=True, help="the proposal JSON file")

    review = add_command(
        commands, "fixture-review", _fixture_review, json_help="print the whole review as one JSON document",
        help="public-safe dry-run proof for a fixture service (no I/O)",
        description=(
            "Build GovEngine's runtime contract proof (profile, planning, supervision, runtime "
            "and review contracts) for a fixture service, with its fixture receipt bound through "
            "an SCLite artifact descriptor. Touches no host, file or network."
        ),
    )
    review.add_argument("--service", required=True, help="fixture service name (for example demo-web)")


def _diagnosis_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", type=Path, required=True,
                        help="the diagnosis: monitoring_host_diagnosis facts, or a tecrax run/evidence JSON report")
    parser.add_argument("--operation", required=True, help="id of the diagnose_monitoring_host operation")
    parser.add_argument("--target", required=True, help="the target that operation observed")
    known = parser.add_mutually_exclusive_group()
    known.add_argument("--env", type=Path, help="refuse a target this RExecOp environment does not declare")
    known.add_argument("--catalog", type=Path, help="refuse a target this target catalog does not list")


def _checked_diagnosis(args: argparse.Namespace) -> dict[str, Any]:
    from tecrax import profile_root
    from tecrax.diagnosis import check_identifier, read_diagnosis

    check_identifier(args.operation, "--operation")
    check_identifier(args.target, "--target")
    _require_known_target(args)
    return read_diagnosis(args.input, operation_id=args.operation, target_id=args.target, profile_root=profile_root())


def _require_known_target(args: argparse.Namespace) -> None:
    from tecrax.operator_files import OperatorFileError, check_environment, load_yaml

    if args.env is not None:
        check_environment(args.env)
        targets = load_yaml(args.env, "environment")["environment"].get("targets") or {}
        if args.target not in targets:
            raise OperatorFileError(
                f"unknown target {args.target}: {args.env.name} declares no such environment.targets entry"
            )
    if args.catalog is not None:
        catalog = load_yaml(args.catalog, "catalog").get("target_catalog")
        entries = catalog.get("targets") if isinstance(catalog, dict) else None
        ids = [entry.get("id") for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []
        if args.target not in ids:
            raise OperatorFileError(
                f"unknown target {args.target}: {args.catalog.name} lists no such target_catalog entry"
            )


def _artifact(args: argparse.Namespace, build: Callable[[], dict[str, Any]]) -> int:
    """Print the JSON artifact ``build`` returns, or refuse with its one-line reason."""
    from rexecop.errors import RExecOpError

    from tecrax.diagnosis import InputError
    from tecrax.operator_files import OperatorFileError
    from tecrax.proposals import ProposalError

    try:
        artifact = build()
    except (InputError, OperatorFileError, ProposalError) as exc:
        return refused(args, str(exc))
    except RExecOpError as exc:
        return refused(args, f"the profile's reaction pack does not load: {' '.join(str(exc).split())[:300]}")
    print(json.dumps(artifact, indent=2, sort_keys=True))
    return EXIT_OK


def _reaction_observation(args: argparse.Namespace) -> int:
    from tecrax import profile_root
    from tecrax.observation import build_observation, profile_ref

    return _artifact(args, lambda: build_observation(
        _checked_diagnosis(args), operation_id=args.operation, target_id=args.target,
        profile=profile_ref(profile_root()),
    ))


def _escalation_proposal(args: argparse.Namespace) -> int:
    from tecrax import profile_root
    from tecrax.diagnosis import check_identifier
    from tecrax.proposals import build_proposal

    def build() -> dict[str, Any]:
        facts = _checked_diagnosis(args)
        if args.reaction is not None:
            check_identifier(args.reaction, "--reaction")
        return build_proposal(
            facts, operation_id=args.operation, target_id=args.target, profile_root=profile_root(),
            reaction_id=args.reaction, intent=args.intent, evidence_refs=args.evidence_ref,
        )

    return _artifact(args, build)


def _escalation_proposal_check(args: argparse.Namespace) -> int:
    from sclite.artifacts import artifact_sha256

    from tecrax import profile_root
    from tecrax.diagnosis import InputError, read_json
    from tecrax.proposals import ProposalError, check_proposal

    try:
        proposal = check_proposal(read_json(args.proposal), profile_root())
    except (InputError, ProposalError) as exc:
        return refused(args, str(exc))
    result = {
        "status": "valid_untrusted_proposal",
        "proposal_id": proposal["proposal_id"],
        "proposal_digest": artifact_sha256(proposal),
        "suggested_outcome": proposal["suggested_outcome"],
        "intent_ref": proposal["intent_ref"],
        "may_execute": False,
        "requires_govengine_admission": True,
    }
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        suggestion = proposal["suggested_outcome"] + (f" {proposal['intent_ref']}" if proposal["intent_ref"] else "")
        print(f"valid untrusted proposal {proposal['proposal_id']}: suggests {suggestion}; "
              "may_execute false, GovEngine admission required")
    return EXIT_OK


def _fixture_review(args: argparse.Namespace) -> int:
    from tecrax.fixture_review import FixtureReviewError, fixture_review, verify_fixture_review

    try:
        review = fixture_review(args.service)
        verify_fixture_review(review)
    except FixtureReviewError as exc:
        return refused(args, str(exc))
    code = EXIT_OK if review["verdict"] == "passed" else EXIT_FAILED
    if args.json:
        print(json.dumps(review, indent=2, sort_keys=True))
        return code
    proof = review["proof"]
    print(f"fixture review of {review['service']}: {review['verdict']} (dry run, nothing executed, no I/O)")
    print(f"  profile      {proof['profile']['name']} {proof['profile']['version']}: "
          f"conformance {proof['profile_conformance']['status']}")
    print(f"  planning     {proof['intent']['intent_id']}: task {proof['intent']['task_contracts'][0]['target_ref']}")
    supervision = proof["supervision_plan"]
    print(f"  supervision  {supervision['runner_profile']}: dry_run {supervision['dry_run']}, "
          f"live backend {supervision['live_backend_enabled']}")
    print(f"  runtime      {proof['runtime_snapshot']['state']}: "
          + ", ".join(action["action"] for action in proof["runtime_snapshot"]["control_actions"]))
    print(f"  review       {proof['review_result']['verdict']}: qualification {review['qualification']['result']} "
          f"({review['qualification']['reason_code']})")
    print(f"  receipt      sha256:{review['receipt_descriptor']['digest']} (SCLite artifact descriptor, "
          f"status {review['fixture_receipt']['status']})")
    return code
