"""scripts/validate_active_profile.py: the repository's profile passes, and each violating
tree (a copy of the profile with one thing broken) is refused with the problem named."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "validate_active_profile.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("validate_active_profile", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["validate_active_profile"] = module
    spec.loader.exec_module(module)
    return module


gate = _load()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "profile", tmp_path / "profile")
    return tmp_path


def edit(root: Path, relative: str, change: Callable[[Any], Any]) -> None:
    path = root / "profile" / relative
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def problems(root: Path) -> list[str]:
    return [str(problem) for problem in gate.validate(root)]


def test_the_repository_profile_passes() -> None:
    assert problems(REPO) == []


def test_an_untouched_copy_passes(tree: Path) -> None:
    assert problems(tree) == []


def intent(name: str) -> str:
    return f"intents/{name}.yaml"


def pack_rule(rule_id: str) -> Callable[[Any], dict[str, Any]]:
    return lambda doc: next(r for r in doc["reaction_pack"]["rules"] if r["id"] == rule_id)


def set_in(selector: Callable[[Any], dict[str, Any]], key: str, value: Any) -> Callable[[Any], None]:
    def change(document: Any) -> None:
        selector(document)[key] = value
    return change


def metadata_entry(name: str) -> Callable[[Any], dict[str, Any]]:
    return lambda doc: doc["operator_metadata"]["intents"][name]


def trigger_rule(rule_id: str) -> Callable[[Any], dict[str, Any]]:
    return lambda doc: next(r for r in doc["trigger_rules"]["rules"] if r["id"] == rule_id)


def step(index: int) -> Callable[[Any], dict[str, Any]]:
    return lambda doc: doc["workflow"]["steps"][index]


def suggest(line: str) -> Callable[[Any], None]:
    """Add a safe next option to check_ntp_health's operator metadata."""
    return lambda doc: metadata_entry("check_ntp_health")(doc)["safe_next_options"].append(line)


def plan(**changes: Any) -> Callable[[Any], None]:
    """Change the operation the known-host trigger rule plans."""
    return lambda doc: trigger_rule("known-host-inventory-plan")(doc)["operation"].update(changes)


def recheck_finding(**changes: Any) -> Callable[[Any], None]:
    """Change the finding the NTP recheck reaction answers."""
    return lambda doc: pack_rule("ntp-unhealthy-recheck")(doc)["finding"].update(changes)


