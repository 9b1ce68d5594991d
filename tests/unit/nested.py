"""Searching nested data (parsed JSON or YAML) in tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def values_under(node: Any, key_matches: Callable[[str], bool]) -> Iterator[Any]:
    """Every string value, at any depth of mappings and lists, whose key matches; any other
    value of a matching key is searched further like the rest."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key_matches(str(key)) and isinstance(value, str):
                yield value
            else:
                yield from values_under(value, key_matches)
    elif isinstance(node, list):
        for item in node:
            yield from values_under(item, key_matches)
