#!/usr/bin/env python3
"""Fail-closed gate over the active RExecOp profile (``profile/``): what RExecOp's own
``rexecop profile lint`` does not check, or checks more loosely.

* Intents: ``intents/<id>.yaml`` declares ``id: <id>``; ``enforce_declared_modes: true`` and
  modes from read_only, observe, dry_run, apply, where only ``configure_chrony_ntp_server`` may
  (and must only) be ``apply``; no placeholder product (proxmox, pbs, samba, wazuh, grafana,
  frigate, ...) is an intent; the catalog has exactly its fields, exactly one ``tecrax.*``
  domain capability, ``side_effect_class: none`` for read-only intents; the facts contract
  has a schema in ``schemas/``; the workflow, validation rule and runbook exist and belong
  to the intent.
* Workflows: every connector step (rollback steps included) names a connector file of the
  profile and an action it declares; every internal step an action RExecOp has registered;
  ``tecrax_reaction_observation`` only as the producer step an intent's
  ``reaction_observation`` declaration names.
* Connector ``tecrax_ansible``: the contract's capabilities equal the actions declared in
  ``connectors/tecrax_ansible/actions.yaml``; each action's schema
  exists; only the chrony apply and rollback actions are mutating.
* Operator metadata: an entry per intent with failure guidance for policy, connector, target
  and runtime (and mutation-contract for the mutation); every suggested ``rexecop`` or
  ``tecrax`` command line names a command and options that exist in the installed version.
* Triggers: rules of ``triggers/trigger_rules.yaml`` plan only read-only intents in a
  read-only mode they declare, on the catalog target named by the event (``subject``), with a
  cooldown; other decisions are escalate or ignore.
* Reactions: RExecOp compiles ``reactions/reaction_pack.yaml``; budgets are max_depth 3 and
  max_reactions 5; every rule's finding kind and severity are those of
  ``finding_taxonomy.yaml``; run_intent names only the kind's read-only recheck intent; every
  component has an unhealthy re-check rule and an unavailable escalate rule. Every taxonomy
  kind has components and either fixed reason codes or ``reasons_from: component``.

Usage: validate_active_profile.py [--root DIR]   (DIR: the repository; the profile is DIR/profile)
Prints ``path: reason`` per problem and exits 1 when there is any, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from repository_finding import report_findings, root_arguments

MUTATION_INTENT = "configure_chrony_ntp_server"
MUTATING_ACTIONS = frozenset({"chrony_ntp_server_apply", "chrony_ntp_server_rollback"})
READ_ONLY_MODES = frozenset({"read_only", "observe", "dry_run"})
KNOWN_MODES = READ_ONLY_MODES | {"apply"}
CATALOG_KEYS = frozenset({"title", "summary", "target_kinds", "required_capabilities", "side_effect_class",
                          "validation_ref", "runbook_ref"})
TARGET_KINDS = frozenset({"host", "network_device"})
CAPABILITY = re.compile(r"tecrax\.[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*\.v[0-9]+")
FACTS_CONTRACT = re.compile(r"(tecrax\.[a-z][a-z0-9_]*)@1\.0")
PLACEHOLDER_PRODUCTS = ("proxmox", "pbs", "samba", "wazuh", "grafana", "frigate", "windows", "wsus",
                        "hillstone", "truenas", "veeam")
FAILURE_CLASSES = ("policy", "connector", "target", "runtime")
OBSERVATION_ACTION = "tecrax_reaction_observation"
BUDGETS = {"max_depth": 3, "max_reactions": 5}
STATUS_CONDITION = re.compile(r"facts\.components\.([a-z_]+)\.status")


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class Profile:
    """The profile tree, read once; unreadable files become problems, not exceptions."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.intents: dict[str, Mapping[str, Any]] = {}
        for path in sorted((root / "intents").glob("*.yaml")):
            document = self.load(path.relative_to(root).as_posix(), "intent")
            if document is not None:
                self.intents[path.stem] = document

    def load(self, relative: str, key: str) -> Mapping[str, Any] | None:
        path = self.root / relative
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            self.problems.append(Problem(f"profile/{relative}", f"unreadable: {type(exc).__name__}"))
            return None
        value = document.get(key) if isinstance(document, dict) else None
        if not isinstance(value, dict):
            self.problems.append(Problem(f"profile/{relative}", f"no '{key}' mapping"))
            return None
        return value

    def read_only(self, intent: str) -> bool:
        spec = self.intents.get(intent) or {}
        modes = spec.get("modes")
        return isinstance(modes, list) and bool(modes) and set(map(str, modes)) <= READ_ONLY_MODES

    def contract_ids(self) -> set[str]:
        ids = set()
        for path in (self.root / "schemas").glob("*.schema.json"):
            try:
                schema = json.loads(path.read_text(encoding="utf-8"))
                ids.add(schema["properties"]["contract"]["properties"]["id"]["const"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return ids


# --- intents ------------------------------------------------------------------------------

def check_intents(profile: Profile) -> list[Problem]:
    problems: list[Problem] = []
    contracts = profile.contract_ids()
    for intent_id, spec in profile.intents.items():
        where = f"profile/intents/{intent_id}.yaml"
        say = lambda reason, where=where: problems.append(Problem(where, reason))  # noqa: E731
        if spec.get("id") != intent_id:
            say(f"intent id {spec.get('id')!r} differs from the file name {intent_id!r}")
        for word in PLACEHOLDER_PRODUCTS:
            if word in intent_id.split("_"):
                say(f"names the placeholder product {word!r}: only implemented slices may be intents")
        problems += _check_modes(where, intent_id, spec)
        problems += _check_catalog(profile, where, intent_id, spec)
        contract = FACTS_CONTRACT.fullmatch(str(spec.get("facts_contract") or ""))
        if contract is None:
            say(f"facts_contract {spec.get('facts_contract')!r} is not tecrax.<name>@1.0")
        elif contract.group(1) not in contracts:
            say(f"facts contract {contract.group(1)} has no schema in profile/schemas")
        problems += _check_workflow_ref(profile, where, intent_id, spec)
    return problems


def _check_modes(where: str, intent_id: str, spec: Mapping[str, Any]) -> list[Problem]:
    problems = []
    if spec.get("enforce_declared_modes") is not True:
        problems.append(Problem(where, "enforce_declared_modes must be true"))
    modes = spec.get("modes")
    if not isinstance(modes, list) or not modes:
        return problems + [Problem(where, "modes must be a non-empty list")]
    unknown = sorted(set(map(str, modes)) - KNOWN_MODES)
    if unknown:
        problems.append(Problem(where, f"unknown modes {unknown} (known: {sorted(KNOWN_MODES)})"))
    if intent_id == MUTATION_INTENT and modes != ["apply"]:
        problems.append(Problem(where, f"the mutation must declare exactly [apply], found {modes}"))
    elif intent_id != MUTATION_INTENT and "apply" in modes:
        problems.append(Problem(where, f"declares apply: only {MUTATION_INTENT} may mutate"))
    return problems


def _check_catalog(profile: Profile, where: str, intent_id: str, spec: Mapping[str, Any]) -> list[Problem]:
    catalog = spec.get("catalog")
    if not isinstance(catalog, dict):
        return [Problem(where, "catalog must be a mapping")]
    problems = []
    say = lambda reason: problems.append(Problem(where, f"catalog.{reason}"))  # noqa: E731
    missing, extra = sorted(CATALOG_KEYS - set(catalog)), sorted(set(catalog) - CATALOG_KEYS)
    if missing or extra:
        say(f"fields must be exactly {sorted(CATALOG_KEYS)} (missing {missing}, unknown {extra})")
    for key, limit in (("title", 120), ("summary", 500)):
        if not isinstance(catalog.get(key), str) or not 0 < len(catalog[key].strip()) <= limit:
            say(f"{key} must be text of 1..{limit} characters")
    kinds = catalog.get("target_kinds")
    if not isinstance(kinds, list) or not kinds or not set(kinds) <= TARGET_KINDS:
        say(f"target_kinds must be a non-empty list of {sorted(TARGET_KINDS)}")
    capabilities = catalog.get("required_capabilities")
    if not isinstance(capabilities, list) or len(capabilities) != 1 or not CAPABILITY.fullmatch(str(capabilities[0])):
        say(f"required_capabilities must be exactly one tecrax.<domain>...v<N> capability, found {capabilities!r}")
    side_effect = catalog.get("side_effect_class")
    if intent_id != MUTATION_INTENT and side_effect != "none":
        say(f"side_effect_class of a read-only intent must be none, found {side_effect!r}")
    if intent_id == MUTATION_INTENT and side_effect in (None, "none"):
        say("side_effect_class of the mutation must name its side effect")
    problems += _check_validation_ref(profile, where, intent_id, catalog.get("validation_ref"))
    runbook = catalog.get("runbook_ref")
    if not isinstance(runbook, str) or not runbook.startswith("runbooks/") or not (profile.root / runbook).is_file():
        say(f"runbook_ref {runbook!r} is not a runbook file under profile/runbooks")
    return problems


def _check_validation_ref(profile: Profile, where: str, intent_id: str, ref: Any) -> list[Problem]:
    if ref != f"validation_rules/{intent_id}.yaml" or not (profile.root / ref).is_file():
        return [Problem(where, f"catalog.validation_ref {ref!r} is not the file validation_rules/{intent_id}.yaml")]
    rule = profile.load(ref, "validation_rule")
    if rule is not None and rule.get("intent") != intent_id:
        return [Problem(f"profile/{ref}", f"validation_rule.intent {rule.get('intent')!r} is not {intent_id!r}")]
    return []


def _check_workflow_ref(profile: Profile, where: str, intent_id: str, spec: Mapping[str, Any]) -> list[Problem]:
    ref = spec.get("workflow")
    if not isinstance(ref, str) or not ref.startswith("workflows/") or not (profile.root / ref).is_file():
        return [Problem(where, f"workflow {ref!r} is not a file under profile/workflows")]
    workflow = profile.load(ref, "workflow")
    if workflow is not None and workflow.get("intent") != intent_id:
        return [Problem(f"profile/{ref}", f"workflow.intent {workflow.get('intent')!r} is not {intent_id!r}")]
    return []


# --- workflows and connectors --------------------------------------------------------------

def check_workflows(profile: Profile) -> list[Problem]:
    from rexecop.execution.internal_registry import list_registered_internal_actions

    internal_actions = set(list_registered_internal_actions())
    producers = _observation_producers(profile)
    problems: list[Problem] = []
    for intent_id, spec in profile.intents.items():
        ref = spec.get("workflow")
        workflow = profile.load(ref, "workflow") if isinstance(ref, str) and (profile.root / ref).is_file() else None
        if workflow is None:
            continue
        where = f"profile/{ref}"
        rollback = workflow.get("rollback") if isinstance(workflow.get("rollback"), dict) else {}
        for step in [*(workflow.get("steps") or []), *(rollback.get("steps") or [])]:
            if not isinstance(step, dict):
                problems.append(Problem(where, "a step is not a mapping"))
                continue
            problems += _check_step(profile, where, intent_id, step, internal_actions, producers)
    return problems


def _observation_producers(profile: Profile) -> dict[str, str]:
    """``{intent: producer step}`` of every reaction_observation declaration."""
    found = {}
    for intent_id, spec in profile.intents.items():
        declaration = spec.get("reaction_observation")
        if isinstance(declaration, dict) and declaration.get("source_intent") == intent_id:
            found[intent_id] = str(declaration.get("producer_step") or "")
    return found


def _check_step(profile: Profile, where: str, intent_id: str, step: Mapping[str, Any],
                internal_actions: set[str], producers: Mapping[str, str]) -> list[Problem]:
    step_id, action, name = step.get("id"), step.get("action"), step.get("connector")
    say = lambda reason: [Problem(where, f"step {step_id}: {reason}")]  # noqa: E731
    if step.get("type") == "connector":
        relative = f"connectors/{name}.yaml"
        connector = profile.load(relative, "connector") if (profile.root / relative).is_file() else None
        if connector is None:
            return say(f"connector {name!r} has no file in profile/connectors")
        actions = _declared_actions(profile, name)
        if action not in (connector.get("capabilities") or []) or (actions is not None and action not in actions):
            return say(f"action {action!r} is not declared by connector {name}")
    elif step.get("type") == "internal":
        if action not in internal_actions:
            return say(f"internal action {action!r} is not registered with RExecOp")
        if action == OBSERVATION_ACTION and producers.get(intent_id) != step_id:
            return say(f"{OBSERVATION_ACTION} runs only as the producer_step the intent's "
                       "reaction_observation declares")
    return []


def _declared_actions(profile: Profile, connector: str) -> Mapping[str, Any] | None:
    """The actions ``connectors/<connector>/actions.yaml`` declares, when the connector has that file."""
    relative = f"connectors/{connector}/actions.yaml"
    return profile.load(relative, "actions") if (profile.root / relative).is_file() else None


def check_connector(profile: Profile) -> list[Problem]:
    where = "profile/connectors/tecrax_ansible.yaml"
    connector = profile.load("connectors/tecrax_ansible.yaml", "connector")
    if connector is None:
        return []
    actions = _declared_actions(profile, "tecrax_ansible") or {}
    problems = []
    if sorted(connector.get("capabilities") or []) != sorted(actions):
        problems.append(Problem(where, "capabilities must list exactly the declared actions"))
    where = "profile/connectors/tecrax_ansible/actions.yaml"
    for name, spec in actions.items():
        spec = spec if isinstance(spec, dict) else {}
        schema = spec.get("schema")
        if not isinstance(schema, str) or not (profile.root / schema).is_file():
            problems.append(Problem(where, f"action {name}: schema {schema!r} is not a file of the profile"))
        if bool(spec.get("mutating")) != (name in MUTATING_ACTIONS):
            problems.append(Problem(where, f"action {name}: only {sorted(MUTATING_ACTIONS)} may be mutating"))
    return problems


# --- operator metadata ---------------------------------------------------------------------

def check_operator_metadata(profile: Profile) -> list[Problem]:
    where = "profile/operator_metadata.yaml"
    document = profile.load("operator_metadata.yaml", "operator_metadata")
    if document is None:
        return []
    entries = document.get("intents") if isinstance(document.get("intents"), dict) else {}
    problems = [Problem(where, f"intents.{intent}: missing") for intent in sorted(set(profile.intents) - set(entries))]
    commands = _command_lines()
    for intent_id, entry in sorted(entries.items()):
        entry = entry if isinstance(entry, dict) else {}
        mapping = entry.get("failure_mapping") if isinstance(entry.get("failure_mapping"), dict) else {}
        required = FAILURE_CLASSES + (("mutation-contract",) if intent_id == MUTATION_INTENT else ())
        for failure_class in required:
            if not isinstance(mapping.get(failure_class), dict):
                problems.append(Problem(where, f"intents.{intent_id}.failure_mapping.{failure_class}: missing"))
        options = list(entry.get("safe_next_options") or [])
        for failure in mapping.values():
            options += list(failure.get("safe_next_options") or []) if isinstance(failure, dict) else []
        for line in options:
            reason = commands.check(str(line))
            if reason:
                problems.append(Problem(where, f"intents.{intent_id}: {line!r}: {reason}"))
    return problems


@cache
def _command_lines() -> _CommandLines:
    return _CommandLines()


class _CommandLines:
    """Checks suggested command lines against the installed rexecop and tecrax CLIs."""

    def __init__(self) -> None:
        import typer.main
        from rexecop.cli import app

        from tecrax.cli import _parser

        self.rexecop = typer.main.get_command(app)
        self.tecrax = _parser()

    def check(self, line: str) -> str | None:
        try:
            words = shlex.split(line)
        except ValueError:
            return "not a parsable command line"
        if not words or words[0] not in ("rexecop", "tecrax"):
            return "suggests something other than a rexecop or tecrax command"
        return self._rexecop(words[1:]) if words[0] == "rexecop" else self._tecrax(words[1:])

    def _rexecop(self, words: list[str]) -> str | None:
        command: Any = self.rexecop
        path = ["rexecop"]
        while isinstance(getattr(command, "commands", None), dict):  # a group (typer vendors its own click)
            while words and words[0].startswith("--"):  # options of the group itself (--root DIR)
                words = words[2:] if "=" not in words[0] else words[1:]
            if not words or words[0] not in command.commands:
                return f"{' '.join(path)} has no command {words[0] if words else '(none)'!r}"
            path.append(words[0])
            command, words = command.commands[words[0]], words[1:]
        known = {opt for param in command.params for opt in getattr(param, "opts", [])}
        return _unknown_options(words, known, " ".join(path))

    def _tecrax(self, words: list[str]) -> str | None:
        subcommands = next(action for action in self.tecrax._actions if isinstance(action, argparse._SubParsersAction))
        if not words or words[0] not in subcommands.choices:
            return f"tecrax has no command {words[0] if words else '(none)'!r}"
        parser = subcommands.choices[words[0]]
        return _unknown_options(words[1:], set(parser._option_string_actions), f"tecrax {words[0]}")


def _unknown_options(words: list[str], known: set[str], command: str) -> str | None:
    for word in words:
        if word.startswith("--") and word.split("=", 1)[0] not in known:
            return f"{command} has no option {word.split('=', 1)[0]}"
    return None


# --- triggers ------------------------------------------------------------------------------

def check_triggers(profile: Profile) -> list[Problem]:
    relative = "triggers/trigger_rules.yaml"
    where = f"profile/{relative}"
    if not (profile.root / relative).is_file():
        return [Problem(where, "missing: rexecop trigger answers 'profile trigger rules not found'")]
    rules_set = profile.load(relative, "trigger_rules")
    if rules_set is None:
        return []
    rules = rules_set.get("rules")
    if not rules_set.get("id") or not rules_set.get("version") or not isinstance(rules, list) or not rules:
        return [Problem(where, "trigger_rules needs id, version and a non-empty rules list")]
    problems = []
    for index, rule in enumerate(rules):
        rule = rule if isinstance(rule, dict) else {}
        label = f"rules[{index}] ({rule.get('id')})"
        decision = rule.get("decision")
        if not rule.get("event_type"):
            problems.append(Problem(where, f"{label}: event_type is required"))
        if decision == "plan_operation":
            problems += [Problem(where, f"{label}: {reason}") for reason in _plan_rule_problems(profile, rule)]
        elif decision not in ("escalate", "ignore"):
            problems.append(Problem(where, f"{label}: decision {decision!r} is not plan_operation, escalate or ignore"))
        elif rule.get("operation"):
            problems.append(Problem(where, f"{label}: a {decision} rule plans nothing, so it has no operation"))
    return problems


def _plan_rule_problems(profile: Profile, rule: Mapping[str, Any]) -> Iterator[str]:
    operation = rule.get("operation") if isinstance(rule.get("operation"), dict) else {}
    intent = operation.get("intent")
    if intent not in profile.intents or not profile.read_only(str(intent)):
        yield f"plans {intent!r}, which is not a read-only intent of the profile"
    mode = operation.get("mode", "dry_run")
    if mode not in ("dry_run", "observe") or mode not in (profile.intents.get(str(intent)) or {}).get("modes", []):
        yield f"plans mode {mode!r}: a trigger plans only a read-only mode its intent declares"
    if operation.get("catalog_target_from") != "subject" or any(
        key in operation for key in ("target", "target_from", "catalog_target")
    ):
        yield "the target must come from the operator's catalog by the event subject (catalog_target_from: subject)"
    if not isinstance(rule.get("cooldown_seconds"), int) or rule["cooldown_seconds"] <= 0:
        yield "a plan_operation rule needs a positive cooldown_seconds"


# --- reactions -----------------------------------------------------------------------------

def check_reactions(profile: Profile) -> list[Problem]:
    from rexecop.errors import RExecOpError
    from rexecop.profile.loader import load_profile
    from rexecop.reaction import compile_reaction_pack

    where = "profile/reactions/reaction_pack.yaml"
    taxonomy = profile.load("finding_taxonomy.yaml", "finding_taxonomy")
    if not (profile.root / "reactions" / "reaction_pack.yaml").is_file():
        return [Problem(where, "missing: rexecop reaction-plan answers 'reaction pack not found'")]
    try:
        pack = compile_reaction_pack(load_profile(profile.root))
    except (RExecOpError, OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as exc:
        return [Problem(where, f"RExecOp refuses the pack: {' '.join(str(exc).split())[:300]}")]
    problems = [
        Problem(where, f"budgets.{name} must be {value}, found {getattr(pack, name)}")
        for name, value in BUDGETS.items() if getattr(pack, name) != value
    ]
    if taxonomy is None:
        return problems
    problems += check_taxonomy(profile, taxonomy)
    kinds = taxonomy.get("kinds") if isinstance(taxonomy.get("kinds"), dict) else {}
    covered: dict[str, set[str]] = {}
    for rule in (*pack.rules, pack.fallback):
        label = f"rule {rule.rule_id}"
        kind = kinds.get(rule.finding_kind)
        if not isinstance(kind, dict):
            problems.append(Problem(where, f"{label}: finding kind {rule.finding_kind} is not in the taxonomy"))
            continue
        if rule.finding_severity != kind.get("severity"):
            problems.append(Problem(where, f"{label}: severity {rule.finding_severity} differs from the taxonomy's "
                                           f"{kind.get('severity')} for {rule.finding_kind}"))
        if rule.outcome in ("run_intent", "retry_intent") and rule.intent_ref != kind.get("recheck_intent"):
            problems.append(Problem(where, f"{label}: runs {rule.intent_ref}, not the recheck_intent "
                                           f"{kind.get('recheck_intent')} of {rule.finding_kind}"))
        if rule.intent_ref is not None and not profile.read_only(rule.intent_ref):
            problems.append(Problem(where, f"{label}: names {rule.intent_ref}, which is not a read-only intent"))
        for condition in rule.conditions:
            match = STATUS_CONDITION.fullmatch(condition.path)
            if match and condition.operator == "equals" and len(rule.conditions) == 2:
                covered.setdefault(match.group(1), set()).add(f"{condition.value}->{rule.outcome}")
    for component in _components(kinds):
        for needed in ("unhealthy->run_intent", "unavailable->escalate"):
            if needed not in covered.get(component, set()):
                problems.append(Problem(where, f"component {component}: no rule {needed.replace('->', ' -> ')}"))
    return problems


def check_taxonomy(profile: Profile, taxonomy: Mapping[str, Any]) -> list[Problem]:
    where = "profile/finding_taxonomy.yaml"
    severities = taxonomy.get("severities")
    problems = []
    if severities != ["info", "low", "medium", "high"]:
        problems.append(Problem(where, f"severities must be [info, low, medium, high], found {severities!r}"))
    kinds = taxonomy.get("kinds") if isinstance(taxonomy.get("kinds"), dict) else {}
    for name, kind in kinds.items():
        kind = kind if isinstance(kind, dict) else {}
        if not str(name).startswith("monitoring."):
            problems.append(Problem(where, f"kind {name}: kinds are monitoring.<name>"))
        if kind.get("severity") not in (severities or []):
            problems.append(Problem(where, f"kind {name}: severity {kind.get('severity')!r} is not declared"))
        if not kind.get("components"):
            problems.append(Problem(where, f"kind {name}: needs components"))
        if bool(kind.get("reason_codes")) == (kind.get("reasons_from") == "component"):
            problems.append(Problem(where, f"kind {name}: needs either reason_codes or reasons_from: component"))
        recheck = kind.get("recheck_intent")
        if recheck is not None and not profile.read_only(str(recheck)):
            problems.append(Problem(where, f"kind {name}: recheck_intent {recheck!r} is not a read-only intent"))
    return problems


def _components(kinds: Mapping[str, Any]) -> list[str]:
    found: dict[str, None] = {}
    for kind in kinds.values():
        if isinstance(kind, dict):
            found.update((str(name), None) for name in kind.get("components") or [] if name != "all")
    return list(found)


# --- main ----------------------------------------------------------------------------------

CHECKS = (check_intents, check_workflows, check_connector, check_operator_metadata, check_triggers, check_reactions)


def validate(root: Path) -> list[Problem]:
    profile = Profile(root / "profile")
    problems = list(profile.problems)
    for check in CHECKS:
        problems += check(profile)
    return sorted(set(problems))


def main(argv: list[str] | None = None) -> int:
    args = root_arguments(__doc__).parse_args(argv)
    return report_findings("validate_active_profile", validate(args.root.resolve()))


if __name__ == "__main__":
    sys.exit(main())
