#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: the sidecar file zabbix_problem_summary.yml beside this one.

from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_facts import observe_problem_summary
from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_module import run_observation


def main() -> None:
    run_observation(observe_problem_summary, "zabbix_problem_summary", authenticated=True)


if __name__ == "__main__":
    main()
