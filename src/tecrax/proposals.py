"""Untrusted SCLite escalation proposals built from monitoring-host diagnoses.

A proposal is advice for a person: what the deterministic reaction pack makes of the
diagnosis (or a read-only intent the operator names instead), with a bounded explanation
built from the diagnosis' own state words and relative evidence references. It never grants
anything: ``authority`` says untrusted, ``may_execute: false`` and GovEngine admission
required, and any follow-up still goes through ``rexecop reaction-plan`` / ``plan``.

``check_proposal`` is the gate for every proposal, built here or handed in: on top of the
SCLite schema and RExecOp's read-only rule it refuses what the schema lets through: an
absolute or parent-relative evidence reference, a URL, a credential word or key material,
command syntax, and a key that names a command anywhere.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tecrax.diagnosis import STATE_WORD
from tecrax.observation import build_observation, facts_digest, reference_of

READ_ONLY_MODES = frozenset({"read_only", "observe", "dry_run", "emergency_readonly"})
INTENT_OUTCOMES = frozenset({"run_intent", "retry_intent"})
INTENT_ID = re.compile(r"[a-z][a-z0-9_]{0,127}")
MAX_EXPLANATION = 600
MAX_REASONS_SHOWN = 3
AUTHORITY = {
    "trusted": False,
    "may_execute": False,
    "requires_profile_validation": True,
    "requires_govengine_admission": True,
}
COMMAND_KEYS = frozenset({"command", "commands", "cmd", "argv", "shell", "script", "exec", "run"})
# A reference relative to the RExecOp root (sclite/<op>/05_execution_receipt.json), or a digest.
EVIDENCE_REF = re.compile(r"sha256:[0-9a-f]{64}|[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*")
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://|\bwww\.", re.IGNORECASE)
CREDENTIAL_WORD = re.compile(
    r"\b(?:password|passwd|passphrase|secret|token|api[ _-]?key|private[ _-]?key|bearer|authorization"
    r"|credentials?)s?\b",
    re.IGNORECASE,
)
KEY_MATERIAL = re.compile(r"-----BEGIN|\bssh-(?:rsa|ed25519|dss)\b|\bAKIA[0-9A-Z]{16}\b")
OPAQUE_RUN = re.compile(r"[A-Za-z0-9+/=]{32,}")
SHELL_SYNTAX = re.compile(r"[`|<>\\]|\$[({A-Za-z_]|&&")
COMMAND_WORD = re.compile(
    r"\b(?:sudo|rm|curl|wget|bash|sh|ssh|scp|chmod|chown|kill|reboot|shutdown|systemctl|apt-get|pip)\b"
)


class ProposalError(ValueError):
    """A proposal Tecrax refuses; one line naming the field."""


def build_proposal(
    facts: Mapping[str, Any],
    *,
    operation_id: str,
    target_id: str,
    profile_root: str | Path,
    reaction_id: str | None = None,
    intent: str | None = None,
    evidence_refs: Sequence[str] = (),
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """A checked proposal for checked diagnosis ``facts``.

    Without ``intent`` the suggestion is what the profile's reaction pack decides for this
    diagnosis (run_intent of a read-only re-check, escalate, no_op); with it, run_intent of
    that intent, which must be read-only."""
    from rexecop.profile.loader import load_profile
    from rexecop.reaction import ReactionContext, compile_reaction_pack, evaluate_reaction

    profile = load_profile(Path(profile_root))
    reaction_pack = compile_reaction_pack(profile)
    observation = build_observation(facts, operation_id=operation_id, target_id=target_id,
                                    profile=reference_of(profile, reaction_pack))
    evaluation = evaluate_reaction(reaction_pack, observation, ReactionContext())
    if intent is not None:
        _require_read_only(profile, intent)
        outcome, intent_ref, basis = "run_intent", intent, "the operator's choice"
    else:
        outcome, intent_ref = evaluation.outcome, evaluation.intent_ref
        basis = f"reaction rule {evaluation.rule.rule_id}"
    digest = facts_digest(facts)
    proposal: dict[str, Any] = {
        "artifact_type": "escalation_proposal",
        "schema_version": "v0.1",
        "schema_ref": "schemas/escalation_proposal.v0.1.schema.json",
        "proposal_id": "",
        "reaction_id": reaction_id or f"unplanned:{operation_id}",
        "created_at": (created_at or datetime.now(UTC)).replace(microsecond=0).isoformat(),
        "suggested_outcome": outcome,
        "intent_ref": intent_ref,
        "explanation": explanation(facts, target_id, evaluation.rule.finding_kind, evaluation.rule.finding_severity,
                                   outcome, intent_ref, basis),
        "evidence_refs": list(evidence_refs) or [f"sclite/{operation_id}/05_execution_receipt.json",
                                                 f"sha256:{digest}"],
        "authority": dict(AUTHORITY),
    }
    identity = {key: value for key, value in proposal.items() if key not in ("proposal_id", "created_at")}
    from tecrax.backend.facts_check import canonical_json

    proposal["proposal_id"] = "proposal-" + hashlib.sha256(canonical_json(identity)).hexdigest()[:24]
    return check_proposal(proposal, profile_root)


def explanation(
    facts: Mapping[str, Any],
    target_id: str,
    kind: str,
    severity: str,
    outcome: str,
    intent_ref: str | None,
    basis: str,
) -> str:
    """One bounded sentence per part, made only of the diagnosis' state words and profile ids."""
    parts = [f"Diagnosis of {target_id}: assessment {_word(facts.get('assessment', {}).get('state'))}."]
    for status in ("unhealthy", "unavailable"):
        named = [
            f"{name} ({', '.join(_reasons(component))})" if _reasons(component) else name
            for name, component in facts["components"].items()
            if component.get("status") == status
        ]
        if named:
            parts.append(f"{status.capitalize()}: {'; '.join(named)}.")
    parts.append(f"Finding {kind} ({severity}).")
    if outcome == "no_op":
        parts.append(f"Suggested by {basis}: no_op, nothing to do.")
    else:
        suggestion = f"run_intent {intent_ref}, a read-only intent" if intent_ref else outcome
        parts.append(f"Suggested by {basis}: {suggestion}. Nothing runs unless GovEngine admits a plan for it.")
    text = " ".join(parts)
    return text if len(text) <= MAX_EXPLANATION else text[: MAX_EXPLANATION - 3] + "..."


