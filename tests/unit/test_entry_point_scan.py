"""RExecOp's plugin lookups during a tecrax command: one scan, the same answers."""

from __future__ import annotations

import importlib.metadata
from typing import Any

import pytest
from rexecop.connectors import fixture_loader
from rexecop.execution import internal_registry
from rexecop.profile import resolver

from tecrax.entry_point_scan import LOOKUP_MODULES, EntryPointScan


def lookups() -> tuple[list[str], list[str], list[str], Any]:
    return (resolver.list_registered_profiles(), fixture_loader.list_registered_connector_backends(),
            internal_registry.list_registered_internal_actions(), resolver.resolve_profile_path("tecrax"))


def test_rexecop_finds_the_same_plugins_from_one_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = lookups()
    assert "tecrax" in expected[0] and "tecrax_ansible" in expected[1]
    scans = []
    scan_all = importlib.metadata.entry_points

    def counted(**params: Any) -> Any:
        scans.append(params)
        return scan_all(**params)

    monkeypatch.setattr(importlib.metadata, "entry_points", counted)
    scan = EntryPointScan()
    with scan.scanned_once():
        assert lookups() == expected
        assert lookups() == expected
    assert scans == [{}]


def test_the_modules_own_lookup_is_back_after_the_block() -> None:
    modules = [importlib.import_module(name) for name in LOOKUP_MODULES]
    originals = [module.entry_points for module in modules]
    scan = EntryPointScan()
    with pytest.raises(KeyboardInterrupt), scan.scanned_once():
        assert all(module.entry_points == scan.entry_points for module in modules)
        raise KeyboardInterrupt
    assert [module.entry_points for module in modules] == originals
