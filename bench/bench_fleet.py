"""Benchmark: one host inventory over a fleet of 10 lab hosts, several ways, in one run.

  group       `tecrax run collect_basic_host_inventory --target fleet`: one governed operation
              over the group (one admission, one ansible-runner run with forks 10, per-host
              facts, validation, SCLite bundle and its verification)
  single      the same command on one member: the governed single-host run
  sequential  10 `tecrax run`s, one per host, one after the other
  playbook    plain `ansible-playbook --forks 10 tecrax.ops.host_inventory` over the 10 hosts
  playbook-1  the same playbook on one host: how plain Ansible itself scales from 1 to 10 hosts
  playbook-nocp  the 10-host playbook with the governed run's SSH settings (ControlMaster=no):
              plain Ansible's default ControlPersist=60s keeps each host's SSH master from the
              previous run, so `playbook` reuses warm connections and this variant does not
  node        the group operation with the step run by `ansible-runner worker` on an 11th lab
              host (execution_node), the module from there to the 10 hosts
  group@LABEL, single@LABEL
              with --compare-venv LABEL=DIR (repeatable): `group` and `single` with the tecrax
              installed in DIR (an earlier commit, say)

Rounds are interleaved (each round runs every variant once, in a rotating order), so slow
phases of the machine hit every variant alike. Besides wall time, each run's CPU time is
split into the controller's (the command and everything it started: getrusage of the
children) and the lab hosts' (their cgroups' cpu.stat): the lab hosts share the controller's
cores, so every module run on a target costs the machine too. Ratios are given by wall time
and by controller CPU; the machine's load average is read at each round. After the timed
rounds, one more run of `group` and of `playbook` is sampled for the controller's peak memory:
the sum of the proportional set size (Pss) of every process of the run, read every 25 ms.

Run as root from the repository root:
  python bench/bench_fleet.py [--runs 5] [--variants group,single,playbook] [--compare-venv LABEL=DIR ...]
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from lab_bench import LoadAverage, bench_lab, bench_parser, compare_venv, labelled, plain_ansible, rounds, selected

from harness import IDENTITY_REF, LabTarget, write_environment  # noqa: E402 (lab_bench puts tests/ on sys.path)
from lab.cgroups import host_cgroups  # noqa: E402
from node_lab import EXECUTION_NODE_FLAVOR, NODE_RUNNER  # noqa: E402

INTENT = "collect_basic_host_inventory"
HOSTS = [f"fleet-{index:02d}" for index in range(1, 11)]
BUILT_IN = ["group", "single", "sequential", "playbook", "playbook-1", "playbook-nocp", "node"]
# The ratios' denominators, always timed.
BASELINES = ("single", "playbook")
GROUP = "fleet"
SAMPLE_SECONDS = 0.025


def check(completed: subprocess.CompletedProcess[str], what: str) -> None:
    if completed.returncode != 0:
        output = completed.stdout[-1500:] + completed.stderr[-1500:]
        raise SystemExit(f"{what} failed ({completed.returncode}): {output}")


def peak_pss_mib(argv: list[str], env: dict[str, str]) -> float:
    """Run ``argv``; the peak of the summed Pss of it and all its descendants, in MiB."""
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, sum(_pss_kib(pid) for pid in _tree(process.pid)))
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample)
    sampler.start()
    process.wait()
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{argv[0]} exited {process.returncode} in the memory run")
    return peak / 1024


def _tree(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def controller_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def hosts_cpu_seconds(cpu_stats: list[Path]) -> float:
    total = 0
    for path in cpu_stats:
        for line in path.read_text().splitlines():
            if line.startswith("usage_usec "):
                total += int(line.split()[1])
    return total / 1e6


def main() -> int:
    parser = bench_parser(__doc__, 5)
    parser.add_argument("--variants", help=f"only these of {', '.join(BUILT_IN)}, comma-separated (single and "
                        "playbook are always timed, and so are the builds of --compare-venv)")
    parser.add_argument("--compare-venv", type=compare_venv, action="append", default=[], metavar="LABEL=DIR",
                        help="a venv with another tecrax build: its group and single runs are timed too")
    args = parser.parse_args()
    compared = labelled(args.compare_venv)
    wanted = {*selected(BUILT_IN, args.variants), *BASELINES}
    with bench_lab(__doc__, 5, "tecrax-bench-fleet-", args) as (runs, lab, work):
        hosts = lab.boot(HOSTS)
        (node,) = lab.boot(["fleet-node"], flavor=EXECUTION_NODE_FLAVOR)
        targets = [LabTarget(host.name, host.address, host.port) for host in hosts]
        env = write_environment(work / "environment.yaml", targets, known_hosts=lab.known_hosts,
                                groups={GROUP: HOSTS}, connector={"forks": 10})
        node_env = write_environment(work / "node.yaml", targets, known_hosts=lab.known_hosts, groups={GROUP: HOSTS},
                                     connector={"forks": 10, "execution_node": {"host": node.address,
                                                                                 "ansible_runner": NODE_RUNNER}})
        tecrax_env = {**os.environ, f"REXECOP_SECRET_{IDENTITY_REF.upper()}": str(lab.private_key)}
        tecrax_cmd = str(Path(sys.executable).with_name("tecrax"))

        def tecrax_run(environment: Path, target: str, command: str = tecrax_cmd) -> list[str]:
            return [command, "run", INTENT, "--env", str(environment), "--target", target,
                    "--root", str(work / "rexecop"), "--json"]

        def run(argv: list[str], what: str, env_vars: dict[str, str]) -> None:
            check(subprocess.run(argv, env=env_vars, capture_output=True, text=True, check=False), what)

        inventory, ansible_env = plain_ansible(lab, work)
        playbook = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory), "--forks", "10",
                    "--limit", ",".join(HOSTS), "tecrax.ops.host_inventory"]

        def sequential() -> None:
            for host in HOSTS:
                run(tecrax_run(env, host), "sequential", tecrax_env)

        variants: dict[str, Callable[[], None]] = {
            "group": lambda: run(tecrax_run(env, GROUP), "group", tecrax_env),
            "single": lambda: run(tecrax_run(env, HOSTS[0]), "single", tecrax_env),
            "sequential": sequential,
            "playbook": lambda: run(playbook, "playbook", ansible_env),
            "playbook-1": lambda: run([*playbook[:-2], HOSTS[0], playbook[-1]], "playbook-1", ansible_env),
            "playbook-nocp": lambda: run(playbook, "playbook-nocp", {**ansible_env, "ANSIBLE_SSH_ARGS": (
                f"-o UserKnownHostsFile={lab.known_hosts} -o StrictHostKeyChecking=yes -o BatchMode=yes "
                "-o ControlMaster=no")}),
            "node": lambda: run(tecrax_run(node_env, GROUP), "node", tecrax_env),
        }
        variants = {name: action for name, action in variants.items() if name in wanted}
        for label, venv in compared.items():
            command = str(venv / "bin" / "tecrax")
            variants[f"group@{label}"] = (lambda c=command, w=f"group@{label}": run(tecrax_run(env, GROUP, c), w,
                                                                                    tecrax_env))
            variants[f"single@{label}"] = (lambda c=command, w=f"single@{label}": run(tecrax_run(env, HOSTS[0], c),
                                                                                      w, tecrax_env))
        bridge = lab.describe()["bridge"]
        cpu_stats = [cgroup / "cpu.stat" for host in [*hosts, node] for cgroup in host_cgroups(f"{bridge}-{host.name}")
                     if (cgroup / "cpu.stat").is_file()]
        samples: dict[str, list[float]] = {name: [] for name in variants}
        controller_cpu: dict[str, list[float]] = {name: [] for name in variants}
        hosts_cpu: dict[str, list[float]] = {name: [] for name in variants}
        load = LoadAverage()
        for index, (name, action) in enumerate(rounds(variants, runs)):
            if index % len(variants) == 0:
                load.sample()
            cpu, host_cpu, started = controller_cpu_seconds(), hosts_cpu_seconds(cpu_stats), time.perf_counter()
            action()
            samples[name].append(time.perf_counter() - started)
            controller_cpu[name].append(controller_cpu_seconds() - cpu)
            hosts_cpu[name].append(hosts_cpu_seconds(cpu_stats) - host_cpu)
        memory = {
            "group": peak_pss_mib(tecrax_run(env, GROUP), tecrax_env),
            "playbook": peak_pss_mib(playbook, ansible_env),
        }

    medians = {name: statistics.median(values) for name, values in samples.items()}
    cpu = {name: statistics.median(values) for name, values in controller_cpu.items()}
    print(f"host inventory over {len(HOSTS)} lab hosts, {runs} interleaved rounds (after one warm-up run each)")
    print(load.summary())
    print(f"{'variant':<16} {'median s':>9} {'min s':>7} {'max s':>7} {'x single':>9} {'x playbook':>11} "
          f"{'ctl cpu s':>10} {'cpu x single':>13} {'cpu x playbook':>15} {'hosts cpu s':>12}")
    for name, values in samples.items():
        # A compared build's group is set against its own single run.
        single = f"single@{name.split('@', 1)[1]}" if "@" in name else "single"
        print(f"{name:<16} {medians[name]:9.3f} {min(values):7.3f} {max(values):7.3f} "
              f"{medians[name] / medians[single]:9.2f} {medians[name] / medians['playbook']:11.2f} "
              f"{cpu[name]:10.2f} {cpu[name] / cpu[single]:13.2f} {cpu[name] / cpu['playbook']:15.2f} "
              f"{statistics.median(hosts_cpu[name]):12.2f}")
    if "sequential" in medians and "group" in medians:
        print(f"group vs 10 sequential runs: {medians['sequential'] / medians['group']:.1f}x faster")
    print(f"peak controller memory (Pss, MiB): group {memory['group']:.0f}, playbook {memory['playbook']:.0f}")
    print(json.dumps({"medians_seconds": {k: round(v, 4) for k, v in medians.items()},
                      "controller_cpu_seconds": {k: round(v, 3) for k, v in cpu.items()},
                      "hosts_cpu_seconds": {k: round(statistics.median(v), 3) for k, v in hosts_cpu.items()},
                      "peak_pss_mib": {k: round(v, 1) for k, v in memory.items()},
                      "load_average": load.as_dict()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