# (case id, file, change, expected problem text)
VIOLATIONS: list[tuple[str, str, Callable[[Any], Any], str]] = [
    ("intent id differs from file", intent("check_ntp_health"),
     set_in(lambda d: d["intent"], "id", "check_ntp"), "intent id 'check_ntp' differs from the file name"),
    ("read-only intent declares apply", intent("check_ntp_health"),
     set_in(lambda d: d["intent"], "modes", ["observe", "apply"]), "declares apply: only configure_chrony_ntp_server"),
    ("mutation declares a dry run", intent("configure_chrony_ntp_server"),
     set_in(lambda d: d["intent"], "modes", ["apply", "dry_run"]), "the mutation must declare exactly [apply]"),
    ("unknown mode", intent("check_ntp_health"),
     set_in(lambda d: d["intent"], "modes", ["observe", "recovery"]), "unknown modes ['recovery']"),
    ("modes not enforced", intent("check_ntp_health"),
     set_in(lambda d: d["intent"], "enforce_declared_modes", False), "enforce_declared_modes must be true"),
    ("extra catalog field", intent("check_ntp_health"),
     set_in(lambda d: d["intent"]["catalog"], "owner", "ops"), "unknown ['owner']"),
    ("missing catalog field", intent("check_ntp_health"),
     lambda d: d["intent"]["catalog"].pop("summary"), "missing ['summary']"),
    ("two capabilities", intent("check_ntp_health"),
     set_in(lambda d: d["intent"]["catalog"], "required_capabilities",
            ["tecrax.host.ntp_health.v1", "tecrax.host.basic_inventory.v1"]),
     "required_capabilities must be exactly one tecrax."),
    ("capability outside tecrax", intent("check_ntp_health"),
     set_in(lambda d: d["intent"]["catalog"], "required_capabilities", ["host.ntp.v1"]),
     "required_capabilities must be exactly one tecrax."),
    ("read-only intent with a side effect", intent("check_ntp_health"),
     set_in(lambda d: d["intent"]["catalog"], "side_effect_class", "service_restart"),
     "side_effect_class of a read-only intent must be none"),
    ("unknown target kind", intent("check_ntp_health"),
     set_in(lambda d: d["intent"]["catalog"], "target_kinds", ["vm"]), "target_kinds must be a non-empty list"),
    ("facts contract without schema", intent("check_ntp_health"),
     set_in(lambda d: d["intent"], "facts_contract", "tecrax.ntp_drift@1.0"),
     "facts contract tecrax.ntp_drift has no schema in profile/schemas"),
    ("runbook missing", intent("check_ntp_health"),
     set_in(lambda d: d["intent"]["catalog"], "runbook_ref", "runbooks/ntp.md"), "runbook_ref 'runbooks/ntp.md'"),
    ("validation rule of another intent", "validation_rules/check_ntp_health.yaml",
     set_in(lambda d: d["validation_rule"], "intent", "check_docker_services_health"),
     "validation_rule.intent 'check_docker_services_health' is not 'check_ntp_health'"),
    ("workflow of another intent", "workflows/check_ntp_health.yaml",
     set_in(lambda d: d["workflow"], "intent", "check_ntp_server_health"),
     "workflow.intent 'check_ntp_server_health' is not 'check_ntp_health'"),
    ("undeclared connector action", "workflows/check_ntp_health.yaml",
     set_in(step(0), "action", "ntp_drift"), "action 'ntp_drift' is not declared by connector tecrax_ansible"),
    ("unknown connector", "workflows/check_ntp_health.yaml",
     set_in(step(0), "connector", "ssh_anything"), "connector 'ssh_anything' has no file in profile/connectors"),
    ("unregistered internal action", "workflows/check_ntp_health.yaml",
     set_in(step(1), "action", "tecrax_shell"), "internal action 'tecrax_shell' is not registered with RExecOp"),
    ("observation without declaration", "workflows/check_ntp_health.yaml",
     set_in(step(1), "action", "tecrax_reaction_observation"),
     "tecrax_reaction_observation runs only as the producer_step"),
    ("rollback step with an undeclared action", "workflows/configure_chrony_ntp_server.yaml",
     set_in(lambda d: d["workflow"]["rollback"]["steps"][0], "action", "chrony_wipe"),
     "action 'chrony_wipe' is not declared"),
    ("connector capability without action", "connectors/tecrax_ansible.yaml",
     lambda d: d["connector"]["capabilities"].append("ntp_drift"), "capabilities must list exactly the declared actions"),
    ("a read-only action turns mutating", "connectors/tecrax_ansible/actions.yaml",
     set_in(lambda d: d["actions"]["ntp_health"], "mutating", True), "action ntp_health: only"),
    ("operator metadata missing an intent", "operator_metadata.yaml",
     lambda d: d["operator_metadata"]["intents"].pop("check_ntp_health"), "intents.check_ntp_health: missing"),
    ("failure mapping without runtime", "operator_metadata.yaml",
     lambda d: metadata_entry("check_ntp_health")(d)["failure_mapping"].pop("runtime"),
     "intents.check_ntp_health.failure_mapping.runtime: missing"),
    ("mutation without mutation-contract", "operator_metadata.yaml",
     lambda d: metadata_entry("configure_chrony_ntp_server")(d)["failure_mapping"].pop("mutation-contract"),
     "failure_mapping.mutation-contract: missing"),
    ("a rexecop command that does not exist", "operator_metadata.yaml",
     suggest("rexecop diagnose --operation X"), "rexecop has no command 'diagnose'"),
    ("a rexecop option that does not exist", "operator_metadata.yaml",
     suggest("rexecop history --op X"), "rexecop history has no option --op"),
    ("a rexecop subcommand that does not exist", "operator_metadata.yaml",
     suggest("rexecop locks purge"), "rexecop locks has no command 'purge'"),
    ("a tecrax command that does not exist", "operator_metadata.yaml",
     suggest("tecrax heal --target t"), "tecrax has no command 'heal'"),
    ("something other than a command", "operator_metadata.yaml",
     suggest("ssh root@host chronyc tracking"), "suggests something other than a rexecop or tecrax command"),
    ("trigger plans the mutation", "triggers/trigger_rules.yaml",
     plan(intent="configure_chrony_ntp_server"),
     "plans 'configure_chrony_ntp_server', which is not a read-only intent"),
    ("trigger plans apply", "triggers/trigger_rules.yaml", plan(mode="apply"), "plans mode 'apply'"),
    ("trigger with a literal target", "triggers/trigger_rules.yaml",
     plan(target="monitoring-host-01"), "catalog_target_from: subject"),
    ("trigger without cooldown", "triggers/trigger_rules.yaml",
     lambda d: trigger_rule("known-host-inventory-plan")(d).pop("cooldown_seconds"), "positive cooldown_seconds"),
    ("escalation that plans", "triggers/trigger_rules.yaml",
     set_in(trigger_rule("unknown-host-escalate"), "operation", {"intent": "collect_basic_host_inventory"}),
     "a escalate rule plans nothing"),
    ("unknown trigger decision", "triggers/trigger_rules.yaml",
     set_in(trigger_rule("unknown-host-escalate"), "decision", "start_operation"), "decision 'start_operation'"),
    ("reaction names the mutation", "reactions/reaction_pack.yaml",
     set_in(pack_rule("ntp-unhealthy-recheck"), "intent_ref", "configure_chrony_ntp_server"),
     "RExecOp refuses the pack: reaction intent may not declare mutating modes"),
    ("reaction severity differs from the taxonomy", "reactions/reaction_pack.yaml",
     recheck_finding(severity="low"), "severity low differs from the taxonomy's high"),
    ("reaction kind unknown to the taxonomy", "reactions/reaction_pack.yaml",
     recheck_finding(kind="monitoring.clock_drift"), "finding kind monitoring.clock_drift is not in the taxonomy"),
    ("reaction runs another check", "reactions/reaction_pack.yaml",
     set_in(pack_rule("ntp-unhealthy-recheck"), "intent_ref", "collect_basic_host_inventory"),
     "runs collect_basic_host_inventory, not the recheck_intent check_ntp_health"),
    ("budget raised", "reactions/reaction_pack.yaml",
     lambda d: d["reaction_pack"]["budgets"].update(max_reactions=50), "budgets.max_reactions must be 5"),
    ("unavailable component not escalated", "reactions/reaction_pack.yaml",
     lambda d: d["reaction_pack"]["rules"].remove(pack_rule("docker-unavailable-escalate")(d)),
     "component docker: no rule unavailable -> escalate"),
    ("taxonomy severity scale changed", "finding_taxonomy.yaml",
     lambda d: d["finding_taxonomy"].update(severities=["info", "low", "medium", "high", "critical"]),
     "severities must be [info, low, medium, high]"),
    ("taxonomy kind without reason codes", "finding_taxonomy.yaml",
     lambda d: d["finding_taxonomy"]["kinds"]["monitoring.component_unavailable"].pop("reason_codes"),
     "kind monitoring.component_unavailable: needs either reason_codes or reasons_from: component"),
    ("taxonomy recheck of a mutation", "finding_taxonomy.yaml",
     lambda d: d["finding_taxonomy"]["kinds"]["monitoring.ntp_unhealthy"].update(recheck_intent=
                                                                                   "configure_chrony_ntp_server"),
     "recheck_intent 'configure_chrony_ntp_server' is not a read-only intent"),
]