def _reasons(component: Mapping[str, Any]) -> list[str]:
    reasons = component.get("reasons")
    words = [_word(reason) for reason in reasons] if isinstance(reasons, list) else []
    shown = [word for word in words if word != "unknown"][:MAX_REASONS_SHOWN]
    return shown + ([f"+{len(words) - len(shown)} more"] if len(words) > len(shown) else [])


def _word(value: Any) -> str:
    return value if isinstance(value, str) and STATE_WORD.fullmatch(value) else "unknown"


def check_proposal(proposal: Any, profile_root: str | Path) -> dict[str, Any]:
    """``proposal`` if Tecrax and SCLite accept it, else :class:`ProposalError`."""
    from rexecop.profile.loader import load_profile
    from sclite import validate_escalation_proposal

    if not isinstance(proposal, dict):
        raise ProposalError("a proposal must be a JSON object")
    for path, key in _keys(proposal):
        if str(key).lower() in COMMAND_KEYS:
            raise ProposalError(f"{path} is a {key!r} key: a proposal never carries a command")
    refs = proposal.get("evidence_refs")
    for index, ref in enumerate(refs if isinstance(refs, list) else []):
        _check_evidence_ref(ref, f"evidence_refs[{index}]")
    for path, text in _strings(proposal):
        _check_text(path, text, opaque_allowed=path.startswith("evidence_refs"))
    try:
        validate_escalation_proposal(proposal)
    except Exception as exc:  # noqa: BLE001 - SCLite raises its own validation error types
        raise ProposalError(f"not an SCLite escalation_proposal v0.1: {_one_line(exc)}") from None
    outcome, intent_ref = proposal["suggested_outcome"], proposal["intent_ref"]
    if outcome in INTENT_OUTCOMES:
        if not intent_ref:
            raise ProposalError(f"intent_ref is required for suggested_outcome {outcome}")
        _require_read_only(load_profile(Path(profile_root)), intent_ref)
    elif intent_ref is not None:
        raise ProposalError(f"intent_ref must be null for suggested_outcome {outcome}")
    return proposal


def _require_read_only(profile: Any, intent: str) -> None:
    from rexecop.errors import RExecOpError

    if not INTENT_ID.fullmatch(intent) or not (Path(profile.root) / "intents" / f"{intent}.yaml").is_file():
        raise ProposalError(f"intent_ref {intent!r:.80} is not an intent of profile {profile.name}")
    try:
        modes = profile.intent_metadata(intent).get("modes")
    except RExecOpError as exc:
        raise ProposalError(f"intent_ref {intent}: {_one_line(exc)}") from None
    if not isinstance(modes, list) or not modes or not set(map(str, modes)) <= READ_ONLY_MODES:
        raise ProposalError(
            f"intent_ref {intent} is not read-only (modes: {', '.join(map(str, modes or []))}); "
            "a proposal may only name a read-only intent"
        )


def _check_evidence_ref(ref: Any, path: str) -> None:
    if not isinstance(ref, str):
        raise ProposalError(f"{path} must be a string")
    if ref.startswith(("/", "~", "\\")) or re.match(r"[A-Za-z]:[\\/]", ref):
        raise ProposalError(
            f"{path} {ref!r:.80} is absolute; evidence refs are relative to the RExecOp root or sha256 digests"
        )
    if ".." in ref.split("/"):
        raise ProposalError(f"{path} {ref!r:.80} leaves the RExecOp root; evidence refs may not contain '..'")
    if not EVIDENCE_REF.fullmatch(ref):
        raise ProposalError(f"{path} {ref!r:.80} is not a relative path of [A-Za-z0-9._-] parts or a sha256 digest")


def _check_text(path: str, text: str, *, opaque_allowed: bool) -> None:
    for pattern, what in (
        (URL, "a URL"),
        (KEY_MATERIAL, "key material"),
        (CREDENTIAL_WORD, "secret-like text"),
        (SHELL_SYNTAX, "command syntax"),
        (COMMAND_WORD, "a command"),
    ):
        if pattern.search(text):
            raise ProposalError(f"{path} contains {what}; a proposal holds no URLs, secrets or commands")
    if not opaque_allowed and any(_opaque(run) for run in OPAQUE_RUN.findall(text)):
        raise ProposalError(f"{path} contains secret-like text (a long opaque string)")


def _opaque(run: str) -> bool:
    return any(c.isdigit() for c in run) and any(c.isalpha() for c in run)


def _keys(value: Any, path: str = "proposal") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield f"{path}.{key}", key
            yield from _keys(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _keys(item, f"{path}[{index}]")


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path or "proposal", value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]

