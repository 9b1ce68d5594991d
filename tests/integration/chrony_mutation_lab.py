"""Lab support for the chrony NTP server mutation tests (configure / plan / rollback).

Uses only the lab's public API (lab.Lab, lab.write_file) and the NTP lab helpers.

Private client subnet: chrony's allow lines must name RFC 1918 networks, and lab hosts live
in 198.18.0.0/15. A /24 of 10.0.0.0/8 that no route on this machine touches is picked at
run time (:func:`pick_private_subnet`) and given to the test hosts' ``host0`` as a second
address, inside their own network namespaces only: the lab bridge forwards between the
veths at layer 2, the machine itself gets no address or route in it, and nothing outside
the lab can see it. No private address is written into a committed file.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import random
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness import Governed, LabTarget, connector_rule, operation_rule, write_environment
from lab import Host, Lab, LabError, chroot_run, chroot_session, write_file
from ntp_lab import CHRONY_CONF, wait_for_chrony_source, write_host_file

INTENT = "configure_chrony_ntp_server"
PLAN_INTENT = "plan_chrony_ntp_server"
MANAGED_FILE = "/etc/chrony/conf.d/tecrax-ntp-server.conf"
STATE_DIR = "/var/lib/tecrax/chrony-ntp-server"
SERVER_STRATUM = 8
PRIVATE_POOL = ipaddress.IPv4Network("10.0.0.0/8")
HEADER = (
    "# Managed by Tecrax (tecrax.ops.chrony_ntp_server). Do not edit: changes are replaced.\n"
    "# chronyd serves NTP to these client subnets only.\n"
)


def expected_file(subnets: Sequence[str]) -> str:
    """The managed file for canonical subnets in address order, written out independently."""
    return HEADER + "".join(f"allow {subnet}\n" for subnet in subnets)


# --- hosts ---------------------------------------------------------------------------------


def provision_ntp_server(root: Path) -> None:
    """Pre-boot: chrony without the public pool, serving its own clock (no allow yet)."""
    write_file(root, "etc/chrony/chrony.conf", CHRONY_CONF)
    write_file(root, "etc/chrony/conf.d/lab-local.conf", f"local stratum {SERVER_STRATUM}\n")


def provision_ntp_client(root: Path) -> None:
    write_file(root, "etc/chrony/chrony.conf", CHRONY_CONF)


def provision_without_chrony(root: Path) -> None:
    """Pre-boot: a host without chrony (the package purged with its configuration; no
    network needed, and no package script starts or stops anything on this machine)."""
    with chroot_session(root):
        chroot_run(root, ["dpkg", "--purge", "chrony"])


def pick_private_subnet(seed: int | None = None) -> ipaddress.IPv4Network:
    """A /24 of 10.0.0.0/8 that overlaps no route of this machine (any table)."""
    routes = json.loads(subprocess.run(["ip", "-json", "-4", "route", "show", "table", "all"],
                                       capture_output=True, text=True, check=True).stdout or "[]")
    taken = [ipaddress.ip_network(r["dst"], strict=False) for r in routes if r.get("dst", "default") != "default"]
    chooser = random.Random(seed)
    for _ in range(1000):
        candidate = ipaddress.IPv4Network((int(PRIVATE_POOL.network_address) + chooser.randrange(1, 2**16) * 256, 24))
        if not any(candidate.overlaps(network) for network in taken):
            return candidate
    raise LabError("no unrouted /24 left in 10.0.0.0/8 on this machine")


def add_private_address(lab: Lab, host: Host, subnet: ipaddress.IPv4Network, index: int) -> str:
    """Give the host's host0 the address ``subnet[index]`` (inside its own netns)."""
    address = str(subnet.network_address + index)
    lab.exec(host, ["ip", "address", "add", f"{address}/{subnet.prefixlen}", "dev", "host0"], check=True)
    return address


# --- what the host looks like (read via nsenter: no SSH, no trace in sshd's log) ------------


def read_file(lab: Lab, host: Host, path: str) -> str | None:
    completed = lab.exec(host, ["cat", path])
    return completed.stdout if completed.returncode == 0 else None


def chrony_pid(lab: Lab, host: Host) -> str:
    return lab.exec(host, ["systemctl", "show", "--property=MainPID", "--value", "chrony.service"],
                    check=True).stdout.strip()


def chrony_active(lab: Lab, host: Host) -> bool:
    return lab.exec(host, ["systemctl", "is-active", "chrony.service"]).stdout.strip() == "active"


def udp_123_listening(lab: Lab, host: Host) -> bool:
    output = lab.exec(host, ["ss", "-H", "-u", "-l", "-n", "sport", "= :123"]).stdout
    return bool(output.strip())


def host_fingerprint(lab: Lab, host: Host) -> dict[str, str]:
    """Digest of every file (and directory entry) under /etc/chrony and the backup state dir,
    plus chronyd's PID: equal fingerprints mean the mutation touched nothing."""
    listing = lab.exec(host, ["sh", "-c", "find /etc/chrony /var/lib/tecrax -xdev -printf '%p %y %m %s\\n' "
                                          "2>/dev/null | sort; find /etc/chrony /var/lib/tecrax -xdev -type f "
                                          "-exec sha256sum {} + 2>/dev/null | sort"]).stdout
    return {"files": hashlib.sha256(listing.encode()).hexdigest(), "chronyd_pid": chrony_pid(lab, host)}


def backup_record(lab: Lab, host: Host) -> dict[str, Any] | None:
    text = read_file(lab, host, f"{STATE_DIR}/record.json")
    return json.loads(text) if text else None


def wait_for_client_sync(lab: Lab, client: Host, server_address: str, timeout: float = 30.0) -> dict[str, str]:
    return wait_for_chrony_source(lab, client, server_address, timeout)


