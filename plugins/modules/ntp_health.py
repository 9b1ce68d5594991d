#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file ntp_health.yml beside this one.

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import (
    CommandRunner,
    run_host_module,
)
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_local_health import (
    DAEMONS,
    daemon_in_charge,
    normalize_ntp_local_health,
)
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.time_sync_collect import (
    chrony_tracking,
    collect_unit_states,
    ntpq_variables,
    run,
)


def collect_raw(commands: CommandRunner) -> dict:
    units = collect_unit_states(commands, DAEMONS)
    raw = {"units": units, "timedatectl": run(commands, "timedatectl", ["show"])}
    daemon = daemon_in_charge(units)
    if daemon == "chrony":
        raw["chrony_tracking"] = chrony_tracking(commands)
    elif daemon == "ntpd":
        raw["ntpq"] = ntpq_variables(commands)
    elif daemon == "systemd_timesyncd":
        raw["timesync"] = run(commands, "timedatectl", ["show-timesync", "--all"])
    return raw


def main() -> None:
    run_host_module("ntp_health", collect_raw, normalize_ntp_local_health)


if __name__ == "__main__":
    main()
