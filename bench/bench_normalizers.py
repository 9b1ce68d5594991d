"""Benchmark: the command-output normalizers on recorded and on hostile input, in one run.

  recorded     every recorded output in tests/unit/data, fed as the unit tests feed it
  hostile      each text field of a recorded input in turn given a 64 KiB line pattern
               (runs of dashes, braces, name characters, blanks, line breaks ...): as an
               extra line, as the value of each of the field's keys ("key=", "key:",
               "key -"), and as the whole field cut into 2047-character lines; the slowest
               case per normalizer is timed and named
  splitlines   str.splitlines() over the same text: the floor every line parser pays

Prints per-row medians and the ratio against the splitlines pass over the same bytes. A linear
parser keeps its ratio near the recorded one's; a quadratic pattern shows as a ratio in the
thousands (the ntpq and NTPMessage patterns took 11-26 s on 64 KiB before they were rewritten).
Normalizers read at most their bound of each output (64 KiB; apt 2 MiB), so with --kib above 64
the splitlines pass reads more than they do.
Pure Python, no lab, from the repository root:  .venv/bin/python bench/bench_normalizers.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "unit" / "data"


sys.path.insert(0, str(REPO / "tests"))
from unit.collection_link import link_collection  # noqa: E402

sys.path.insert(0, str(link_collection("tecrax-bench-")))

from ansible_collections.tecrax.ops.plugins.module_utils.ntp import chrony_ntp_server  # noqa: E402
from ansible_collections.tecrax.ops.plugins.module_utils.host import docker_service_health  # noqa: E402
from ansible_collections.tecrax.ops.plugins.module_utils.host import host_inventory  # noqa: E402
from ansible_collections.tecrax.ops.plugins.module_utils.host import host_security_posture  # noqa: E402
from ansible_collections.tecrax.ops.plugins.module_utils.network import network_device  # noqa: E402
from ansible_collections.tecrax.ops.plugins.module_utils.ntp import ntp_local_health  # noqa: E402
from ansible_collections.tecrax.ops.plugins.module_utils.ntp import ntp_server_health  # noqa: E402
from ansible_collections.tecrax.ops.plugins.module_utils.ntp import time_sync  # noqa: E402

KeyPath = tuple[Any, ...]  # keys from a raw input down to one of its text values


@dataclass(frozen=True)
class Workload:
    normalizer: str
    run: Callable[[Any], object]
    recorded: list[Any]


def read(*parts: str) -> str:
    return DATA.joinpath(*parts).read_text(encoding="utf-8", errors="replace")


# --- recorded inputs, as the unit tests build them -------------------------------------------

def host_inventory_inputs() -> list[dict[str, str]]:
    host = {key: read("host_inventory", "hosts", "debian-12", key) for key in host_inventory.RAW_KEY_OF.values()}
    inputs = [host]
    for folder, key in (("df", "df"), ("meminfo", "meminfo"), ("os_release", "os_release")):
        for path in sorted((DATA / "host_inventory" / folder).iterdir()):
            if path.suffix != ".free-m":
                inputs.append({**host, key: path.read_text(encoding="utf-8")})
    return inputs


# Recorded file name prefix -> the raw key whose probe output it is.
SECURITY_POSTURE_FILES = (("dpkg-status-", "dpkg_status"), ("apt-periodic-", "apt_periodic"), ("units-", "units"),
                          ("apt-simulate-", "apt_simulation"))


def security_posture_inputs() -> list[dict[str, Any]]:
    def probe(name: str) -> dict[str, Any]:
        return {"rc": 0, "out": read("host_security_posture", name)}

    good = {"dpkg_status": probe("dpkg-status-installed.txt"), "apt_periodic": probe("apt-periodic-debian-default.txt"),
            "units": probe("units-enabled.txt"), "apt_simulation": probe("apt-simulate-pending.txt"),
            "package_lists": {"files": 1, "age_seconds": 3600}, "randomize_va_space": "2\n", "dmesg_restrict": "1\n",
            "reboot_required": True, "reboot_required_pkgs": "linux-image-6.1.0-27-amd64\n"}
    inputs = [good]
    for path in sorted((DATA / "host_security_posture").glob("*.txt")):
        key = next(key for prefix, key in SECURITY_POSTURE_FILES if path.name.startswith(prefix))
        inputs.append({**good, key: probe(path.name)})
    return inputs


def docker_inputs() -> list[dict[str, Any]]:
    return [{"systemctl_show": {"rc": 0, "out": path.read_bytes()}}
            for path in sorted((DATA / "docker_service_health").glob("*.txt"))]


def network_inputs() -> list[dict[str, Any]]:
    inputs = []
    for case in sorted(path for path in (DATA / "network").iterdir() if path.is_dir()):
        raw = {"system_info": {"status": "ok", "exit_code": 0, "output": (case / "system-info.txt").read_bytes()},
               "ssh_status": {"status": "not_run"}}
        if (case / "ssh-status.txt").exists():
            raw["ssh_status"] = {"status": "ok", "exit_code": 0, "output": (case / "ssh-status.txt").read_bytes()}
        inputs.append(raw)
    return inputs


NTP_FILES = {"timedatectl": "timedatectl_show", "chrony_tracking": "chronyc_tracking",
             "chrony_serverstats": "chronyc_serverstats", "ntpq": "ntpq_rv", "timesync": "timesync_show",
             "udp_sockets": "proc_net_udp"}


def ntp_inputs() -> list[dict[str, Any]]:
    def command(directory: Path, name: str) -> dict[str, Any] | None:
        if not (directory / name).exists():
            return None
        rc_file = directory / (name + ".rc")
        rc = int(rc_file.read_text()) if rc_file.exists() else 0
        return {"rc": None if rc == 127 else rc, "output": (directory / name).read_text()}

    inputs = []
    units = [unit for candidates in time_sync.DAEMON_UNITS.values() for unit in candidates]
    for directory in sorted(path for path in (DATA / "ntp").iterdir() if path.is_dir()):
        raw: dict[str, Any] = {"units": {unit: command(directory, "unit." + unit) for unit in units}}
        for key, name in NTP_FILES.items():
            result = command(directory, name)
            if result is not None:
                raw[key] = result
        inputs.append(raw)
    return inputs


def chrony_server_inputs() -> list[dict[str, str]]:
    """What the chrony mutation's facts parse: the managed file, /proc/net/udp, chronyd -p, the unit."""
    managed = chrony_ntp_server.render(["10.20.0.0/16", "192.168.40.0/24"]).decode()  # secret-topology: allow subnet inputs of the bench
    server = DATA / "ntp" / "chrony-server-local-stratum"
    return [{"managed_file": managed, "config": managed, "udp": (server / "proc_net_udp").read_text(),
             "unit": (server / "unit.chrony.service").read_text()}]


