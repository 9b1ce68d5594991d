# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations


class ModuleDocFragment:
    """Options and notes shared by the modules that call tecrax-network-cli-readonly."""

    DOCUMENTATION = r"""
options:
  wrapper_path:
    description:
      - Absolute path of the operator-owned wrapper on the host that runs the module
        (normally the controller, with the local connection).
      - The file must be called C(tecrax-network-cli-readonly), be executable, and it and its
        directory must be writable only by root or the user running the module; otherwise the
        module refuses to run it.
      - The module runs it with exactly one argument, C(system-info) or C(ssh-status), no
        shell, no standard input and a fixed environment (C(PATH), C(LC_ALL=C), and C(HOME)
        and C(SSH_AUTH_SOCK) when set).
    type: str
    required: true
  device_id:
    description:
      - Name of the device, passed to the wrapper in the environment variable
        C(TECRAX_NETWORK_DEVICE) so that one wrapper can serve several devices.
      - 1 to 63 characters of C([A-Za-z0-9_.-]), starting with a letter or digit.
    type: str
  timeout_seconds:
    description:
      - Time limit of each wrapper call, within the module's time budget; the wrapper's process group is killed when it is
        exceeded and the call counts as C(timeout).
    type: int
    default: 30
notes:
  - The wrapper contract (subcommands, exit codes, output bound of 64 KiB per call) is in
    the Tecrax runbook C(network-device-readonly-runbook.md), shown by
    C(rexecop runbook show collect_network_device_inventory_readonly --profile tecrax).
  - C(ssh-status) is only requested when C(system-info) identified a supported device.
"""
