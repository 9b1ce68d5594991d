"""Benchmark: one host inventory several ways, on the same lab host, in one interleaved run.

  governed   `tecrax run collect_basic_host_inventory` (plan, GovEngine admission, start, one
             ansible-runner run, schema check, validation, SCLite bundle and its verification):
             what an operator pays for governance and evidence
  cold       `tecrax run` with TECRAX_WARM_START=0: the playbook launcher is started only when
             the backend runs the step, not warmed while RExecOp plans and GovEngine admits
  no-reuse   `tecrax run` with the connector's `ssh_control_persist_seconds: 0`: a fresh SSH
             connection every run (what governed runs did before connection reuse)
  rexecop    the same operation through the `rexecop` command: `plan`, then `start` (two
             processes)
  playbook   the same module via plain `ansible-playbook tecrax.ops.host_inventory`
             (pipelining on, fact gathering off, Ansible's default SSH ControlPersist)
  launcher   the same command through `tecrax-ansible-playbook`, the launcher governed runs
             use (ansible-playbook with its garbage collector set for a short run)
  ssh        one plain `ssh` running the equivalent commands over a fresh connection: the floor
  ssh-mux    the same through an SSH master kept open by the benchmark: the floor with a
             reused connection
  compare    with --compare-venv [LABEL=]DIR (repeatable): `tecrax run` of the tecrax installed in
             DIR (for example an earlier commit), named LABEL, against the same host and
             environment
  reference  with --reference-venv DIR: the older reference package (tecrax 0.3.11a0 from the
             package index, installed in DIR) running its own collect_basic_host_inventory
             (seven ssh_readonly steps) through `rexecop plan` and `rexecop start`

Each round runs every variant once, in a fixed order, so a change of machine load hits all
of them alike; medians, min and max over the rounds, CPU seconds of the whole process tree
(user + system, from wait4), their ratios to plain ansible-playbook, the largest resident set
and the machine's load average at each round. --variants times only the named ones (and
playbook). With --phases N, N more governed runs per tecrax build are made by an instrumented
child process that reports where their time went.

Run as root from the repository root (it boots one lab host and tears it down):
  python bench/bench_inventory.py [--runs 9] [--phases 5] [--compare-venv [LABEL=]DIR ...]
      [--reference-venv DIR] [--variants governed,playbook,...]
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent / "tests"), str(BENCH.parent / "tests" / "integration")]

from lab_bench import LoadAverage, compare_venv, labelled, selected  # noqa: E402
from harness import IDENTITY_REF, LabTarget, write_environment  # noqa: E402
from lab import Lab  # noqa: E402

import tecrax  # noqa: E402

INTENT = "collect_basic_host_inventory"
BUILT_IN = ["governed", "cold", "no-reuse", "rexecop", "playbook", "launcher", "ssh", "ssh-mux"]
EQUIVALENT_COMMANDS = (
    "cat /etc/os-release; uname -srm; hostname; cat /proc/uptime /proc/loadavg; "
    "df -P -k /; cat /proc/meminfo"
)
REFERENCE_COMMANDS = {
    "read_os_release": ("cat", ["/etc/os-release"]),
    "read_kernel_identity": ("uname", ["-srm"]),
    "read_hostname": ("hostname", []),
    "read_uptime": ("uptime", []),
    "read_load_average": ("cat", ["/proc/loadavg"]),
    "read_filesystem_usage": ("df", ["-P", "/"]),
    "read_memory_summary": ("free", ["-m"]),
}


@dataclass
class Samples:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    max_rss_kib: int = 0


@dataclass(frozen=True)
class Measured:
    wall: float
    cpu: float
    max_rss_kib: int
    stdout: str


def measure(argv: Sequence[str], env: dict[str, str]) -> Measured:
    """Run ``argv`` to its end; wall time, CPU of it and every child it waited for."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(list(argv), env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"{argv[0]} exited {process.returncode}: {text[-3000:]}")
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, text)


