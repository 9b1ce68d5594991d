#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file chrony_ntp_server.yml beside this one.

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.chrony_ntp_server_host import (
    ChronyHost,
    apply,
    binaries,
    module_runner,
    rollback,
)
from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import fail_timed_out, module_commands
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_subnets import (
    SubnetError,
    validate_allowed_subnets,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "choices": ["present", "absent", "previous"], "default": "present"},
            "allowed_subnets": {"type": "list", "elements": "str"},
        },
        required_if=[("state", "present", ("allowed_subnets",))],
        supports_check_mode=True,
    )
    state = module.params["state"]
    subnets = module.params["allowed_subnets"]
    if state != "present" and subnets is not None:
        module.fail_json(msg="allowed_subnets applies to state=present only")
    if state == "present":
        try:
            subnets = validate_allowed_subnets(subnets)
        except SubnetError as error:
            module.fail_json(msg="invalid allowed_subnets, nothing was changed: %s" % error)

    commands = module_commands(module)
    host = ChronyHost(module_runner(commands), binaries(module))
    if state == "previous":
        result = rollback(host, module.check_mode)
    else:
        result = apply(host, state, subnets or [], module.check_mode)
    output = {
        "changed": result.changed,
        "facts": result.facts,
        "before_state": result.facts["before_state"],
        "after_state": result.facts["after_state"],
    }
    if module._diff and result.diff is not None:
        output["diff"] = result.diff
    if commands.timed_out is not None:
        fail_timed_out(module, commands.timed_out, result.message, **output)
    if result.failed:
        module.fail_json(msg=result.message, **output)
    module.exit_json(**output)


if __name__ == "__main__":
    main()
