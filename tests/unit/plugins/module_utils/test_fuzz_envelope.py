"""Fuzz: the bounded text and number readers every normalizer uses (facts_envelope) and the
network wrapper's option checks, on mutated tokens taken from the recordings."""

from __future__ import annotations

import math
import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.common import facts_envelope as fe
from ansible_collections.tecrax.ops.plugins.module_utils.network import network_wrapper
from unit.conftest import DATA_DIR
from unit.mutations import FUZZ, mutated, mutated_text

_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
RECORDED_TEXT = "\n".join(path.read_text(encoding="utf-8") for path in sorted((DATA_DIR / "ntp" / "ntpsec-synchronized").iterdir()))
NUMBER_TOKENS = sorted(set(_NUMBER.findall(RECORDED_TEXT)))
LINES = sorted({line for line in RECORDED_TEXT.splitlines() if line.strip()})
BOUNDS = st.sampled_from([(0, fe.MAX_SAFE_INT), (-fe.MAX_SAFE_INT, fe.MAX_SAFE_INT), (0, 16), (-1, 3)])


@FUZZ
@given(mutated_text(NUMBER_TOKENS, limit=4096), BOUNDS)
def test_integer_reader_of_mutated_numbers(token: str, bounds: tuple[int, int]) -> None:
    minimum, maximum = bounds
    value = fe.parse_int(token, minimum, maximum)
    if re.fullmatch(r"[+-]?[0-9]+", token, re.ASCII):
        assert value == max(minimum, min(maximum, int(token)))
    else:
        assert value is None


@FUZZ
@given(mutated_text(NUMBER_TOKENS, limit=4096), st.sampled_from([(0.0, 1e6), (-1e10, 1e10), (0.0, 1.0)]),
       st.integers(0, 12))
def test_decimal_reader_of_mutated_numbers(token: str, bounds: tuple[float, float], digits: int) -> None:
    minimum, maximum = bounds
    value = fe.parse_float(token, minimum, maximum, digits)
    assert value is None or (math.isfinite(value) and round(minimum, digits) <= value <= round(maximum, digits))
    assert (value is None) == (not re.fullmatch(r"[+-]?[0-9]+(?:\.[0-9]+)?", token, re.ASCII))


@FUZZ
@given(st.sampled_from(LINES).flatmap(mutated), st.sampled_from([1, 32, 128, 160]))
def test_bounded_text_of_mutated_lines(value: str | bytes, limit: int) -> None:
    text = fe.bounded_text(value, limit)
    assert 1 <= len(text) <= max(limit, len(fe.UNKNOWN))
    assert text == text.strip() and "  " not in text
    assert not any(unicodedata.category(char)[0] == "C" for char in text)
    assert len(fe.raw_text(value, limit)) <= limit


WRAPPER_PATHS = ["/usr/local/libexec/tecrax/" + network_wrapper.WRAPPER_NAME, "/opt/" + network_wrapper.WRAPPER_NAME]


@FUZZ
@given(mutated(WRAPPER_PATHS), st.one_of(st.none(), mutated_text(["core-switch-01", "sg2452.lab"], limit=128)))
def test_wrapper_options_of_mutated_values(paths: list[object], device_id: str | None) -> None:
    for path in paths:
        try:
            assert network_wrapper.check_wrapper_path(path) == path
        except network_wrapper.WrapperConfigError as error:
            assert str(error).startswith("wrapper_path must")
    try:
        assert network_wrapper.check_device_id(device_id) == device_id
    except network_wrapper.WrapperConfigError as error:
        assert str(error).startswith("device_id must")