def chrony_server_facts(raw: dict[str, str]) -> object:
    return (chrony_ntp_server.file_state(raw["managed_file"].encode()), chrony_ntp_server.allow_lines_in(raw["config"]),
            chrony_ntp_server.udp_listener_inodes(raw["udp"]), chrony_ntp_server.parse_systemctl_show(raw["unit"]))


def network_both(raw: dict[str, Any]) -> object:
    return network_device.normalize_inventory(raw), network_device.assess_posture(raw)


WORKLOADS = [
    Workload("host_inventory", host_inventory.normalize_host_inventory, host_inventory_inputs()),
    Workload("host_security_posture", host_security_posture.normalize_host_security_posture, security_posture_inputs()),
    Workload("docker_service_health", docker_service_health.normalize_docker_service_health, docker_inputs()),
    Workload("network_device (both)", network_both, network_inputs()),
    Workload("ntp_local_health", ntp_local_health.normalize_ntp_local_health, ntp_inputs()),
    Workload("ntp_server_observation", ntp_server_health.normalize_ntp_server_observation, ntp_inputs()),
    Workload("chrony_ntp_server facts", chrony_server_facts, chrony_server_inputs()),
]


# --- hostile inputs ---------------------------------------------------------------------------

# Line patterns, each repeated to fill the size; "lines" patterns are cut into lines of this length.
PATTERNS = {"dash": "-", "brace": "{", "name": "a", "pairs": "a=", "words": "a ", "blank": " ", "colons": ": ",
            "break": "\r"}
LINE_CHARS = 2047  # just under what network_device reads of one physical line
SHORTLIST = 3


def text_paths(raw: Any, path: KeyPath = ()) -> Iterator[KeyPath]:
    if isinstance(raw, dict):
        for key, value in raw.items():
            yield from text_paths(value, path + (key,))
    elif isinstance(raw, (str, bytes)):
        yield path


def get(raw: Any, path: KeyPath) -> Any:
    for key in path:
        raw = raw[key]
    return raw


def replaced(raw: Any, path: KeyPath, text: str) -> Any:
    if not path:
        return text
    return {**raw, path[0]: replaced(raw[path[0]], path[1:], text)}


