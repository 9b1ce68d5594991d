"""The shared facts envelope helpers and the envelope JSON Schema."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.tecrax.ops.plugins.module_utils.common import facts_envelope as fe
from unit.nested import values_under

SCHEMA_DIR = Path(__file__).resolve().parents[4] / "profile" / "schemas"
ENVELOPE_SCHEMA = "facts_envelope.v1.schema.json"


def make_facts(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "requested": ["alpha", "beta"],
        "observed": ["beta", "alpha"],
        "blockers": [],
        "assessment": "healthy",
        "non_claims": ["values are a point-in-time sample"],
        "payload": {"value": 1},
    }
    arguments.update(overrides)
    return fe.build_facts("tecrax.example", **arguments)


# --- text and numbers --------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Debian \t GNU/Linux\n12  ", "Debian GNU/Linux 12"),
        ("a\x00b\x1b[31mc\x7f", "ab[31mc"),
        ("evil\u202eoverride\u200b", "eviloverride"),
        ("lone \ud800 surrogate", "lone surrogate"),
        ("line one\r\nline two\u2028three", "line one line two three"),
        (b"caf\xc3\xa9 \xff", "caf\u00e9 \ufffd"),
        ("", fe.UNKNOWN),
        ("\x00\x01 \t\n", fe.UNKNOWN),
        (None, fe.UNKNOWN),
        (42, fe.UNKNOWN),
        (["a"], fe.UNKNOWN),
    ],
)
def test_bounded_text_cleans(value: Any, expected: str) -> None:
    assert fe.bounded_text(value) == expected


def test_bounded_text_limits_length_and_strips_the_cut() -> None:
    assert fe.bounded_text("x" * 1000, 10) == "x" * 10
    assert fe.bounded_text("abcd efgh", 5) == "abcd"
    assert fe.bounded_text(" " * 10_000_000 + "tail", 8) == fe.UNKNOWN
    assert fe.bounded_text("", 8, default="") == ""


def test_raw_text_bounds_before_decoding() -> None:
    assert fe.raw_text(b"a" * 100, max_bytes=10) == "a" * 10
    assert fe.raw_text("b" * 100, max_bytes=10) == "b" * 10
    assert fe.raw_text(bytearray(b"\xffok")) == "\ufffdok"
    assert len(fe.raw_text(b"x" * (10 * 1024 * 1024))) == fe.MAX_RAW_BYTES
    for value in (None, 3, 2.5, ["x"], {"x": 1}):
        assert fe.raw_text(value) == ""


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("17", 17),
        ("+5", 5),
        ("007", 7),
        ("-3", 0),
        ("9" * 5000, fe.MAX_SAFE_INT),
        ("0" * 5000 + "12", 12),
        (str(fe.MAX_SAFE_INT + 1), fe.MAX_SAFE_INT),
        ("1_000", None),
        ("\u0661\u0662", None),
        (" 1", None),
        ("1.0", None),
        ("", None),
        (None, None),
        (12, None),
    ],
)
def test_parse_int(token: Any, expected: int | None) -> None:
    assert fe.parse_int(token) == expected


def test_parse_int_signed_range() -> None:
    assert fe.parse_int("-25", -100, 100) == -25
    assert fe.parse_int("-" + "9" * 300, -fe.MAX_SAFE_INT) == -fe.MAX_SAFE_INT


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("0.10", 0.1),
        ("2", 2.0),
        ("1.239", 1.24),
        ("5000000.5", 1e6),
        ("9" * 400 + ".5", 1e6),
        ("-1.5", 0.0),
        ("1e3", None),
        ("inf", None),
        ("nan", None),
        (".5", None),
        ("1.", None),
        (None, None),
    ],
)
def test_parse_float(token: Any, expected: float | None) -> None:
    assert fe.parse_float(token) == expected


def test_clamps_refuse_bools_and_non_finite_numbers() -> None:
    assert fe.clamp_int(True) is None
    assert fe.clamp_int(-5) == 0
    assert fe.clamp_int(10 ** 30) == fe.MAX_SAFE_INT
    assert fe.clamp_int(1.5) is None
    assert fe.clamp_float(False) is None
    assert fe.clamp_float(math.nan) is None
    assert fe.clamp_float(math.inf) is None
    assert fe.clamp_float(3) == 3.0
    assert fe.clamp_float(2e9) == 1e6


# --- coverage and assessment -------------------------------------------------------------

@pytest.mark.parametrize(
    ("observed", "blockers", "state"),
    [
        (["a", "b"], [], "complete"),
        (["a", "b"], ["b_degraded_read"], "partial"),
        (["a"], ["b_unavailable"], "partial"),
        ([], ["a_unavailable", "b_unavailable"], "blocked"),
    ],
)
def test_coverage_state(observed: list[str], blockers: list[str], state: str) -> None:
    assert fe.coverage_state(["a", "b"], observed, blockers) == state


def test_collection_assessment() -> None:
    assert fe.collection_assessment("complete") == "healthy"
    assert fe.collection_assessment("partial") == "unknown"
    assert fe.collection_assessment("blocked") == "unavailable"


def test_judged_assessment() -> None:
    # Nothing observed outranks everything: no verdict, whatever the reasons say.
    assert fe.judged_assessment([], ["x_bad"], "unhealthy", True) == "unavailable"
    assert fe.judged_assessment(["a"], ["x_bad"], "degraded", False) == "degraded"
    assert fe.judged_assessment(["a"], ["x_bad"], "unhealthy", True) == "unhealthy"
    assert fe.judged_assessment(["a"], [], "unhealthy", True) == "healthy"
    assert fe.judged_assessment(["a"], [], "unhealthy", False) == "unknown"


# --- build_facts and the guard -----------------------------------------------------------

def test_build_facts_shape() -> None:
    facts = make_facts(observed=["beta"], blockers=["alpha_unavailable"], assessment="unknown",
                       reasons=["alpha_missing"])
    assert facts == {
        "contract": {"id": "tecrax.example", "version": "1.0"},
        "scope": {"requested": ["alpha", "beta"], "observed": ["beta"], "not_observed": ["alpha"]},
        "coverage": {"state": "partial", "blockers": ["alpha_unavailable"]},
        "assessment": {"state": "unknown", "reasons": ["alpha_missing"]},
        "non_claims": ["values are a point-in-time sample"],
        "value": 1,
    }


def test_build_facts_orders_observed_like_requested_and_omits_empty_reasons() -> None:
    facts = make_facts()
    assert facts["scope"]["observed"] == ["alpha", "beta"]
    assert facts["assessment"] == {"state": "healthy"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"observed": ["gamma"]}, "not requested"),
        ({"observed": ["alpha"]}, "name its blockers"),
        ({"requested": []}, "must not be empty"),
        ({"requested": "alpha"}, "not a string"),
        ({"requested": ["n%d" % i for i in range(33)], "observed": []}, "more than 32"),
        ({"requested": ["Alpha"], "observed": ["Alpha"]}, "snake_case"),
        ({"requested": ["a", "a"], "observed": ["a"]}, "unique"),
        ({"assessment": "fine"}, "assessment state"),
        ({"reasons": ["r%d" % i for i in range(17)]}, "more than 16"),
        ({"non_claims": ["x" * 161]}, "clean text"),
        ({"non_claims": ["two\nlines"]}, "clean text"),
        ({"non_claims": ["n%d" % i for i in range(17)]}, "more than 16"),
        ({"payload": {"scope": {}}}, "redefines envelope keys"),
        ({"payload": {"nested": {"Token": "x"}}}, "forbidden key"),
        ({"payload": {"items": [{"stdout": ""}]}}, "forbidden key"),
        ({"payload": {"raw_output": None}}, "forbidden key"),
        ({"payload": {"blob": "x" * (16 * 1024)}}, "exceed 16384"),
        ({"payload": {"values": {1, 2}}}, "not a plain JSON value"),
        ({"payload": {"values": (1, 2)}}, "not a plain JSON value"),
        ({"payload": {"ratio": math.nan}}, "non-finite"),
        ({"payload": {1: "x"}}, "keys must be strings"),
        ({"observed": [], "blockers": ["alpha_unavailable"], "assessment": "unknown"}, "blocked coverage"),
        ({"assessment": "unavailable"}, "complete coverage"),
    ],
)
def test_build_facts_rejects_contract_violations(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(fe.FactsContractError, match=message):
        make_facts(**overrides)


def test_blockers_alone_make_coverage_partial() -> None:
    facts = make_facts(blockers=["beta_truncated"], assessment="unavailable")
    assert facts["scope"]["not_observed"] == []
    assert facts["coverage"] == {"state": "partial", "blockers": ["beta_truncated"]}


def test_contract_id_is_checked() -> None:
    for bad in ("example", "tecrax.", "tecrax.Bad", "other.thing", 7):
        with pytest.raises(fe.FactsContractError, match="contract id"):
            fe.build_facts(bad, requested=["a"], observed=["a"], blockers=[], assessment="healthy",
                           non_claims=[], payload={})


def test_guard_rejects_deep_nesting_and_missing_envelope() -> None:
    facts = make_facts()
    deep: Any = "leaf"
    for _level in range(20):
        deep = {"level": deep}
    facts["deep"] = deep
    with pytest.raises(fe.FactsContractError, match="nest deeper"):
        fe.guard_facts(facts)
    with pytest.raises(fe.FactsContractError, match="lack envelope keys"):
        fe.guard_facts({"contract": {}})
    with pytest.raises(fe.FactsContractError, match="mapping"):
        fe.guard_facts([])


def test_guard_returns_canonical_json() -> None:
    facts = make_facts(payload={"zeta": "\u00e9", "alpha": [1, 2.5, None, True]})
    encoded = fe.guard_facts(facts)
    assert encoded == fe.canonical_json(facts)
    assert encoded == json.dumps(facts, sort_keys=True, separators=(",", ":"))
    assert encoded.isascii() and "\\u00e9" in encoded
    assert json.loads(encoded) == facts


def test_size_bound_counts_ascii_escapes() -> None:
    # 3000 astral characters are 12 KB of UTF-8 but 36 KB once escaped for ASCII JSON.
    with pytest.raises(fe.FactsContractError, match="exceed"):
        make_facts(payload={"text": "\U0001f600" * 3000})


# --- envelope schema ---------------------------------------------------------------------

def test_envelope_schema_accepts_built_facts(facts_schema_errors: Any) -> None:
    cases = [
        make_facts(),
        make_facts(observed=["alpha"], blockers=["beta_unparsed"], assessment="unknown"),
        make_facts(observed=[], blockers=["alpha_unavailable", "beta_unavailable"], assessment="unavailable"),
        make_facts(assessment="degraded", reasons=["ssh_protocol_v2_disabled"]),
    ]
    for facts in cases:
        assert facts_schema_errors(facts, ENVELOPE_SCHEMA) == []


@pytest.mark.parametrize(
    "breakage",
    [
        lambda f: f["scope"].update(not_observed=["alpha"]),
        lambda f: f["coverage"].update(blockers=["alpha_unavailable"]),
        lambda f: f["coverage"].update(state="blocked"),
        lambda f: f["coverage"].update(state="partial"),
        lambda f: f["assessment"].update(state="unavailable"),
        lambda f: f["assessment"].update(reasons=["Not An Identifier"]),
        lambda f: f["contract"].update(version="2.0"),
        lambda f: f["contract"].update(extra=True),
        lambda f: f.update(non_claims=["trailing blank "]),
        lambda f: f.update(non_claims=["line\nbreak"]),
        lambda f: f.update(non_claims=["x" * 161]),
        lambda f: f["scope"].update(requested=[]),
        lambda f: f.pop("coverage"),
    ],
)
def test_envelope_schema_rejects_inconsistent_envelopes(breakage: Any, facts_schema_errors: Any) -> None:
    facts = make_facts()
    breakage(facts)
    assert facts_schema_errors(facts, ENVELOPE_SCHEMA) != []


def test_contract_schemas_apply_the_one_envelope() -> None:
    """Every contract schema references the envelope schema instead of restating it, and is
    valid against the 2020-12 metaschema (which the backend does not check at run time)."""
    from jsonschema import Draft202012Validator

    envelope = json.loads((SCHEMA_DIR / ENVELOPE_SCHEMA).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(envelope)
    contracts = sorted(path for path in SCHEMA_DIR.glob("*.schema.json") if path.name != ENVELOPE_SCHEMA)
    assert contracts, "no contract schemas found"
    for path in contracts:
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        assert not set(schema.get("$defs", {})) & set(envelope["$defs"]), path.name + " restates envelope $defs"
        assert schema.get("$ref") == ENVELOPE_SCHEMA + "#/$defs/envelope", path.name + " must apply the envelope"
        assert schema.get("additionalProperties") is False, path.name + " must be closed"
        assert set(fe.ENVELOPE_KEYS) <= set(schema["required"]), path.name
        contract_id = schema["properties"]["contract"]["properties"]["id"]["const"]
        assert path.name == contract_id.split(".", 1)[1] + ".v1.schema.json"


def test_every_reference_in_the_schemas_resolves() -> None:
    from tecrax.backend.facts_check import schema_registry

    registry = schema_registry(str(SCHEMA_DIR))
    for path in sorted(SCHEMA_DIR.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resolver = registry.resolver(base_uri=schema["$id"])
        for reference in _references(schema):
            assert resolver.lookup(reference).contents is not None, f"{path.name}: {reference}"


def _references(node: Any) -> Iterator[str]:
    return values_under(node, lambda key: key == "$ref")
