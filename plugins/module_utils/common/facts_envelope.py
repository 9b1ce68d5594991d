# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The Tecrax facts envelope: bounded helpers shared by every normalizer.

Every module returns one facts object::

    contract:   {id: tecrax.<name>, version: "1.0"}
    scope:      {requested: [...], observed: [...], not_observed: [...]}
    coverage:   {state: complete|partial|blocked, blockers: [...]}
    assessment: {state: healthy|degraded|unhealthy|unknown|unavailable, reasons?: [...]}
    non_claims: [...]
    <contract-specific payload>

Normalizers turn raw text into payload values with ``raw_text``, ``bounded_text``,
``parse_int``, ``parse_float`` and the clamps, then call ``build_facts``, which checks the
envelope and ends with ``guard_facts``. A ``FactsContractError`` means a normalizer bug, never
bad input: normalizers express bad input as coverage, not as errors.

Pure standard library, no AnsibleModule: importable on the target and on the controller.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any, Callable, Iterable, Mapping, Sequence

UNKNOWN = "unknown"
CONTRACT_VERSION = "1.0"

MAX_FACTS_BYTES = 16 * 1024
MAX_SCOPE_ITEMS = 32
MAX_NON_CLAIMS = 16
MAX_REASONS = 16
MAX_NON_CLAIM_CHARS = 160
MAX_RAW_BYTES = 64 * 1024
DEFAULT_TEXT_LIMIT = 128
# The largest integer every JSON consumer reads exactly (IEEE-754 double).
MAX_SAFE_INT = 2 ** 53 - 1
MAX_NESTING = 16

COVERAGE_STATES = ("complete", "partial", "blocked")
ASSESSMENT_STATES = ("healthy", "degraded", "unhealthy", "unknown", "unavailable")
ENVELOPE_KEYS = ("contract", "scope", "coverage", "assessment", "non_claims")
FORBIDDEN_KEYS = frozenset(("stdout", "stderr", "raw_output", "secret", "token"))

_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")
_CONTRACT_ID = re.compile(r"tecrax\.[a-z][a-z0-9_]{0,63}\Z")
_DECIMAL_INT = re.compile(r"[+-]?[0-9]+\Z")
_DECIMAL_FLOAT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?\Z")
# A decimal with more digits than this is beyond MAX_SAFE_INT (16 digits); it is clamped
# without converting it, so a hostile 10 MB number costs nothing.
_MAX_DIGITS = 16


class FactsContractError(ValueError):
    """A facts object breaks the envelope contract (a normalizer bug, not bad input)."""


def raw_text(value: object, max_bytes: int = MAX_RAW_BYTES) -> str:
    """Return a bounded prefix of a raw observation as text; anything else is ``""``.

    Bytes are cut before decoding (invalid UTF-8 becomes U+FFFD); text is cut to
    ``max_bytes`` characters.
    """
    if isinstance(value, (bytes, bytearray)):
        return bytes(value[:max_bytes]).decode("utf-8", "replace")
    if isinstance(value, str):
        return value[:max_bytes]
    return ""


def bounded_text(value: object, limit: int = DEFAULT_TEXT_LIMIT, default: str = UNKNOWN) -> str:
    """Collapse whitespace, drop control/format/unassigned characters, cut to ``limit``.

    Returns ``default`` when nothing printable is left or ``value`` is not text.
    """
    # Only a bounded prefix is looked at; the slack lets runs of whitespace collapse.
    window = limit * 4 + 1024
    if isinstance(value, (bytes, bytearray)):
        value = raw_text(value, window)
    if not isinstance(value, str):
        return default
    text = " ".join(value[:window].split())
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = " ".join(text.split())[:limit].rstrip()
    return text or default


def clamp_int(value: object, minimum: int = 0, maximum: int = MAX_SAFE_INT) -> int | None:
    """Clamp an integer into ``[minimum, maximum]``; non-integers (and bools) give ``None``."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return max(minimum, min(maximum, value))


def clamp_float(value: object, minimum: float = 0.0, maximum: float = 1e6,
                digits: int = 2) -> float | None:
    """Clamp and round a finite number; NaN, infinities and non-numbers give ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    return round(max(minimum, min(maximum, number)), digits)


