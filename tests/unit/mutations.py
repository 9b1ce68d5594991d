"""Mutated recorded outputs for the fuzz suite (tests/unit/plugins/module_utils/test_fuzz_*.py).

A seed is a raw input built from the recordings under tests/unit/data: bytes, text, or a
mapping or list holding them, exactly as a normalizer takes it. ``mutated(seed)`` draws a copy
in which one to three leaves were changed: text and bytes by a few ``Edit`` steps (truncation,
random bytes inserted or replacing a span, a number made huge or negative, NUL, CR, CRLF line
ends, a long line, deep JSON nesting, a line repeated), handed on as bytes or as text of some
decoding; integers and booleans swapped for extreme or wrong-typed values.

``FUZZ`` is the settings profile of every fuzz test: a fixed number of examples, derandomized
so that CI runs the same examples every time, no deadline (no test bounds wall time).
``facts_fuzz`` makes the test every normalizer gets: facts of its mutated inputs are schema-valid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

settings.register_profile("tecrax_fuzz", max_examples=60, deadline=None, derandomize=True, database=None)
FUZZ = settings.get_profile("tecrax_fuzz")

# The longest line a mutation adds; every normalizer reads at most 64 KiB of an input anyway.
MAX_LINE_BYTES = 64 * 1024
MAX_NESTING = 5000
_DIGITS = re.compile(rb"[0-9]+")


@dataclass(frozen=True)
class Edit:
    """One change of a byte string; ``where`` is taken modulo the string's length + 1.

    ``payload * count`` is what ``insert`` and ``replace`` put in (a number for ``number``, the
    opening bracket for ``nest``); ``count`` is also how often ``repeat_line`` repeats a line
    and how deep ``nest`` goes. ``nest`` opens after the first colon from ``where`` on (at the
    start when there is none).
    """

    kind: str
    where: int = 0
    payload: bytes = b""
    count: int = 1

    def apply(self, data: bytes, limit: int) -> bytes:
        at = self.where % (len(data) + 1)
        added = self.payload * self.count
        if self.kind == "truncate":
            return data[:at]
        if self.kind == "insert":
            return data[:at] + added + data[at:]
        if self.kind == "replace":
            return data[:at] + added + data[at + len(added):]
        if self.kind == "number":
            return _replace_number(data, at, self.payload)
        if self.kind == "crlf":
            return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if self.kind == "nest":
            # Opened where a JSON value starts (after a colon), so the decoder descends.
            at = data.find(b":", at) + 1
            closing = {b"[": b"]", b"{": b"}"}.get(self.payload[:1], b"")
            return data[:at] + self.payload * self.count + data[at:] + closing * self.count
        if self.kind == "repeat_line":
            lines = data.split(b"\n")
            index = self.where % len(lines)
            lines[index:index + 1] = [lines[index]] * self.count
            return b"\n".join(lines)[:limit]
        raise ValueError("unknown edit kind %r" % self.kind)


def _replace_number(data: bytes, at: int, number: bytes) -> bytes:
    """``data`` with the first run of digits at or after ``at`` (else the first one) replaced."""
    match = _DIGITS.search(data, at) or _DIGITS.search(data)
    if match is None:
        return data[:at] + number + data[at:]
    return data[:match.start()] + number + data[match.end():]


SPECIAL_BYTES = st.sampled_from([
    b"\x00", b"\r", b"\r\n", b"\n", b"\n\n", b"\t", b" ", b"\x1b[2K", b"\x1b[", b"\x08", b"\x7f",
    b"\xff\xfe", b"\xed\xa0\x80", b"\xc3", "é".encode(), "\u202e".encode(), "\U0001f600".encode(),
    b"=", b":", b",", b"-", b"#", b"/", b"(", b")", b"[", b"]", b"{", b"}", b'"', b"\\", b"%",
])
NUMBERS = st.one_of(
    st.sampled_from([b"-1", b"-0", b"0", b"+1", b"1.5", b"-1.5", b"1e400", b"NaN", b"inf", b"0x10",
                     b"9007199254740992", b"18446744073709551616", b"-9223372036854775809"]),
    st.integers(-(2 ** 80), 2 ** 80).map(lambda number: str(number).encode()),
    st.tuples(st.sampled_from([b"", b"-"]), st.integers(17, 4000)).map(lambda sign: sign[0] + b"9" * sign[1]),
)
PAYLOADS = st.one_of(SPECIAL_BYTES, st.binary(min_size=1, max_size=24),
                     st.text(max_size=12).map(lambda text: text.encode("utf-8", "surrogatepass")))
POSITIONS = st.integers(0, 2 ** 16)


@lru_cache(maxsize=None)
def edits(limit: int, json: bool = False) -> st.SearchStrategy[Edit]:
    """One edit; long lines and repeats stay within ``limit`` bytes. ``json``: deep nesting is
    three times as likely (for inputs a JSON decoder reads)."""
    builders = {
        "truncate": st.builds(Edit, st.just("truncate"), POSITIONS),
        "insert": st.builds(Edit, st.just("insert"), POSITIONS, PAYLOADS),
        "replace": st.builds(Edit, st.just("replace"), POSITIONS, PAYLOADS),
        "number": st.builds(Edit, st.just("number"), POSITIONS, NUMBERS),
        "long_line": st.builds(Edit, st.just("insert"), POSITIONS,
                               st.sampled_from([b"a", b"9", b"=", b"{", b" ", b"x:"]),
                               st.integers(max(limit // 4, 1), max(limit, 1))),
        "crlf": st.just(Edit("crlf")),
        "repeat_line": st.builds(Edit, st.just("repeat_line"), POSITIONS, st.just(b""), st.integers(2, 64)),
        "nest": st.builds(Edit, st.just("nest"), POSITIONS, st.sampled_from([b"[", b"[[", b'{"a":', b'[{"result":']),
                          st.sampled_from([2, 64, 1100, 2500, MAX_NESTING])),
    }
    # Small edits twice as often: they keep the seed recognisable, so deeper code runs.
    kinds = ["truncate", "insert", "replace", "number"] * 2 + ["long_line", "crlf", "repeat_line"]
    kinds += ["nest"] * (3 if json else 1)
    return st.sampled_from(kinds).flatmap(builders.__getitem__)


# How a mutated byte string reaches the normalizer: as bytes, or as text the way Ansible's
# run_command (surrogateescape), a lenient reader (replace) or a byte-transparent one
# (latin-1) would have decoded it.
FORMS = ("bytes", "surrogateescape", "replace", "latin-1")


def _deliver(data: bytes, form: str, was_text: bool) -> bytes | str:
    if form == "bytes" and not was_text:
        return data
    if form == "latin-1":
        return data.decode("latin-1")
    return data.decode("utf-8", "surrogateescape" if form == "surrogateescape" else "replace")


ODD_VALUES = st.sampled_from([None, True, False, 0, -1, 1, 2 ** 31, 2 ** 53, 2 ** 64, -(2 ** 63), 1.5, "1", ""])


def _leaf_paths(value: Any, path: tuple = ()) -> list[tuple]:
    """Paths of the text, bytes and number leaves of a nested mapping/list."""
    if isinstance(value, dict):
        return [found for key in value for found in _leaf_paths(value[key], path + (key,))]
    if isinstance(value, (list, tuple)):
        return [found for index, item in enumerate(value) for found in _leaf_paths(item, path + (index,))]
    if isinstance(value, (str, bytes, bytearray, int, float)) or value is None:
        return [path]
    return []


def _replaced(value: Any, path: tuple, change: Callable[[Any], Any]) -> Any:
    if not path:
        return change(value)
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {key: _replaced(item, rest, change) if key == head else item for key, item in value.items()}
    items = [_replaced(item, rest, change) if index == head else item for index, item in enumerate(value)]
    return tuple(items) if isinstance(value, tuple) else items


def mutated(seed: Any, limit: int = MAX_LINE_BYTES, paths: Sequence[tuple] | None = None,
            keep_types: bool = False, json: bool = False) -> st.SearchStrategy[Any]:
    """``seed`` with one to three of its leaves (of ``paths``, default all) mutated.

    Text and bytes leaves get one to four edits and are cut to ``limit`` bytes; bytes may come
    back as text unless ``keep_types``. Other leaves are replaced by an odd value. The result
    keeps the seed's shape. ``json`` as for :func:`edits`.
    """
    candidates = list(paths) if paths is not None else _leaf_paths(seed)
    change = st.tuples(st.sampled_from(candidates), st.lists(edits(limit, json), min_size=1, max_size=4),
                       st.sampled_from(FORMS), ODD_VALUES)
    return st.lists(change, min_size=1, max_size=3).map(lambda changes: _apply(seed, changes, limit, keep_types))


def _apply(seed: Any, changes: list[tuple], limit: int, keep_types: bool) -> Any:
    result = seed
    for path, steps, form, odd in changes:
        result = _replaced(result, path, lambda leaf, steps=steps, form=form, odd=odd: _mutate_leaf(
            leaf, steps, form, odd, limit, keep_types))
    return result


def _mutate_leaf(leaf: Any, steps: list[Edit], form: str, odd: Any, limit: int, keep_types: bool) -> Any:
    if isinstance(leaf, (bytes, bytearray, str)):
        was_text = isinstance(leaf, str)
        data = _edited(leaf.encode("utf-8", "surrogateescape") if was_text else bytes(leaf), steps, limit)
        if keep_types and not was_text:
            return data
        return _deliver(data, form, was_text)
    return odd


def mutated_bytes(seeds: Sequence[bytes], limit: int = MAX_LINE_BYTES, json: bool = False) -> st.SearchStrategy[bytes]:
    """One of ``seeds`` with one to four edits, as bytes (for parsers that take bytes only)."""
    return st.tuples(st.sampled_from(list(seeds)), st.lists(edits(limit, json), min_size=1, max_size=4)).map(
        lambda drawn: _edited(drawn[0], drawn[1], limit))


def _edited(data: bytes, steps: list[Edit], limit: int) -> bytes:
    for step in steps:
        data = step.apply(data, limit)[:limit]
    return data


def mutated_text(seeds: Sequence[str], limit: int = MAX_LINE_BYTES) -> st.SearchStrategy[str]:
    """One of ``seeds`` with one to four edits, as text (for parsers that take text only)."""
    return st.tuples(mutated_bytes([seed.encode("utf-8") for seed in seeds], limit),
                     st.sampled_from(FORMS[1:])).map(lambda drawn: str(_deliver(drawn[0], drawn[1], True)))


FactsCase = tuple[Callable[[Any], Any], "st.SearchStrategy[Any]", str]


def facts_fuzz(cases: dict[str, FactsCase]) -> Callable[..., None]:
    """A test, one case per ``name: (normalizer, raw inputs, schema file)``: the normalizer
    raises nothing and its facts of every drawn input are valid against the schema."""

    @pytest.mark.parametrize("case", sorted(cases))
    @FUZZ
    @given(data=st.data())
    def test(facts_schema_errors: Callable[[Any, str], list[str]], case: str, data: st.DataObject) -> None:
        normalize, raw_inputs, schema = cases[case]
        assert facts_schema_errors(normalize(data.draw(raw_inputs)), schema) == []

    return test
