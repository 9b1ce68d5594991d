"""Each module's documentation is its sidecar file, whose facts RETURN is what its schema generates,
and ansible-doc shows all of it."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import generate_module_docs as generator
import pytest

from unit.conftest import REPO_ROOT

MODULES = sorted(path.stem for path in (REPO_ROOT / "plugins" / "modules").glob("*.py"))
SCHEMA = Path("profile/schemas/portainer_reachability.v1.schema.json")
SIDECAR = Path("plugins/modules/portainer_health.yml")


def test_generated_documentation_is_current() -> None:
    assert generator.stale() == [], "run: python scripts/generate_module_docs.py"


def test_every_action_module_has_a_sidecar_and_no_module_is_documented_twice() -> None:
    sidecars = {path.stem for path in (REPO_ROOT / "plugins" / "modules").glob("*.yml")}
    assert set(generator.module_schemas()) <= sidecars <= set(MODULES)
    for module in sorted(sidecars):
        tree = ast.parse((REPO_ROOT / "plugins" / "modules" / f"{module}.py").read_text())
        assigned = {target.id for node in tree.body if isinstance(node, ast.Assign)
                    for target in node.targets if isinstance(target, ast.Name)}
        assert not assigned & {"DOCUMENTATION", "EXAMPLES", "RETURN"}, module


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for folder in ("profile", "plugins/modules", "plugins/doc_fragments"):
        shutil.copytree(REPO_ROOT / folder, tmp_path / folder, symlinks=True)
    return tmp_path


def test_a_changed_schema_makes_its_modules_documentation_stale(tree: Path) -> None:
    schema = json.loads((tree / SCHEMA).read_text())
    schema["properties"]["portainer_version"]["description"] = "the Version /api/status named, in a new wording"
    (tree / SCHEMA).write_text(json.dumps(schema))
    assert generator.stale(tree) == [SIDECAR]
    facts = generator.rendered(tree)[SIDECAR].split(generator.MARKER)[1]
    assert "the Version /api/status named, in a new wording" in facts


def test_a_hand_edit_below_the_marker_is_stale_and_the_text_above_is_kept(tree: Path) -> None:
    text = (tree / SIDECAR).read_text()
    above, below = text.split(generator.MARKER)
    (tree / SIDECAR).write_text(above + "  # hand-written, here\n" + generator.MARKER + below.replace("always", "sometimes", 1))
    assert generator.stale(tree) == [SIDECAR]
    assert generator.rendered(tree)[SIDECAR] == above + "  # hand-written, here\n" + generator.MARKER + below


def test_a_sidecar_without_the_marker_is_named(tree: Path) -> None:
    (tree / SIDECAR).write_text((tree / SIDECAR).read_text().replace(generator.MARKER, ""))
    with pytest.raises(generator.ModuleDocError, match=r"plugins/modules/portainer_health.yml: RETURN lacks the marker"):
        generator.rendered(tree)


def test_a_module_an_action_runs_needs_a_sidecar(tree: Path) -> None:
    (tree / SIDECAR).unlink()
    with pytest.raises(generator.ModuleDocError, match=r"plugins/modules/portainer_health.yml: missing"):
        generator.rendered(tree)


def test_fragments_are_merged_under_the_modules_own_options() -> None:
    documentation = generator.documentation("zabbix_problem_summary")
    assert set(documentation["options"]) == {"api_url", "ca_file", "timeout_seconds", "api_token", "api_token_file"}
    assert "tecrax.ops.zabbix_api.token" in documentation["extends_documentation_fragment"]


def test_ansible_doc_shows_every_module_in_full(ansible_env: dict[str, str]) -> None:
    shown = subprocess.run([str(Path(sys.executable).parent / "ansible-doc"), "--json",
                            *(f"tecrax.ops.{module}" for module in MODULES)],
                           capture_output=True, text=True, env=ansible_env, timeout=300, check=True)
    docs = json.loads(shown.stdout)
    assert sorted(docs) == [f"tecrax.ops.{module}" for module in MODULES]
    for name, doc in docs.items():
        module = name.rsplit(".", 1)[1]
        assert doc["doc"]["module"] == module and doc["doc"]["description"] and doc["examples"].strip(), name
        assert doc["doc"]["attributes"]["check_mode"]["support"] in ("full", "partial"), name
        assert doc["return"], name
        if module in generator.module_schemas():
            facts = doc["return"]["facts"]
            assert {"contract", "scope", "coverage", "assessment", "non_claims"} <= set(facts["contains"]), name
            assert facts == generator.sidecar(module)["RETURN"]["facts"], name