@pytest.mark.parametrize(("relative", "change", "expected"), [case[1:] for case in VIOLATIONS],
                         ids=[case[0] for case in VIOLATIONS])
def test_a_violation_is_named(tree: Path, relative: str, change: Callable[[Any], Any], expected: str) -> None:
    edit(tree, relative, change)
    found = problems(tree)
    assert any(expected in problem for problem in found), found


def test_a_placeholder_product_is_not_an_intent(tree: Path) -> None:
    source = yaml.safe_load((tree / "profile" / intent("collect_basic_host_inventory")).read_text())
    source["intent"]["id"] = "collect_proxmox_inventory"
    (tree / "profile" / intent("collect_proxmox_inventory")).write_text(yaml.safe_dump(source))
    assert any("names the placeholder product 'proxmox'" in problem for problem in problems(tree))


def test_missing_reaction_pack_and_trigger_rules(tree: Path) -> None:
    (tree / "profile" / "reactions" / "reaction_pack.yaml").unlink()
    (tree / "profile" / "triggers" / "trigger_rules.yaml").unlink()
    found = problems(tree)
    assert "profile/reactions/reaction_pack.yaml: missing: rexecop reaction-plan answers 'reaction pack not found'" in found
    assert "profile/triggers/trigger_rules.yaml: missing: rexecop trigger answers 'profile trigger rules not found'" in found


def test_unreadable_yaml_is_a_problem_not_a_traceback(tree: Path) -> None:
    (tree / "profile" / intent("check_ntp_health")).write_text("intent: [unclosed\n")
    found = problems(tree)
    assert "profile/intents/check_ntp_health.yaml: unreadable: ParserError" in found, found


def test_the_script_exits_1_and_prints_one_line_per_problem(tree: Path) -> None:
    ok = subprocess.run([sys.executable, str(SCRIPT), "--root", str(tree)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and ok.stdout == "validate_active_profile: OK\n"
    edit(tree, intent("collect_zabbix_problem_summary_readonly"), set_in(lambda d: d["intent"], "modes", ["apply"]))
    edit(tree, intent("check_docker_services_health"), set_in(lambda d: d["intent"], "id", "docker"))
    bad = subprocess.run([sys.executable, str(SCRIPT), "--root", str(tree)], capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    lines = bad.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("profile/intents/") for line in lines), lines
    assert bad.stderr == "validate_active_profile: 2 problem(s)\n"
