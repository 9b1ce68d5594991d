"""SCLite observation envelopes of monitoring-host diagnoses: what RExecOp's reaction pack
evaluates.

``rexecop reaction-plan --operation OP`` reads the envelope from the completed operation's
``shared_state.reaction_observation``; the internal action ``tecrax_reaction_observation``
(a step of the diagnose_monitoring_host workflow, after its facts are in shared state) puts
it there. ``tecrax reaction-observation`` builds the same envelope from a saved diagnosis for
``rexecop reaction-plan --observation FILE``.

RExecOp accepts an envelope only when its ``profile_ref.digest`` is the digest of the
profile's reaction snapshot (profile contract, reaction pack and the intents the pack names),
so the digest is computed by RExecOp's own pack compiler from the profile that is in use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tecrax.diagnosis import FACTS_KEY, INTENT, DiagnosisError, check_diagnosis

OBSERVATION_KEY = "reaction_observation"


def profile_ref(profile_root: str | Path) -> dict[str, str]:
    """``{id, version, digest}`` of the profile's reaction snapshot, as RExecOp computes it."""
    from rexecop.profile.loader import load_profile
    from rexecop.reaction import compile_reaction_pack

    profile = load_profile(Path(profile_root))
    return reference_of(profile, compile_reaction_pack(profile))


def reference_of(profile: Any, reaction_pack: Any) -> dict[str, str]:
    """``profile_ref`` of a profile already loaded, with its compiled reaction pack."""
    return {"id": profile.name, "version": profile.version, "digest": reaction_pack.profile_digest}


def facts_digest(facts: Mapping[str, Any]) -> str:
    from tecrax.backend.facts_check import canonical_json

    return hashlib.sha256(canonical_json(facts)).hexdigest()


def build_observation(
    facts: Mapping[str, Any],
    *,
    operation_id: str,
    target_id: str,
    profile: Mapping[str, str],
    observed_at: datetime | None = None,
) -> dict[str, Any]:
    """The envelope of checked diagnosis ``facts`` for the profile ``profile`` (its
    ``profile_ref``); its id is derived from the operation, the target and the facts, so one
    diagnosis always gives one observation id."""
    from sclite import build_observation_envelope

    basis = f"{operation_id}\n{target_id}\n{facts_digest(facts)}".encode()
    return build_observation_envelope(
        observation_id="observation-" + hashlib.sha256(basis).hexdigest()[:24],
        observed_at=(observed_at or datetime.now(UTC)).replace(microsecond=0).isoformat(),
        profile_ref=dict(profile),
        operation_id=operation_id,
        intent_id=INTENT,
        target_id=target_id,
        facts=facts,
    )


class ObservationRefused(RuntimeError):
    """The workflow step cannot build an observation; failing the step says why."""


def record_reaction_observation(context: Any) -> dict[str, Any]:
    """Internal action ``tecrax_reaction_observation``: the envelope of the operation's
    diagnosis facts into ``shared_state.reaction_observation``."""
    from tecrax import profile_root as installed_profile_root

    shared = context.shared_state
    execution = shared.get("execution_context")
    root = execution.get("profile_root") if isinstance(execution, Mapping) else None
    root = root or installed_profile_root()
    if FACTS_KEY not in shared:
        raise ObservationRefused(f"no {FACTS_KEY} facts in shared state: the diagnosis step did not record any")
    try:
        facts = check_diagnosis(shared[FACTS_KEY], root)
    except DiagnosisError as exc:
        raise ObservationRefused(f"{FACTS_KEY} cannot be observed: {exc}") from None
    observation = build_observation(facts, operation_id=context.operation_id, target_id=context.target,
                                    profile=profile_ref(root))
    shared[OBSERVATION_KEY] = observation
    return {
        "status": "observation_recorded",
        "observation_id": observation["observation_id"],
        "profile_digest": observation["profile_ref"]["digest"],
        "facts_digest": "sha256:" + facts_digest(facts),
    }
