"""module_utils is a common floor with family subpackages above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

MODULE_UTILS = Path(__file__).resolve().parents[2] / "plugins" / "module_utils"
PACKAGE = "ansible_collections.tecrax.ops.plugins.module_utils."
FAMILIES = sorted(path.name for path in MODULE_UTILS.iterdir() if path.is_dir() and path.name != "__pycache__")


def _imported_families(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(), filename=str(source))
    return {node.module[len(PACKAGE):].split(".")[0] for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE)}


def test_module_utils_holds_only_family_subpackages() -> None:
    assert FAMILIES == ["common", "diagnosis", "events", "host", "network", "ntp", "services", "zabbix"]
    assert not list(MODULE_UTILS.glob("*.py"))


@pytest.mark.parametrize("family", FAMILIES)
def test_a_family_has_an_empty_init_and_imports_only_itself_and_common(family: str) -> None:
    assert (MODULE_UTILS / family / "__init__.py").read_bytes() == b""
    for source in sorted((MODULE_UTILS / family).glob("*.py")):
        assert _imported_families(source) <= {family, "common"}, source.name
