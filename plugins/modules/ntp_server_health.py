#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file ntp_server_health.yml beside this one.

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import (
    CommandRunner,
    run_host_module,
)
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_server_health import (
    DAEMONS,
    normalize_ntp_server_observation,
    server_daemon,
)
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.time_sync_collect import (
    chrony_serverstats,
    chrony_tracking,
    collect_unit_states,
    ntpq_variables,
    read_udp_sockets,
)


def collect_raw(commands: CommandRunner) -> dict:
    units = collect_unit_states(commands, DAEMONS)
    raw = {"units": units, "udp_sockets": read_udp_sockets()}
    daemon = server_daemon(units)
    if daemon == "chrony":
        raw["chrony_tracking"] = chrony_tracking(commands)
        raw["chrony_serverstats"] = chrony_serverstats(commands)
    elif daemon == "ntpd":
        raw["ntpq"] = ntpq_variables(commands)
    return raw


def main() -> None:
    run_host_module("ntp_server_health", collect_raw, normalize_ntp_server_observation)


if __name__ == "__main__":
    main()