def sequence(*steps: Callable[[], Measured]) -> Callable[[], Measured]:
    """Variants of several commands (plan, then start): their times and CPU add up."""

    def run() -> Measured:
        results = [step() for step in steps]
        return Measured(sum(r.wall for r in results), sum(r.cpu for r in results),
                        max(r.max_rss_kib for r in results), results[-1].stdout)

    return run


def rexecop_variant(rexecop: Path, root: Path, env_file: Path, target: str, mode: str,
                    env: dict[str, str]) -> Callable[[], Measured]:
    operation: list[str] = []

    def plan() -> Measured:
        result = measure([str(rexecop), "--root", str(root), "plan", "--profile", "tecrax", "--env", str(env_file),
                          "--intent", INTENT, "--target", target, "--mode", mode], env)
        operation[:] = [result.stdout.strip().splitlines()[-1]]
        return result

    def start() -> Measured:
        result = measure([str(rexecop), "--root", str(root), "start", "--operation", operation[0]], env)
        state = json.loads(result.stdout[result.stdout.index("{"):])["state"]
        if state != "completed":
            raise SystemExit(f"{rexecop} start ended {state}")
        return result

    return sequence(plan, start)


def reference_environment(path: Path, host: Any, known_hosts: Path) -> Path:
    """An environment for the reference package's profile: its monitoring_host connector over
    RExecOp's ssh_readonly backend, strict host keys, the lab's key."""
    connector = {
        "enabled": True, "backend": "ssh_readonly", "host": host.address, "user": "root", "port": host.port,
        "known_hosts_policy": "strict", "known_hosts_file": str(known_hosts),
        "identity_file_secret_ref": IDENTITY_REF, "timeout_seconds": 60,
        "allowlist": [{"action": action, "command": command, "args": args}
                      for action, (command, args) in REFERENCE_COMMANDS.items()],
    }
    policy = {"policy_id": "reference-bench", "version": "1", "rules": [
        {"rule_id": "allow-read-operations", "effect": "allow_with_obligations",
         "conditions": {"action.category": "operation", "action.mode": "read"}, "reason_code": "read_allowed",
         "obligations": [{"obligation_id": "receipt", "kind": "receipt"},
                         {"obligation_id": "output-digests", "kind": "output_digest_required"}]},
        {"rule_id": "allow-ssh-readonly", "effect": "allow",
         "conditions": {"action.category": "connector", "action.mode": "read", "action.backend": "ssh_readonly",
                        "action.connector": "monitoring_host"}, "reason_code": "readonly_ssh_allowed"},
    ]}
    document = {"environment": {
        "id": "tecrax-reference-bench", "description": "The reference package on a lab host.", "profile": "tecrax",
        "targets": {host.name: {"type": "host", "criticality": "low"}},
        "connectors": {"monitoring_host": connector},
        "safety": {"default_mode": "dry_run", "apply_requires_govengine": True, "secrets_source": "external",
                   "max_concurrent_operations": 1, "target_lock_enabled": True},
        "policy_pack": policy,
    }}
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def phase_profiles(pythons: dict[str, Path], argv: Sequence[str], env: dict[str, str],
                   runs: int) -> dict[str, dict[str, float]]:
    """Median seconds per phase of ``runs`` governed runs of each tecrax (by the interpreter of
    its venv), made by an instrumented child and interleaved like the timed rounds."""
    probe = str(BENCH / "governed_phases.py")
    reports: dict[str, list[dict[str, float]]] = {label: [] for label in pythons}
    for _ in range(runs):
        for label, python in pythons.items():
            started = time.perf_counter()
            result = measure([str(python), probe, *argv], env)
            total = time.perf_counter() - started
            report = json.loads(result.stdout.strip().splitlines()[-1])
            phases = report["phases"]
            phases["interpreter start and exit"] = total - report["elapsed"]
            phases["total"] = total
            phases["CPU: tecrax process"] = report["cpu_self"]
            phases["CPU: processes it waited for"] = report["cpu_children"]
            reports[label].append(phases)
    return {
        label: {name: statistics.median(each.get(name, 0.0) for each in runs_of) for name in runs_of[0]}
        for label, runs_of in reports.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9, help="timed rounds (each runs every variant once)")
    parser.add_argument("--phases", type=int, default=0, help="instrumented governed runs for the phase table")
    parser.add_argument("--compare-venv", type=compare_venv, action="append", default=[], metavar="[LABEL=]DIR",
                        help="a venv with another tecrax build to time beside this one (repeatable)")
    parser.add_argument("--reference-venv", type=Path, help="a venv holding tecrax 0.3.11a0 (the reference package)")
    parser.add_argument("--variants", help=f"only these of {', '.join(BUILT_IN)}, comma-separated (playbook is "
                        "always timed, and so are the builds of --compare-venv and --reference-venv)")
    args = parser.parse_args()
    compared = labelled(args.compare_venv)
    bin_dir = Path(sys.executable).parent

    with Lab() as lab, tempfile.TemporaryDirectory(prefix="tecrax-bench-") as scratch:
        work = Path(scratch)
        (host,) = lab.boot(["bench"])
        env_file = write_environment(
            work / "environment.yaml", [LabTarget(host.name, host.address, host.port)], known_hosts=lab.known_hosts
        )
        env = {**os.environ, f"REXECOP_SECRET_{IDENTITY_REF.upper()}": str(lab.private_key)}

        fresh_env_file = write_environment(
            work / "no-reuse.yaml", [LabTarget(host.name, host.address, host.port)], known_hosts=lab.known_hosts,
            connector={"ssh_control_persist_seconds": 0},
        )

        def tecrax_run(tecrax_bin: Path, root: Path, environment: Path = env_file,
                       extra_env: dict[str, str] | None = None) -> Callable[[], Measured]:
            argv = [str(tecrax_bin), "run", INTENT, "--env", str(environment), "--target", host.name, "--root", str(root)]
            return lambda: measure(argv, {**env, **(extra_env or {})})

        collections = work / "collections" / "ansible_collections" / "tecrax"
        collections.mkdir(parents=True)
        (collections / "ops").symlink_to(tecrax.collection_root())
        empty_config = work / "ansible.cfg"
        empty_config.write_text("[defaults]\n")
        ansible_env = {**env, "ANSIBLE_COLLECTIONS_PATH": str(work / "collections"), "ANSIBLE_PIPELINING": "True",
                       "ANSIBLE_GATHERING": "explicit", "ANSIBLE_CONFIG": str(empty_config),
                       "ANSIBLE_HOME": str(work / "ansible-home")}
        playbook = [str(bin_dir / "ansible-playbook"), "-i", str(lab.write_inventory(work / "inventory.yml")),
                    "--limit", host.name, "tecrax.ops.host_inventory"]
        ssh_options = ["-F", "none", "-i", str(lab.private_key), "-o", f"UserKnownHostsFile={lab.known_hosts}",
                       "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-p", str(host.port)]
        mux = ["-o", "ControlMaster=auto", "-o", "ControlPersist=600",
               "-o", f"ControlPath={work}/mux-%C"]
        destination = f"root@{host.address}"

        variants: dict[str, Callable[[], Measured]] = {
            "governed": tecrax_run(bin_dir / "tecrax", work / "governed"),
            "cold": tecrax_run(bin_dir / "tecrax", work / "cold", extra_env={"TECRAX_WARM_START": "0"}),
            "no-reuse": tecrax_run(bin_dir / "tecrax", work / "no-reuse", fresh_env_file),
            "rexecop": rexecop_variant(bin_dir / "rexecop", work / "rexecop", env_file, host.name, "observe", env),
            "playbook": lambda: measure(playbook, ansible_env),
            "launcher": lambda: measure([str(bin_dir / "tecrax-ansible-playbook"), *playbook[1:]], ansible_env),
            "ssh": lambda: measure(["ssh", *ssh_options, destination, EQUIVALENT_COMMANDS], env),
            "ssh-mux": lambda: measure(["ssh", *ssh_options, *mux, destination, EQUIVALENT_COMMANDS], env),
        }
        for label, venv in compared.items():
            variants[label] = tecrax_run(venv / "bin" / "tecrax", work / label)
        if args.reference_venv:
            reference_env = reference_environment(work / "reference.yaml", host, lab.known_hosts)
            variants["reference"] = rexecop_variant(args.reference_venv / "bin" / "rexecop", work / "reference",
                                                    reference_env, host.name, "dry_run", env)

        # --variants picks among the built-in variants; other builds are timed when given.
        keep = {*selected(BUILT_IN, args.variants), "playbook", *compared, "reference"}
        variants = {name: action for name, action in variants.items() if name in keep}
        samples = {name: Samples() for name in variants}
        load = LoadAverage()
        for action in variants.values():
            action()  # warm-up: page cache, bytecode, the first SSH masters
        for _ in range(args.runs):
            load.sample()
            for name, action in variants.items():
                result = action()
                samples[name].wall.append(result.wall)
                samples[name].cpu.append(result.cpu)
                samples[name].max_rss_kib = max(samples[name].max_rss_kib, result.max_rss_kib)

        # The benchmark's own master (the governed runs' masters end with the host: keepalives).
        subprocess.run(["ssh", *ssh_options, *mux, "-O", "exit", destination], capture_output=True, check=False)
        governed_argv = ["run", INTENT, "--env", str(env_file), "--target", host.name, "--root", str(work / "phases")]
        pythons = {"governed": Path(sys.executable)}
        pythons.update({label: venv / "bin" / "python" for label, venv in compared.items()})
        phases = phase_profiles(pythons, governed_argv, env, args.phases) if args.phases else {}

    report(samples, phases, args.runs, load)
    return 0