def parse_int(token: object, minimum: int = 0, maximum: int = MAX_SAFE_INT) -> int | None:
    """Parse a plain ASCII decimal integer (optional sign) and clamp it; else ``None``."""
    if not isinstance(token, str) or not _DECIMAL_INT.match(token):
        return None
    negative = token.startswith("-")
    digits = token.lstrip("+-").lstrip("0") or "0"
    if len(digits) > _MAX_DIGITS:
        return minimum if negative else maximum
    return clamp_int(-int(digits) if negative else int(digits), minimum, maximum)


def parse_float(token: object, minimum: float = 0.0, maximum: float = 1e6,
                digits: int = 2) -> float | None:
    """Parse a plain ASCII decimal like ``0.25`` (no exponent, no inf/nan) and clamp it."""
    if not isinstance(token, str) or not _DECIMAL_FLOAT.match(token):
        return None
    if len(token.lstrip("+-").split(".")[0].lstrip("0")) > _MAX_DIGITS:
        return clamp_float(minimum if token.startswith("-") else maximum, minimum, maximum, digits)
    return clamp_float(float(token), minimum, maximum, digits)


def coverage_state(requested: Sequence[str], observed: Iterable[str],
                   blockers: Sequence[str] = ()) -> str:
    """``blocked`` if nothing was observed, ``complete`` if all was and nothing blocked."""
    seen = set(observed)
    if not any(name in seen for name in requested):
        return "blocked"
    if all(name in seen for name in requested) and not blockers:
        return "complete"
    return "partial"


def collection_assessment(coverage: str) -> str:
    """Assessment of a pure collection: it judges the observation, not the host."""
    return {"complete": "healthy", "partial": "unknown"}.get(coverage, "unavailable")


def judged_assessment(observed: Sequence[str], reasons: Sequence[str], finding: str, decided: bool) -> str:
    """Assessment of a check that judges the host: ``unavailable`` when nothing was observed,
    ``finding`` (``degraded`` or ``unhealthy``) when there are reasons, else ``healthy`` when
    all that decides was observed (``decided``) and ``unknown`` when it was not."""
    if not observed:
        return "unavailable"
    if reasons:
        return finding
    return "healthy" if decided else "unknown"


def build_facts(contract_id: str, *, requested: Sequence[str], observed: Iterable[str],
                blockers: Sequence[str], assessment: str, non_claims: Sequence[str],
                payload: Mapping[str, Any], reasons: Sequence[str] = ()) -> dict[str, Any]:
    """Assemble and check one facts object; raises ``FactsContractError`` on misuse.

    ``not_observed`` and the coverage state are derived from ``requested`` and ``observed``
    so that they can never disagree; an incomplete scope must name its blockers.
    """
    if not isinstance(contract_id, str) or not _CONTRACT_ID.match(contract_id):
        raise FactsContractError("contract id must look like tecrax.<name>")
    requested = _identifiers("scope.requested", requested, MAX_SCOPE_ITEMS)
    if not requested:
        raise FactsContractError("scope.requested must not be empty")
    seen = set(observed)
    if not seen.issubset(requested):
        raise FactsContractError("scope.observed names observations that were not requested")
    observed_list = [name for name in requested if name in seen]
    not_observed = [name for name in requested if name not in seen]
    blockers = _identifiers("coverage.blockers", blockers, MAX_SCOPE_ITEMS)
    if not_observed and not blockers:
        raise FactsContractError("an incomplete scope must name its blockers")
    state = coverage_state(requested, observed_list, blockers)
    if assessment not in ASSESSMENT_STATES:
        raise FactsContractError("unknown assessment state")
    reasons = _identifiers("assessment.reasons", reasons, MAX_REASONS)
    claims = _non_claims(non_claims)
    clash = set(ENVELOPE_KEYS).intersection(payload)
    if clash:
        raise FactsContractError("payload redefines envelope keys: " + ", ".join(sorted(clash)))

    assessed: dict[str, Any] = {"state": assessment}
    if reasons:
        assessed["reasons"] = reasons
    facts: dict[str, Any] = {
        "contract": {"id": contract_id, "version": CONTRACT_VERSION},
        "scope": {"requested": requested, "observed": observed_list, "not_observed": not_observed},
        "coverage": {"state": state, "blockers": blockers},
        "assessment": assessed,
        "non_claims": claims,
    }
    facts.update(payload)
    guard_facts(facts)
    return facts


