"""Benchmark: one host inventory three ways, on the same lab host, in one run.

  governed   collect_basic_host_inventory through RExecOp (plan + start, the real CLI) with
             the tecrax_ansible backend: what an operator pays for governance and evidence
  playbook   the same module via plain `ansible-playbook tecrax.ops.host_inventory`
  ssh        one plain `ssh` running the equivalent commands: the floor

Prints per-variant medians and the ratios against the floor and against plain Ansible.
Run as root from the repository root:  python bench/bench_inventory.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "integration")]

from harness import Governed, LabTarget, write_environment  # noqa: E402
from lab import Lab  # noqa: E402

import tecrax  # noqa: E402

EQUIVALENT_COMMANDS = (
    "cat /etc/os-release; uname -srm; hostname; cat /proc/uptime /proc/loadavg; "
    "df -P -k /; cat /proc/meminfo"
)


def timed(action: Callable[[], None], runs: int) -> list[float]:
    action()  # warm-up: page cache, first SSH handshake, Python bytecode
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    with Lab() as lab, tempfile.TemporaryDirectory(prefix="tecrax-bench-") as scratch:
        work = Path(scratch)
        (host,) = lab.boot(["bench"])
        env = write_environment(
            work / "environment.yaml", [LabTarget(host.name, host.address, host.port)], known_hosts=lab.known_hosts
        )
        governed = Governed(work / "rexecop", lab.private_key)

        def governed_run() -> None:
            operation_id = governed.plan(env, "collect_basic_host_inventory", host.name)
            state = governed.start(operation_id)
            if state != "completed":
                raise SystemExit(f"governed run ended {state}")

        collections = work / "collections" / "ansible_collections" / "tecrax"
        collections.mkdir(parents=True)
        (collections / "ops").symlink_to(tecrax.collection_root())
        inventory = lab.write_inventory(work / "inventory.yml")
        empty_config = work / "ansible.cfg"
        empty_config.write_text("[defaults]\n")
        ansible_env = {
            **os.environ,
            "ANSIBLE_COLLECTIONS_PATH": str(work / "collections"),
            "ANSIBLE_PIPELINING": "True",
            "ANSIBLE_GATHERING": "explicit",
            "ANSIBLE_CONFIG": str(empty_config),
        }
        playbook = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory),
                    "--limit", host.name, "tecrax.ops.host_inventory"]

        def playbook_run() -> None:
            completed = subprocess.run(playbook, env=ansible_env, capture_output=True, text=True, check=False)
            if completed.returncode != 0:
                raise SystemExit(f"ansible-playbook failed: {completed.stdout[-2000:]}{completed.stderr[-2000:]}")

        ssh = ["ssh", "-i", str(lab.private_key), "-o", f"UserKnownHostsFile={lab.known_hosts}",
               "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-p", str(host.port),
               f"root@{host.address}", EQUIVALENT_COMMANDS]

        def ssh_run() -> None:
            subprocess.run(ssh, check=True, capture_output=True)

        results = {
            "governed": timed(governed_run, args.runs),
            "playbook": timed(playbook_run, args.runs),
            "ssh": timed(ssh_run, args.runs),
        }

    medians = {name: statistics.median(samples) for name, samples in results.items()}
    print(f"host inventory on one lab host, {args.runs} runs each (after one warm-up run)")
    print(f"{'variant':<10} {'median s':>9} {'min s':>7} {'max s':>7} {'x ssh':>7} {'x playbook':>11}")
    for name, samples in results.items():
        print(
            f"{name:<10} {medians[name]:9.3f} {min(samples):7.3f} {max(samples):7.3f} "
            f"{medians[name] / medians['ssh']:7.1f} {medians[name] / medians['playbook']:11.2f}"
        )
    print(json.dumps({"medians_seconds": {k: round(v, 4) for k, v in medians.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
