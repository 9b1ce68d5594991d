#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file zabbix_api_reachability.yml beside this one.

from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_facts import observe_reachability
from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_module import run_observation


def main() -> None:
    run_observation(observe_reachability, "zabbix_api_reachability", authenticated=False)


if __name__ == "__main__":
    main()