def exit_with_facts(module: Any, name: str, produce: Callable[[], Mapping[str, Any]]) -> None:
    """End the module ``name`` with the facts ``produce()`` returns, never changed; facts that
    break their contract fail it instead."""
    try:
        facts = produce()
    except FactsContractError as exc:
        module.fail_json(msg="%s produced facts that break their contract: %s" % (name, exc))
    module.exit_json(changed=False, facts=facts)


def canonical_json(facts: Any) -> str:
    """Sorted keys, compact separators, ASCII escapes: the form whose size is bounded.

    ASCII escaping is the larger of the two usual encodings, so a facts object that fits
    here fits however a consumer serialises it.
    """
    return json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def guard_facts(facts: Any) -> str:
    """Final check of a facts object; returns its canonical JSON.

    Raises ``FactsContractError`` when the envelope is missing or inconsistent, a value is
    not plain JSON, a key is forbidden, or the canonical JSON exceeds ``MAX_FACTS_BYTES``.
    """
    if not isinstance(facts, dict):
        raise FactsContractError("facts must be a mapping")
    missing = [key for key in ENVELOPE_KEYS if key not in facts]
    if missing:
        raise FactsContractError("facts lack envelope keys: " + ", ".join(missing))
    _check_states(facts)
    _check_tree(facts, "facts", 0)
    try:
        encoded = canonical_json(facts)
    except (TypeError, ValueError) as exc:
        raise FactsContractError("facts are not plain JSON") from exc
    if len(encoded) > MAX_FACTS_BYTES:
        raise FactsContractError("canonical facts exceed %d bytes (%d)" % (MAX_FACTS_BYTES, len(encoded)))
    return encoded


def _identifiers(where: str, names: Sequence[str], limit: int) -> list[str]:
    if isinstance(names, str):
        raise FactsContractError(where + " must be a list, not a string")
    result = list(names)
    if len(result) > limit:
        raise FactsContractError("%s holds more than %d items" % (where, limit))
    for name in result:
        if not isinstance(name, str) or not _IDENTIFIER.match(name):
            raise FactsContractError(where + " items must be snake_case identifiers")
    if len(set(result)) != len(result):
        raise FactsContractError(where + " items must be unique")
    return result


def _non_claims(claims: Sequence[str]) -> list[str]:
    if isinstance(claims, str):
        raise FactsContractError("non_claims must be a list, not a string")
    result = list(claims)
    if len(result) > MAX_NON_CLAIMS:
        raise FactsContractError("non_claims holds more than %d items" % MAX_NON_CLAIMS)
    for claim in result:
        if not isinstance(claim, str) or bounded_text(claim, MAX_NON_CLAIM_CHARS, "") != claim:
            raise FactsContractError("non_claims items must be clean text of at most %d characters"
                                     % MAX_NON_CLAIM_CHARS)
    if len(set(result)) != len(result):
        raise FactsContractError("non_claims items must be unique")
    return result


def _check_states(facts: Mapping[str, Any]) -> None:
    coverage = facts["coverage"]
    assessment = facts["assessment"]
    if not isinstance(coverage, dict) or coverage.get("state") not in COVERAGE_STATES:
        raise FactsContractError("coverage.state must be one of " + ", ".join(COVERAGE_STATES))
    if not isinstance(assessment, dict) or assessment.get("state") not in ASSESSMENT_STATES:
        raise FactsContractError("assessment.state must be one of " + ", ".join(ASSESSMENT_STATES))
    # "unavailable" means "could not observe": it can neither follow a complete observation
    # nor be replaced by a verdict when nothing was observed.
    if coverage["state"] == "blocked" and assessment["state"] != "unavailable":
        raise FactsContractError("blocked coverage must be assessed unavailable")
    if coverage["state"] == "complete" and assessment["state"] == "unavailable":
        raise FactsContractError("complete coverage cannot be assessed unavailable")


def _check_tree(value: Any, where: str, depth: int) -> None:
    if depth > MAX_NESTING:
        raise FactsContractError("facts nest deeper than %d levels" % MAX_NESTING)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise FactsContractError("facts keys must be strings (at %s)" % where)
            if key.casefold() in FORBIDDEN_KEYS:
                raise FactsContractError("forbidden key %r at %s" % (key, where))
            _check_tree(item, where + "." + key, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_tree(item, where + "[]", depth + 1)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise FactsContractError("non-finite number at " + where)
    elif value is not None and not isinstance(value, (str, int)):
        raise FactsContractError("%s is not a plain JSON value (at %s)" % (type(value).__name__, where))
