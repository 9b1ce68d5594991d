#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: rexecop_trigger
short_description: Hand one observed-host event to C(rexecop trigger) for the Tecrax profile
version_added: 0.4.0
description:
  - Checks one C(network.host_observed) event against its strict shape and sends it, with the
    operator's target catalog, to C(rexecop trigger) for the profile C(tecrax). RExecOp
    applies the profile's trigger rules, drops duplicates, applies the cooldown, asks
    GovEngine to admit the decision and records it; a known catalog host gets a planned (not
    started) dry run of C(collect_basic_host_inventory), an unknown host an escalation.
  - Runs C(rexecop --root ROOT trigger) from an argv list, without a shell, with the trigger
    document as its only standard input. The event is rebuilt from its checked fields; the
    profile is always C(tecrax); the dedupe key is the event's type, source and id, so an
    event id RExecOp has seen from that source is dropped as a duplicate.
  - The Event-Driven Ansible event source C(tecrax.ops.host_observed) applies the same check;
    the rulebook C(tecrax.ops.host_observed_triggers) connects the two.
  - C(rexecop) is looked up next to the Python running the module, then on C(PATH).
author:
  - Tecrax developers (!UNKNOWN)
options:
  event:
    description:
      - The event, with exactly the fields C(id), C(source), C(type) (V(network.host_observed)),
        C(subject) (the catalog target id), C(occurred_at) (ISO 8601 with a time zone) and
        C(payload) (C(known) a boolean, C(target_kind) an identifier, optionally C(address)
        an IP address); at most 4096 bytes as JSON.
      - Text fields allow only letters, digits and C(.), C(_), C(:), C(-) (C(occurred_at) and
        C(address) their own characters). Anything else fails the module with a message
        naming the field, and C(rexecop) is not run.
    type: dict
    required: true
  catalog:
    description:
      - Absolute path of the operator's RExecOp target catalog (C(target_catalog) 0.1), which
        names the environment of each target.
      - Defaults to the environment variable C(TECRAX_TRIGGER_CATALOG).
    type: path
    required: true
  root:
    description:
      - Absolute path of the RExecOp runtime root, where decisions and planned operations
        are recorded.
      - Defaults to the environment variable C(REXECOP_ROOT), the one C(rexecop) itself reads.
    type: path
    required: true
extends_documentation_fragment:
  - tecrax.ops.command_budget
attributes:
  check_mode:
    support: full
    description: In check mode the event and the operator values are checked and C(rexecop) is not run.
  diff_mode:
    support: none
    description: No file of the host is changed.
  platform:
    support: full
    platforms: posix
    description: The controller, or a host with the C(tecrax) package and RExecOp installed.
notes:
  - The module never starts an operation. A planned inventory waits for C(rexecop start).
  - A decision is recorded for every event RExecOp takes, duplicates included, so the result
    is C(changed) whenever C(rexecop) answered with a decision.
"""

EXAMPLES = r"""
- name: Send an observed-host event to rexecop trigger
  tecrax.ops.rexecop_trigger:
    catalog: /etc/tecrax/targets.yaml
    root: /var/lib/rexecop
    event:
      id: netwatch-0001
      source: netwatch
      type: network.host_observed
      subject: monitoring-host-01
      occurred_at: "2026-01-31T12:00:00Z"
      payload:
        known: true
        target_kind: host
        address: 192.0.2.10
  register: sent

- name: Show what RExecOp decided
  ansible.builtin.debug:
    msg: "{{ sent.trigger.decision }} ({{ sent.trigger.reason }}) {{ sent.trigger.operation_id }}"
"""

RETURN = r"""
trigger:
  description: The decision RExecOp recorded; C(null) in check mode.
  returned: success
  type: dict
  contains:
    decision:
      description: What RExecOp decided.
      type: str
      returned: success
      choices: [plan_operation, escalate, ignore, drop_duplicate, cooldown_blocked]
    reason:
      description: >-
        C(matched:<rule id>), C(dedupe_key_already_seen), C(cooldown_active) or
        C(no_matching_trigger_rule).
      type: str
      returned: success
      sample: matched:known-host-inventory-plan
    decision_id:
      description: Identifier of the decision record under C(<root>/triggers/decisions/).
      type: str
      returned: success
      sample: trigger-1523cd36ae9aa51e6f4bfbf5
    operation_id:
      description: The planned operation, for C(plan_operation) only; otherwise C(null).
      type: str
      returned: success
      sample: op-20261205-200643-d3fdb3
    admitted:
      description: Whether GovEngine admitted the decision.
      type: bool
      returned: success
    evidence_digest:
      description: Digest of the SCLite C(trigger_decision) artifact.
      type: str
      returned: success
      sample: sha256:0f92944c8994b452f94e7ddd99d64bc8ff0ec2841dac0752e754b1a0c1d326e2