def point_client_at(lab: Lab, client: Host, server_address: str) -> None:
    write_host_file(lab, client, "etc/chrony/conf.d/lab-ntp-client.conf",
                    f"server {server_address} iburst minpoll 0 maxpoll 2\n")
    lab.exec(client, ["systemctl", "restart", "chrony.service"], check=True)


def install_file(lab: Lab, host: Host, content: str) -> None:
    """Put content into the managed file by hand (a state some earlier change left) and let
    chrony load it."""
    write_host_file(lab, host, MANAGED_FILE.lstrip("/"), content)
    lab.exec(host, ["systemctl", "restart", "chrony.service"], check=True)


# --- faults ---------------------------------------------------------------------------------

# chronyd refuses to start while the managed file exists (stands in for any way the new
# configuration keeps chrony from starting); without the file it starts as before.
RESTART_FAULT = "etc/systemd/system/chrony.service.d/zz-tecrax-fault.conf"
RESTART_FAULT_UNIT = f"[Service]\nExecStartPre=/bin/sh -c '! test -e {MANAGED_FILE}'\n"
# A slow start: the apply sits in `systemctl restart` long enough to be killed there.
SLOW_START_UNIT = "[Service]\nExecStartPre=/bin/sleep 4\n"
# Another file that keeps chronyd off UDP 123 whatever allow says: verification must fail.
NO_SERVER_PORT = "etc/chrony/conf.d/zz-site.conf"


def set_drop_in(lab: Lab, host: Host, content: str | None) -> None:
    if content is None:
        lab.exec(host, ["rm", "-f", "/" + RESTART_FAULT], check=True)
    else:
        write_host_file(lab, host, RESTART_FAULT, content)
    lab.exec(host, ["systemctl", "daemon-reload"], check=True)


# --- RExecOp ----------------------------------------------------------------------------------


def mutation_policy(*, deny: bool = False) -> dict[str, Any]:
    """Admit configure_chrony_ntp_server and the plan intent. GovEngine still puts the
    medium-risk apply into waiting_for_approval: an operator must run rexecop approve."""
    rules: list[dict[str, Any]] = [
        operation_rule("allow-chrony-ntp-server-apply", "mutating", "bounded_chrony_mutation_allowed", INTENT),
        operation_rule("allow-chrony-ntp-server-plan", "read", "read_operation_allowed", PLAN_INTENT),
        connector_rule("read"),
        connector_rule("mutating"),
    ]
    if deny:
        rules.append({
            "rule_id": "deny-chrony-ntp-server",
            "effect": "deny",
            "conditions": {"action.category": "operation", "action.intent": INTENT},
            "reason_code": "operator_denied",
        })
    return {"policy_id": "tecrax-lab-chrony", "version": "2026-11-25", "rules": rules}


def chrony_environment(path: Path, lab: Lab, hosts: Mapping[str, Host], subnets: Mapping[str, Any],
                       policy: Mapping[str, Any] | None = None, timeout_seconds: int = 60) -> Path:
    """An environment whose inventory gives each host its allowed_subnets (any value, as is)."""
    targets = [LabTarget(h.name, h.address, h.port) for h in hosts.values()]
    inventory: dict[str, Any] = {}
    for host in hosts.values():
        entry: dict[str, Any] = {"host": host.address, "port": host.port}
        if host.name in subnets:
            entry["allowed_subnets"] = subnets[host.name]
        inventory[host.name] = entry
    # These tests cut SSH by stopping sshd, which leaves open sessions alone: through an SSH
    # master kept from an earlier run the next step would still connect. Every run connects
    # afresh here, so a stopped sshd refuses it (master reuse: tests/integration/test_ssh_reuse.py).
    return write_environment(path, targets, known_hosts=lab.known_hosts, policy=policy or mutation_policy(),
                             connector={"inventory": inventory, "timeout_seconds": timeout_seconds,
                                        "ssh_control_persist_seconds": 0},
                             env_id="tecrax-lab-chrony")


def approve_and_start(governed: Governed, operation_id: str, approver: str = "lab-operator") -> str:
    governed.rexecop("approve", "--operation", operation_id, "--by", approver)
    return governed.start(operation_id)


def apply(governed: Governed, env: Path, target: str) -> Any:
    """plan (apply) -> waiting_for_approval -> approve -> start; the outcome."""
    operation_id = governed.plan(env, INTENT, target, "apply")
    assert operation_state(governed, operation_id) == "waiting_for_approval"
    approve_and_start(governed, operation_id)
    return governed.outcome(operation_id)


def operation_record(governed: Governed, operation_id: str) -> dict[str, Any]:
    return json.loads((governed.root / "operations" / f"{operation_id}.json").read_text())


def edit_operation_record(governed: Governed, operation_id: str, **fields: Any) -> None:
    """What a hand edit of .rexecop/operations/<op>.json does (fields set, nothing else)."""
    path = governed.root / "operations" / f"{operation_id}.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **fields}, indent=2, sort_keys=True))


def operation_state(governed: Governed, operation_id: str) -> str:
    """The state RExecOp recorded (read from its store; `rexecop status` shows the same)."""
    record = json.loads((governed.root / "operations" / f"{operation_id}.json").read_text())
    return str(record["state"])


def rollback(governed: Governed, operation_id: str) -> dict[str, Any]:
    completed = governed.rexecop("rollback", "--operation", operation_id, check=False)
    record = json.loads((governed.root / "operations" / f"{operation_id}.json").read_text())
    return {"returncode": completed.returncode, "stdout": completed.stdout, "stderr": completed.stderr,
            "result": (record.get("metadata") or {}).get("rollback") or {}}