def key_prefixes(text: str, limit: int = 16) -> list[str]:
    """The distinct "key=" / "key:" / "key -" starts of ``text``'s lines: where value parsers read."""
    found: dict[str, None] = {}
    for line in text.splitlines():
        cuts = [line.find(sep) + len(sep) for sep in ("=", ":", " - ") if sep in line]
        if cuts:
            found[line[:min(cuts)]] = None
    return list(found)[:limit]


def with_line(text: str, prefix: str, line: str) -> str:
    """``text`` with its first line starting with ``prefix`` replaced by ``line``, or with
    ``line`` appended when ``prefix`` is empty."""
    if not prefix:
        return text + "\n" + line + "\n"
    lines = text.splitlines()
    index = next(number for number, old in enumerate(lines) if old.startswith(prefix))
    return "\n".join(lines[:index] + [line] + lines[index + 1:]) + "\n"


def hostile_cases(workload: Workload, size: int) -> Iterator[tuple[str, Any]]:
    """Each text field of a recorded input given each pattern: as a line of its own, as the
    value of each of the field's keys, and as the whole field in lines of LINE_CHARS. The
    field is taken from the recorded input where it is longest (an empty output is usually
    one the normalizer does not parse)."""
    fields: dict[KeyPath, Any] = {}
    for raw in workload.recorded:
        for path in text_paths(raw):
            if path not in fields or len(get(raw, path)) > len(get(fields[path], path)):
                fields[path] = raw
    for path, raw in fields.items():
        value = get(raw, path)
        original = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        field = ".".join(str(key) for key in path)
        for name, unit in PATTERNS.items():
            for prefix in ["", *key_prefixes(original)]:
                line = prefix + unit * ((size - len(prefix)) // len(unit))
                hostile = with_line(original, prefix, line)
                yield f"{field}: {prefix.strip() or 'extra'} {name} line", replaced(raw, path, hostile)
            lines = "\n".join(unit * (LINE_CHARS // len(unit)) for _ in range(size // (LINE_CHARS + 1)))
            yield f"{field}: {name} lines", replaced(raw, path, lines)


# --- timing -----------------------------------------------------------------------------------

def texts(raw: Any) -> Iterator[str]:
    for path in text_paths(raw):
        value = get(raw, path)
        yield value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def splitlines_pass(raw: Any) -> None:
    for text in texts(raw):
        text.splitlines()


def once(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_of(action: Callable[[], object], runs: int) -> float:
    action()  # warm-up: compiled patterns, caches
    return statistics.median([once(action) for _attempt in range(runs)])


def run_all(raws: list[Any], run: Callable[[Any], object]) -> Callable[[], None]:
    def action() -> None:
        for raw in raws:
            run(raw)

    return action


def slowest_case(workload: Workload, size: int, runs: int) -> tuple[str, Any, int]:
    """The label and input of the slowest hostile case, and how many cases there were. One
    pass over every case shortlists the slowest; the median of each of those decides (a
    single sample may be a garbage-collection pause)."""
    cases = list(hostile_cases(workload, size))
    shortlist = sorted(cases, key=lambda case: once(lambda: workload.run(case[1])))[-SHORTLIST:]
    label, raw = max(shortlist, key=lambda case: median_of(lambda: workload.run(case[1]), runs))
    return label, raw, len(cases)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--kib", type=int, default=64, help="size of each hostile input (default 64 KiB)")
    args = parser.parse_args()
    if args.runs < 1 or not 1 <= args.kib <= 4096:
        parser.error("--runs must be at least 1 and --kib between 1 and 4096")
    size = args.kib * 1024

    rows: list[tuple[Workload, str, list[Any]]] = []
    for workload in WORKLOADS:
        rows.append((workload, f"recorded ({len(workload.recorded)} inputs)", workload.recorded))
        label, worst, count = slowest_case(workload, size, args.runs)
        rows.append((workload, f"worst of {count}: {label}", [worst]))

    print(f"normalizers, medians of {args.runs} runs (after one warm-up); hostile inputs {args.kib} KiB")
    print(f"{'normalizer':<24} {'input':<56} {'KiB':>7} {'median ms':>10} {'splitlines ms':>14} {'x splitlines':>13}")
    results = {}
    for workload, label, raws in rows:
        kib = sum(len(text) for raw in raws for text in texts(raw)) / 1024
        median = median_of(run_all(raws, workload.run), args.runs)
        floor = median_of(run_all(raws, splitlines_pass), args.runs)
        ratio = median / floor if floor else float("inf")
        print(f"{workload.normalizer:<24} {label[:56]:<56} {kib:7.1f} {median * 1000:10.2f} {floor * 1000:14.3f}"
              f" {ratio:13.0f}")
        results[f"{workload.normalizer} | {label}"] = round(median, 5)
    print(json.dumps({"medians_seconds": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
