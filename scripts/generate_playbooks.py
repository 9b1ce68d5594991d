#!/usr/bin/env python3
"""Write the playbook of every action that declares a read-only intent, from its declaration.

``playbooks/<action>.yml`` is what the backend runs for a connector step and what an Ansible
user runs as ``ansible-playbook tecrax.ops.<action>``: one play over ``tecrax_target`` (all
hosts without it), no fact gathering, one task calling the action's module. Everything in it
follows from the action's declaration in profile/connectors/tecrax_ansible/actions.yaml and the
module's own documentation (plugins/modules/<module>.yml):

- a secret input's ``option`` gets the extra var ``tecrax_<secret>``, and ``<option>_file``
  (when the module has it) gets ``tecrax_<secret>_file``, the pipe the backend serves it through;
- a block input's ``host_option`` gets the inventory host name;
- a plain input's same-named option gets ``tecrax_<input>``;
- every other option of the module gets the same-named key of the action's one block input,
  ``tecrax_<block>.<option>``, omitted when unset (the module's default applies);
- a module that extends the ``tecrax.ops.command_budget`` doc fragment gets its time budget in
  ``TECRAX_MODULE_BUDGET_SECONDS`` from ``tecrax_module_budget_seconds``.

An action opts out with ``playbook: hand-written`` in its ``intent:`` block; actions without an
``intent:`` block (the chrony mutation, the diagnosis) keep hand-written playbooks too.

    python scripts/generate_playbooks.py          # write the playbooks
    python scripts/generate_playbooks.py --check  # exit 1 and list the stale ones
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

import generate_module_docs
import generate_profile
import generated_files

REPO_ROOT = Path(__file__).resolve().parents[1]
PLAYBOOKS = Path("playbooks")
BUDGET_FRAGMENT = "tecrax.ops.command_budget"
HAND_WRITTEN = "hand-written"
WIDTH = 98


class PlaybookDeclarationError(ValueError):
    """An action's declaration does not say where an option of its module comes from."""


def generated_actions(root: Path = REPO_ROOT) -> dict[str, tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
    """``{action: (intent id, action spec, intent block)}`` for every action whose playbook is generated."""
    return {action: (intent_id, spec, intent)
            for intent_id, (action, spec, intent) in generate_profile.declarations(root / "profile").items()
            if intent.get("playbook") != HAND_WRITTEN}


def rendered(root: Path = REPO_ROOT) -> dict[Path, str]:
    """Every generated playbook (relative to the repository root) and its text."""
    declared = generate_profile.connector_declarations(root / "profile")
    inputs, secrets = declared.get("inputs") or {}, declared.get("secret_inputs") or {}
    files: dict[Path, str] = {}
    for action, (intent_id, spec, intent) in generated_actions(root).items():
        module = spec["module"].rsplit(".", 1)[1]
        documentation = generate_module_docs.documentation(module, root)
        sources = option_sources(action, documentation, [(name, inputs.get(name), secrets.get(name))
                                                         for name in spec.get("inputs", [])])
        budget = BUDGET_FRAGMENT in (documentation.get("extends_documentation_fragment") or [])
        header = _header(action, intent_id, spec.get("inputs", []), inputs, secrets, budget)
        files[PLAYBOOKS / f"{action}.yml"] = header + _play(action, spec["module"], intent["title"],
                                                            documentation["short_description"], sources, budget)
    return files


def option_sources(action: str, documentation: Mapping[str, Any],
                   declared: list[tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]]) -> dict[str, str]:
    """``{module option: Jinja expression}`` for the action's inputs, in the module's option order."""
    options = list(documentation.get("options") or {})
    sources: dict[str, str] = {}
    blocks = []
    for name, spec, secret in declared:
        if secret is not None:
            option = secret.get("option")
            if option not in options:
                raise PlaybookDeclarationError(f"action {action}: secret input {name} must name an option of the module"
                                               f" ({', '.join(options)})")
            sources[option] = f"tecrax_{name} | default(omit)"
            if f"{option}_file" in options:
                sources[f"{option}_file"] = f"tecrax_{name}_file | default(omit)"
        elif spec is not None and spec.get("block"):
            blocks.append(name)
            if spec.get("host_option"):
                sources[spec["host_option"]] = "inventory_hostname"
        elif name in options:
            sources[name] = f"tecrax_{name}"
        else:
            raise PlaybookDeclarationError(f"action {action}: input {name} is not an option of the module")
    rest = [option for option in options if option not in sources]
    if rest and len(blocks) != 1:
        raise PlaybookDeclarationError(f"action {action}: module option(s) {', '.join(rest)} need exactly one block"
                                       f" input to come from, found {len(blocks)}")
    for option in rest:
        sources[option] = f"tecrax_{blocks[0]}.{option} | default(omit)"
    return {option: sources[option] for option in options}


def _header(action: str, intent_id: str, names: list[str], inputs: Mapping[str, Any], secrets: Mapping[str, Any],
            budget: bool) -> str:
    sentences = [f"Generated by scripts/generate_playbooks.py from action `{action}` of"
                 f" profile/{generate_profile.DECLARATIONS_FILE}; do not edit.",
                 f"Connector action `{action}` (intent {intent_id}), also runnable as"
                 f" `ansible-playbook tecrax.ops.{action}`."]
    for name in names:
        if name in secrets:
            sentences.append(f"The secret {name} comes as tecrax_{name}, or as a file (the governed backend serves it"
                             f" through a pipe) named by tecrax_{name}_file; the module never returns it.")
            continue
        spec = inputs[name]
        if spec.get("controller"):
            sentences.append("The module runs on the controller: give the target the local connection.")
        sentences.append(f"tecrax_{name} holds the target's `{name}` settings, checked by {spec['check']}.")
    if budget:
        sentences.append("The module's time budget for its commands comes from tecrax_module_budget_seconds"
                         " (plugins/module_utils/common/command_runner.py).")
    return "---\n" + "".join(f"# {line}\n" for sentence in sentences for line in textwrap.wrap(sentence, WIDTH))


def _play(action: str, module: str, title: str, task_name: str, sources: Mapping[str, str], budget: bool) -> str:
    lines = [f"- name: {_quoted(' '.join(title.split()))}",
             "  hosts: \"{{ tecrax_target | default('all') }}\"",
             "  gather_facts: false",
             "  tasks:",
             f"    - name: {_quoted(' '.join(task_name.split()))}"]
    if budget:
        lines += ["      environment:",
                  "        TECRAX_MODULE_BUDGET_SECONDS: \"{{ tecrax_module_budget_seconds | default('') }}\""]
    lines.append(f"      {module}:")
    lines += [f"        {option}: \"{{{{ {expression} }}}}\"" for option, expression in sources.items()]
    lines.append(f"      register: tecrax_{action}")
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    """``text`` as a YAML scalar: plain when YAML reads it back as that string, else double-quoted."""
    return text if yaml.safe_load(text) == text and ": " not in text and " #" not in text else json.dumps(text)


GENERATOR = generated_files.Generator("generate_playbooks", REPO_ROOT, rendered,
                                      (PlaybookDeclarationError, generate_profile.DeclarationError,
                                       generate_module_docs.ModuleDocError))
stale, main = GENERATOR.stale, GENERATOR.main

if __name__ == "__main__":
    sys.exit(main())
