"""The read-only intents' profile files are exactly what their declarations generate."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml

from unit.conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import generate_profile as generator  # noqa: E402

HAND_WRITTEN = {"configure_chrony_ntp_server", "plan_chrony_ntp_server"}


def test_generated_files_are_current() -> None:
    assert generator.stale() == [], "run: python scripts/generate_profile.py"


def test_every_intent_is_declared_once_or_hand_written_on_purpose() -> None:
    on_disk = {path.stem for path in (REPO_ROOT / "profile" / "intents").glob("*.yaml")}
    declared = set(generator.declarations())
    assert declared | HAND_WRITTEN == on_disk and not declared & HAND_WRITTEN


@pytest.fixture
def profile_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "profile"
    shutil.copytree(REPO_ROOT / "profile", copy, symlinks=True)
    return copy


def edit_declaration(profile: Path, action: str, **changes: object) -> None:
    path = profile / generator.DECLARATIONS_FILE
    document = yaml.safe_load(path.read_text())
    intent = document["actions"][action].setdefault("intent", {})
    intent.update(changes)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def test_a_changed_declaration_makes_exactly_its_files_stale(profile_copy: Path) -> None:
    edit_declaration(profile_copy, "host_inventory", passes_when="healthy")
    assert sorted(map(str, generator.stale(profile_copy))) == [
        "validation_rules/collect_basic_host_inventory.yaml"]
    rule = yaml.safe_load(generator.rendered(profile_copy)[Path("validation_rules/collect_basic_host_inventory.yaml")])
    assert rule["validation_rule"]["steps"][1]["path"] == "basic_host_inventory.assessment.state"


@pytest.mark.parametrize(
    ("action", "changes", "message"),
    [
        ("host_inventory", {"colour": "blue"}, "unknown keys ['colour']"),
        ("host_inventory", {"passes_when": "green"}, "passes_when must be one of ['complete', 'healthy', 'recorded']"),
        ("ntp_health", {"id": "collect_basic_host_inventory"}, "intent collect_basic_host_inventory is declared by two actions"),
        ("chrony_ntp_server_apply", {"id": "x", "step": "s", "passes_when": "healthy", "title": "t", "summary": "s",
                                     "workflow": "w", "target_kinds": ["host"], "capability": "c", "runbook": "r"},
         "a mutating action cannot declare a read-only intent"),
    ],
)
def test_malformed_declarations_are_refused(profile_copy: Path, action: str, changes: dict[str, object],
                                            message: str) -> None:
    edit_declaration(profile_copy, action, **changes)
    with pytest.raises(generator.DeclarationError, match=None) as raised:
        generator.rendered(profile_copy)
    assert message in str(raised.value)


def test_a_missing_field_is_named(profile_copy: Path) -> None:
    path = profile_copy / generator.DECLARATIONS_FILE
    document = yaml.safe_load(path.read_text())
    del document["actions"]["host_inventory"]["intent"]["runbook"]
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(generator.DeclarationError, match=r"lacks \['runbook'\]"):
        generator.rendered(profile_copy)


def test_the_connector_contract_lists_exactly_the_declared_actions(profile_copy: Path) -> None:
    path = profile_copy / generator.DECLARATIONS_FILE
    document = yaml.safe_load(path.read_text())
    document["actions"]["extra_check"] = dict(document["actions"]["host_inventory"], intent=None)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    contract = yaml.safe_load(generator.rendered(profile_copy)[Path(generator.CONTRACT_FILE)])["connector"]
    assert contract["capabilities"] == list(document["actions"]) and contract["capabilities"][-1] == "extra_check"
    assert contract["name"] == contract["backend"] == "tecrax_ansible"


def test_a_contract_block_with_other_keys_is_refused(profile_copy: Path) -> None:
    path = profile_copy / generator.DECLARATIONS_FILE
    document = yaml.safe_load(path.read_text())
    document["contract"]["capabilities"] = ["host_inventory"]
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(generator.DeclarationError, match=r"contract must have exactly the keys"):
        generator.rendered(profile_copy)