"""

import json
import os
import sys

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import (
    EXITED,
    NOT_STARTED,
    CommandTimedOut,
    fail_timed_out,
    module_commands,
)
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import bounded_text
from ansible_collections.tecrax.ops.plugins.module_utils.events.host_observed import (
    EventRefused,
    canonical_json,
    trigger_document,
)

MAX_ANSWER_BYTES = 64 * 1024
MAX_PATH_CHARS = 4096
DECISIONS = ("plan_operation", "escalate", "ignore", "drop_duplicate", "cooldown_blocked")


def _operator_path(module: AnsibleModule, name: str, must_be_file: bool) -> str:
    path = module.params[name]
    if not os.path.isabs(path) or len(path) > MAX_PATH_CHARS or any(not ch.isprintable() for ch in path):
        module.fail_json(msg="%s must be an absolute path of printable characters" % name)
    if must_be_file and not (os.path.isfile(path) and os.access(path, os.R_OK)):
        module.fail_json(msg="%s is not a readable file" % name)
    return path


def _decision(answer: bytes) -> dict:
    try:
        record = json.loads(answer.decode("utf-8"))
    except ValueError:
        record = None
    if not isinstance(record, dict) or record.get("decision") not in DECISIONS:
        raise ValueError("rexecop trigger answered without a decision record")
    admission = (record.get("admission") or {}).get("admission") or {}
    return {
        "decision": record["decision"],
        "reason": bounded_text(record.get("reason"), 128),
        "decision_id": bounded_text(record.get("decision_id"), 128),
        "operation_id": bounded_text(record["operation_id"], 128) if record.get("operation_id") else None,
        "admitted": admission.get("allowed") is True,
        "evidence_digest": bounded_text((record.get("sclite") or {}).get("digest"), 80),
    }


def _refusal(stderr: bytes) -> str:
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    chosen = (errors or lines or ["no message"])[-1]
    return bounded_text(chosen[len("error: "):] if chosen.startswith("error: ") else chosen, 300)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "event": {"type": "dict", "required": True},
            "catalog": {"type": "path", "required": True, "fallback": (env_fallback, ["TECRAX_TRIGGER_CATALOG"])},
            "root": {"type": "path", "required": True, "fallback": (env_fallback, ["REXECOP_ROOT"])},
        },
        supports_check_mode=True,
    )
    catalog = _operator_path(module, "catalog", must_be_file=True)
    root = _operator_path(module, "root", must_be_file=False)
    try:
        document = trigger_document(module.params["event"], catalog)
    except EventRefused as refused:
        module.fail_json(msg="event refused: %s" % refused, field=refused.field)
    if module.check_mode:
        module.exit_json(changed=True, trigger=None)

    commands = module_commands(module)
    rexecop = commands.find("rexecop", opt_dirs=[os.path.dirname(sys.executable)])
    if rexecop is None:
        module.fail_json(msg="rexecop not found next to %s or on PATH" % os.path.basename(sys.executable))
    try:
        result = commands.run([rexecop, "--root", root, "trigger"],
                              stdin_bytes=canonical_json(document).encode("utf-8"),
                              max_output_bytes=MAX_ANSWER_BYTES, kill_on_overflow=True)
    except CommandTimedOut as error:
        fail_timed_out(module, error)
    if result.status == NOT_STARTED:
        module.fail_json(msg="rexecop could not be started")
    if result.status != EXITED:
        module.fail_json(msg="rexecop trigger was stopped: %s" % result.status)
    if result.exit_code != 0:
        module.fail_json(msg="rexecop trigger refused the event: %s" % _refusal(result.stderr),
                         rc=result.exit_code)
    try:
        decision = _decision(result.stdout)
    except ValueError as error:
        module.fail_json(msg=str(error))
    module.exit_json(changed=True, trigger=decision)


if __name__ == "__main__":
    main()
