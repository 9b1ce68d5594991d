"""Benchmark: a whole monitoring host diagnosis against one host inventory, on the same lab host,
interleaved in one run.

  inventory        collect_basic_host_inventory through RExecOp (plan + start, the real CLI)
  diagnosis        diagnose_monitoring_host through RExecOp on the same host, every component
                   configured and healthy (real Zabbix 6.0.14, unbound/nginx AdGuard and Portainer
                   stand-ins, chronyd, dockerd, apt)
  playbook         the diagnosis playbook with plain ansible-playbook (no governance)
  host_part        tecrax.ops.monitoring_host_local alone with plain ansible-playbook: the
                   diagnosis playbook costs this much when the probes fully overlap with it
  probes_parallel  the three controller probes in-process, side by side (observe_concurrently)
  probes_serial    the same probes one after another

Rounds are interleaved (the order inside a round rotates), so every variant sees the same
machine load; medians, and the ratios that count (diagnosis / inventory, the target is <= 1.5)
come from this one run. Run as root from the repository root:

    python bench/bench_diagnosis.py [--runs 7]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from lab_bench import bench_lab, plain_ansible, rounds

import monitoring_lab as ml  # noqa: E402 (lab_bench puts tests/integration on sys.path)
import service_lab as sl  # noqa: E402
import zabbix_lab as zl  # noqa: E402
from harness import Governed, allow_read_policy, write_environment  # noqa: E402

TARGET = "mon-bench"
BUDGET_SECONDS = 45  # what the backend passes for the connector's timeout of 60 s

HOST_PART = """\
- name: The host-local part of the diagnosis alone
  hosts: all
  gather_facts: false
  tasks:
    - name: Observe the host
      environment:
        TECRAX_MODULE_BUDGET_SECONDS: "{{ tecrax_module_budget_seconds }}"
      tecrax.ops.monitoring_host_local:
"""


def interleaved(variants: dict[str, Callable[[], None]], runs: int) -> dict[str, list[float]]:
    """Wall seconds of every run of every variant (lab_bench.rounds)."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for name, action in rounds(variants, runs):
        started = time.perf_counter()
        action()
        samples[name].append(time.perf_counter() - started)
    return samples


def main() -> int:
    with bench_lab(__doc__, 7, "tecrax-bench-") as (runs, lab, work):
        zabbix = lab.add_host("zabbix", flavor=zl.ZABBIX_FLAVOR)
        zl.ZabbixLabApi(zabbix.address).wait_ready()
        standins, pki = sl.boot_services_host(lab, "standins", work / "pki")
        ml.serve_ntp(lab, standins)
        host = ml.boot_monitoring_host(lab, "mon-bench", standins)
        settings = {
            "zabbix": {"api_url": f"http://{zabbix.address}{zl.API_PATH}", "timeout_seconds": 5},
            "adguard": {"dns_server": standins.address, "query_name": sl.PROBE_NAME,
                        "web_url": f"http://{standins.address}", "timeout_seconds": 3},
            "portainer": {"base_url": f"https://{standins.address}:{sl.PORTAINER_PORT}",
                          "ca_file": str(pki.ca_file), "timeout_seconds": 5},
        }
        environment = write_environment(
            work / "environment.yaml", [], known_hosts=lab.known_hosts,
            policy=allow_read_policy(["collect_basic_host_inventory", "diagnose_monitoring_host"]),
            connector={"inventory": {TARGET: {"host": host.address, "port": host.port,
                                              **json.loads(json.dumps(settings))}}})
        document = yaml.safe_load(environment.read_text())
        document["environment"]["targets"] = {TARGET: {"type": "host", "criticality": "low"}}
        environment.write_text(yaml.safe_dump(document, sort_keys=False))
        governed = Governed(work / "rexecop", lab.private_key)

        def governed_run(intent: str, check: Callable[[Any], None] | None = None) -> Callable[[], None]:
            def run() -> None:
                outcome = governed.run(environment, intent, TARGET)
                if outcome.state != "completed":
                    raise SystemExit(f"{intent} ended {outcome.state}: {outcome.validation or outcome.last_failure}")
                if check is not None:
                    check(outcome)
            return run

        def all_healthy(outcome: Any) -> None:
            diagnosis = outcome.facts["monitoring_host_diagnosis"]
            if diagnosis["assessment"]["state"] != "healthy":
                raise SystemExit(f"the bench host is not healthy: {diagnosis['assessment']}")

        inventory, ansible_env = plain_ansible(lab, work)
        extravars = work / "extravars.json"
        extravars.write_text(json.dumps({**{f"tecrax_{name}": value for name, value in settings.items()},
                                         "tecrax_module_budget_seconds": BUDGET_SECONDS}))
        host_part = work / "host_part.yml"
        host_part.write_text(HOST_PART)

        def playbook_run(playbook: str) -> Callable[[], None]:
            argv = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory),
                    "--limit", "mon-bench", "-e", f"@{extravars}", playbook]

            def run() -> None:
                completed = subprocess.run(argv, env=ansible_env, capture_output=True, text=True, check=False)
                if completed.returncode != 0:
                    raise SystemExit(f"ansible-playbook failed: {completed.stdout[-2000:]}{completed.stderr[-1000:]}")
            return run

        from ansible_collections.tecrax.ops.plugins.module_utils.common.observation_set import observe_concurrently
        from ansible_collections.tecrax.ops.plugins.module_utils.services.adguard_facts import adguard_probe
        from ansible_collections.tecrax.ops.plugins.module_utils.services.portainer_facts import portainer_probe
        from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_module import reachability_probe

        def probes() -> dict[str, Callable[[], Any]]:
            return {"zabbix_api": reachability_probe(settings["zabbix"]), "adguard": adguard_probe(settings["adguard"]),
                    "portainer": portainer_probe(settings["portainer"])}

        def probes_parallel() -> None:
            observe_concurrently(probes(), time.monotonic() + 30)

        def probes_serial() -> None:
            for probe in probes().values():
                probe()

        samples = interleaved({
            "inventory": governed_run("collect_basic_host_inventory"),
            "diagnosis": governed_run("diagnose_monitoring_host", all_healthy),
            "playbook": playbook_run("tecrax.ops.monitoring_host_diagnosis"),
            "host_part": playbook_run(str(host_part)),
            "probes_parallel": probes_parallel,
            "probes_serial": probes_serial,
        }, runs)
        ml.restore(lab, host)
        lab.stop_host(zabbix, force=True)

    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(f"monitoring host diagnosis on one lab host, {runs} interleaved rounds (after one warm-up)")
    print(f"{'variant':<16} {'median s':>9} {'min s':>7} {'max s':>7} {'x inventory':>12}")
    for name, values in samples.items():
        print(f"{name:<16} {medians[name]:9.3f} {min(values):7.3f} {max(values):7.3f} "
              f"{medians[name] / medians['inventory']:12.2f}")
    ratios = {
        "diagnosis_over_inventory": medians["diagnosis"] / medians["inventory"],
        "playbook_over_host_part": medians["playbook"] / medians["host_part"],
        "serial_probes_over_parallel": medians["probes_serial"] / medians["probes_parallel"],
    }
    print(json.dumps({"medians_seconds": {k: round(v, 4) for k, v in medians.items()},
                      "ratios": {k: round(v, 2) for k, v in ratios.items()}}))
    return 0 if ratios["diagnosis_over_inventory"] <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