def report(samples: dict[str, Samples], phases: dict[str, dict[str, float]], runs: int, load: LoadAverage) -> None:
    medians = {name: statistics.median(s.wall) for name, s in samples.items()}
    cpu = {name: statistics.median(s.cpu) for name, s in samples.items()}
    print(f"host inventory on one lab host, {runs} interleaved rounds (after one warm-up round)")
    print(load.summary())
    print(f"{'variant':<10} {'median s':>9} {'min s':>7} {'max s':>7} {'CPU s':>6} {'max RSS MiB':>12} "
          f"{'x ssh':>6} {'x playbook':>11} {'CPU x playbook':>15}")
    for name, s in samples.items():
        versus_ssh = f"{medians[name] / medians['ssh']:6.1f}" if "ssh" in medians else f"{'':>6}"
        print(f"{name:<10} {medians[name]:9.3f} {min(s.wall):7.3f} {max(s.wall):7.3f} "
              f"{cpu[name]:6.2f} {s.max_rss_kib / 1024:12.0f} "
              f"{versus_ssh} {medians[name] / medians['playbook']:11.2f} {cpu[name] / cpu['playbook']:15.2f}")
    if phases:
        labels = list(phases)
        print("\nwhere a governed run's time goes (medians, seconds)")
        print(f"  {'phase':<64}" + "".join(f"{label:>10}" for label in labels))
        for name in phases[labels[0]]:
            print(f"  {name:<64}" + "".join(f"{phases[label].get(name, 0.0):10.3f}" for label in labels))
    print(json.dumps({
        "medians_seconds": {name: round(value, 4) for name, value in medians.items()},
        "ratio_to_playbook": {name: round(value / medians["playbook"], 3) for name, value in medians.items()},
        "cpu_seconds": {name: round(value, 3) for name, value in cpu.items()},
        "cpu_ratio_to_playbook": {name: round(value / cpu["playbook"], 3) for name, value in cpu.items()},
        "load_average": load.as_dict(),
        "phases": {label: {name: round(value, 4) for name, value in table.items()} for label, table in phases.items()},
    }))


if __name__ == "__main__":
    sys.exit(main())
