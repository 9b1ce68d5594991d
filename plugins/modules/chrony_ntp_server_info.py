#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file chrony_ntp_server_info.yml beside this one.

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.chrony_ntp_server_host import (
    ChronyHost,
    binaries,
    module_runner,
    read,
)
from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import fail_timed_out, module_commands
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_subnets import (
    SubnetError,
    validate_allowed_subnets,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={"allowed_subnets": {"type": "list", "elements": "str"}},
        supports_check_mode=True,
    )
    subnets = module.params["allowed_subnets"]
    desired_state = "unspecified"
    if subnets is not None:
        try:
            subnets = validate_allowed_subnets(subnets)
        except SubnetError as error:
            module.fail_json(msg="invalid allowed_subnets: %s" % error)
        desired_state = "present"
    commands = module_commands(module)
    result = read(ChronyHost(module_runner(commands), binaries(module)), desired_state, subnets or [])
    if commands.timed_out is not None:
        fail_timed_out(module, commands.timed_out, changed=False, facts=result.facts)
    module.exit_json(changed=False, facts=result.facts)


if __name__ == "__main__":
    main()
