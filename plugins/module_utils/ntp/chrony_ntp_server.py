# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The chrony NTP server mutation, pure part: the managed file, its backup record, facts.

The mutation manages exactly one file, ``/etc/chrony/conf.d/tecrax-ntp-server.conf``: a
managed-by header and one ``allow <network>`` line per client subnet. This module renders
and parses it, parses what chrony, systemd and /proc report, and builds the facts of the
contract ``tecrax.chrony_ntp_server_mutation`` (:func:`build_facts_from`, pure and total).
What happens on the host is in ``chrony_ntp_server_host``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import (
    build_facts,
    bounded_text,
    judged_assessment,
    raw_text,
)
from ansible_collections.tecrax.ops.plugins.module_utils.common.socket_table import listener_inodes
from ansible_collections.tecrax.ops.plugins.module_utils.common.systemd_show import parse_unit_properties
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_subnets import (
    MAX_SUBNETS,
    SubnetError,
    parse_subnet,
)

CONTRACT_ID = "tecrax.chrony_ntp_server_mutation"
MANAGED_FILE = "/etc/chrony/conf.d/tecrax-ntp-server.conf"
CONF_DIR = "/etc/chrony/conf.d"
STATE_DIR = "/var/lib/tecrax/chrony-ntp-server"
CHRONY_UNIT = "chrony.service"
NTP_PORT = 123
MAX_FILE_BYTES = 64 * 1024
VERIFY_SECONDS = 5.0
POLL_SECONDS = 0.2
RECORD_FORMAT = 1
RECORD_KEYS = ("generation", "previous_present", "previous_sha256", "applied_sha256")

HEADER = (
    "# Managed by Tecrax (tecrax.ops.chrony_ntp_server). Do not edit: changes are replaced.\n"
    "# chronyd serves NTP to these client subnets only.\n"
)

OBSERVATIONS = ("managed_file", "backup_record", "chrony_config", "chrony_service",
                "udp_123_listener", "access_rules")
ACTIONS = ("read", "apply", "rollback")
DESIRED_STATES = ("present", "absent", "previous", "unspecified")
PHASES = ("none", "writing", "applied", "restored", "rolled_back", "invalid")
NON_CLAIMS = (
    "does not configure or check a firewall",
    "does not configure or check NTP clients",
    "does not select or verify upstream time sources",
    "does not prove the server is reachable from outside the host",
    "UDP 123 listening is checked on the host itself",
    "manages only the one file named in managed_file",
)

_ACCHECK_ALLOWED = re.compile(r"^\s*208\b")
_ACCHECK_DENIED = re.compile(r"^\s*209\b")
# Whole values (fullmatch): a readlink result, a digest in the backup record.
_SOCKET_LINK = re.compile(r"socket:\[([0-9]{1,20})\]")
_SHA256 = re.compile(r"sha256:[0-9a-f]{64}")


class ChronyError(Exception):
    """A step of a transaction failed; ``failure`` is a snake_case reason for the facts."""

    def __init__(self, failure: str, message: str) -> None:
        super().__init__(message)
        self.failure = failure
        self.message = message


# --- rendering and parsing (pure) ----------------------------------------------------------


def render(subnets: Sequence[str]) -> bytes:
    """The managed file for validated, canonical ``subnets``."""
    return (HEADER + "".join("allow %s\n" % subnet for subnet in subnets)).encode("ascii")


def sha256(content: Optional[bytes]) -> Optional[str]:
    if content is None:
        return None
    return "sha256:" + hashlib.sha256(content).hexdigest()


def file_state(content: Optional[bytes], readable: bool = True) -> Dict[str, Any]:
    """What the managed file holds; ``present`` is ``None`` when it could not be read."""
    if not readable:
        return {"present": None, "sha256": None, "managed_header": False, "allowed_subnets": [],
                "allow_line_count": 0, "other_line_count": 0}
    if content is None:
        return {"present": False, "sha256": None, "managed_header": False, "allowed_subnets": [],
                "allow_line_count": 0, "other_line_count": 0}
    text = raw_text(content, MAX_FILE_BYTES)
    subnets: List[str] = []
    allow_lines = other_lines = 0
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "allow":
            allow_lines += 1
            if len(subnets) < MAX_SUBNETS:
                subnets.append(bounded_text(" ".join(words[1:]), 49, "all"))
        else:
            other_lines += 1
    return {
        "present": True,
        "sha256": sha256(content),
        "managed_header": text.startswith(HEADER),
        "allowed_subnets": subnets,
        "allow_line_count": min(allow_lines, 1_000_000),
        "other_line_count": min(other_lines, 1_000_000),
    }


def allow_lines_in(config_text: str) -> List[str]:
    """The canonical networks of the ``allow`` directives in ``chronyd -p`` output."""
    networks: List[str] = []
    for line in raw_text(config_text).splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == "allow":
            try:
                networks.append(str(ipaddress.ip_network(words[1], strict=False)))
            except ValueError:
                continue
    return networks


SERVICE_PROPERTIES = ("LoadState", "ActiveState", "SubState", "MainPID")


def parse_systemctl_show(text: str) -> Dict[str, str]:
    return parse_unit_properties(raw_text(text), SERVICE_PROPERTIES)


def udp_listener_inodes(table: str, port: int = NTP_PORT) -> List[str]:
    """Inodes of UDP sockets bound to local ``port`` in /proc/net/udp or udp6 text."""
    return listener_inodes(raw_text(table), port)


def socket_inodes(links: Sequence[str]) -> List[str]:
    found = []
    for link in links:
        match = _SOCKET_LINK.fullmatch(str(link))
        if match:
            found.append(match.group(1))
    return found


def accheck_verdict(output: Optional[str]) -> Optional[bool]:
    """``chronyc accheck``: 208 allowed, 209 denied (exit status 0 either way)."""
    text = raw_text(output or "")
    if _ACCHECK_ALLOWED.match(text):
        return True
    if _ACCHECK_DENIED.match(text):
        return False
    return None


def probe_address(subnet: str) -> str:
    """The first host address of a network, the address ``chronyc accheck`` asks about."""
    network = parse_subnet(subnet)
    return str(network.network_address + 1)


def parse_record(content: Optional[bytes]) -> Dict[str, Any]:
    """The backup record, normalized; ``phase`` is ``none`` or ``invalid`` when unusable."""
    empty = {"generation": 0, "phase": "none", "previous_present": None,
             "previous_sha256": None, "applied_sha256": None}
    if content is None:
        return empty
    try:
        data = json.loads(raw_text(content, 4096))
    except (ValueError, RecursionError):  # deep nesting exhausts the decoder's stack
        data = None
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        return dict(empty, phase="invalid")
    generation = data.get("generation")
    phase = data.get("phase")
    previous_present = data.get("previous_present")
    previous_sha = data.get("previous_sha256")
    applied_sha = data.get("applied_sha256")
    if (
        isinstance(generation, bool) or not isinstance(generation, int) or not 1 <= generation <= 2 ** 53 - 1
        or phase not in PHASES[1:-1]
        or not isinstance(previous_present, bool)
        or not _sha_or_none(previous_sha) or not _sha_or_none(applied_sha)
        or previous_present != (previous_sha is not None)
    ):
        return dict(empty, phase="invalid")
    return {"generation": generation, "phase": phase, "previous_present": previous_present,
            "previous_sha256": previous_sha, "applied_sha256": applied_sha}


def _sha_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, str) and bool(_SHA256.fullmatch(value)))


# --- observation and facts (pure) -----------------------------------------------------------


@dataclass
class Observation:
    """Raw observations of the host; ``None`` means could not be observed."""

    file_readable: bool = True
    file_content: Optional[bytes] = None
    record: Optional[bytes] = None
    record_readable: bool = True
    chronyd_installed: Optional[bool] = None
    config_rc: Optional[int] = None
    config_text: str = ""
    service: Optional[Dict[str, str]] = None
    udp_tables: Optional[List[str]] = None
    chrony_fd_links: Optional[List[str]] = None
    accheck: Dict[str, Optional[str]] = field(default_factory=dict)


@dataclass
class Outcome:
    """What a transaction did, beside the final observation."""

    action: str
    check_mode: bool
    desired_state: str
    desired_subnets: List[str]
    before: Dict[str, Any]
    after: Dict[str, Any]
    changed: bool = False
    file_action: str = "none"
    automatic_restore: bool = False
    restore_succeeded: Optional[bool] = None
    failure: Optional[str] = None


def build_facts_from(outcome: Outcome, seen: Observation) -> Dict[str, Any]:
    """Facts of contract ``tecrax.chrony_ntp_server_mutation`` (pure and total)."""
    blockers: List[str] = []
    observed: List[str] = []

    current = file_state(seen.file_content, seen.file_readable)
    if seen.file_readable:
        observed.append("managed_file")
    else:
        blockers.append("managed_file_unreadable")

    record = parse_record(seen.record) if seen.record_readable else dict(parse_record(None), phase="invalid")
    if seen.record_readable:
        observed.append("backup_record")
    else:
        blockers.append("backup_record_unreadable")

    config_loaded: Optional[List[str]] = None
    if seen.chronyd_installed is False:
        blockers.append("chrony_not_installed")
    elif seen.config_rc is None:
        blockers.append("chrony_config_not_parsed")
    else:
        observed.append("chrony_config")
        config_loaded = allow_lines_in(seen.config_text) if seen.config_rc == 0 else []

    service = seen.service or {}
    active: Optional[bool] = None
    if seen.service is None or not service.get("LoadState"):
        blockers.append("systemd_unavailable")
    else:
        observed.append("chrony_service")
        active = service.get("ActiveState") == "active"

    listening: Optional[bool] = None
    if seen.udp_tables is None:
        blockers.append("udp_table_unreadable")
    elif active is False:
        observed.append("udp_123_listener")
        listening = False
    elif seen.chrony_fd_links is None:
        blockers.append("chrony_sockets_unreadable")
    else:
        observed.append("udp_123_listener")
        bound = set()
        for table in seen.udp_tables:
            bound.update(udp_listener_inodes(table))
        listening = bool(bound.intersection(socket_inodes(seen.chrony_fd_links)))

    checked = subnets_to_check(outcome, current)
    effective: Optional[bool] = None
    if not checked:
        observed.append("access_rules")
    elif active is False:
        observed.append("access_rules")
        effective = False
    else:
        verdicts = [accheck_verdict(seen.accheck.get(subnet)) for subnet in checked]
        if any(verdict is None for verdict in verdicts):
            blockers.append("access_rules_unanswered")
        else:
            observed.append("access_rules")
            effective = all(verdicts)

    desired_applied = _desired_applied(outcome, current, record)
    config_present = _config_present(current, config_loaded)
    # What a rollback would do now: the file still holds what the last apply wrote.
    rollback_available = (
        record["phase"] not in ("none", "invalid")
        and current["present"] is not None
        and current["sha256"] == record["applied_sha256"] != record["previous_sha256"]
    )
    reasons = _reasons(outcome, seen, current, desired_applied, config_present, active, listening, effective)
    needed = _needed_values(outcome, current, desired_applied, config_present, active, listening, effective)
    assessment = judged_assessment(observed, reasons, "unhealthy", all(value is not None for value in needed))
    if outcome.failure and assessment != "unavailable":
        reasons = reasons + [outcome.failure] if outcome.failure not in reasons else reasons
        assessment = "unhealthy"

    before_subnets = set(outcome.before["allowed_subnets"])
    after_subnets = set(outcome.after["allowed_subnets"])
    payload = {
        "action": outcome.action,
        "check_mode": outcome.check_mode,
        "managed_file": MANAGED_FILE,
        "desired_state": outcome.desired_state,
        "allowed_subnets": list(outcome.desired_subnets),
        "desired_state_applied": desired_applied,
        "config_present": config_present,
        "allow_lines_effective": effective,
        "chrony_installed": seen.chronyd_installed,
        "chrony_active": active,
        "chrony_service": {
            "load_state": bounded_text(service.get("LoadState"), 32),
            "active_state": bounded_text(service.get("ActiveState"), 32),
            "sub_state": bounded_text(service.get("SubState"), 32),
        },
        "udp_123_listening": listening,
        "changed": outcome.changed,
        "file_action": outcome.file_action,
        "diff": {
            "added_subnets": [s for s in outcome.after["allowed_subnets"] if s not in before_subnets],
            "removed_subnets": [s for s in outcome.before["allowed_subnets"] if s not in after_subnets],
        },
        "before_state": outcome.before,
        "after_state": outcome.after,
        "rollback_available": bool(rollback_available),
        "backup": {"generation": record["generation"], "phase": record["phase"],
                   "previous_present": record["previous_present"]},
        "automatic_restore": outcome.automatic_restore,
        "restore_succeeded": outcome.restore_succeeded,
        "failure": outcome.failure,
    }
    return build_facts(CONTRACT_ID, requested=OBSERVATIONS, observed=observed, blockers=blockers,
                       assessment=assessment, reasons=reasons, non_claims=NON_CLAIMS, payload=payload)


def subnets_to_check(outcome: Outcome, current: Mapping[str, Any]) -> List[str]:
    if outcome.desired_state == "present":
        return list(outcome.desired_subnets)
    if outcome.desired_state in ("absent",):
        return []
    valid: List[str] = []
    for subnet in current["allowed_subnets"]:
        try:
            parse_subnet(subnet)
        except SubnetError:
            continue
        valid.append(subnet)
    return valid


def _desired_applied(outcome: Outcome, current: Mapping[str, Any],
                     record: Mapping[str, Any]) -> Optional[bool]:
    if current["present"] is None:
        return None
    if outcome.desired_state == "present":
        return current["sha256"] == sha256(render(outcome.desired_subnets))
    if outcome.desired_state == "absent":
        return current["present"] is False
    if outcome.desired_state == "previous":
        if record["phase"] in ("none", "invalid"):
            return None
        return current["sha256"] == record["previous_sha256"]
    return None


def _config_present(current: Mapping[str, Any], loaded: Optional[List[str]]) -> Optional[bool]:
    if current["present"] is None:
        return None
    if not current["present"] or not current["managed_header"] or not current["allowed_subnets"]:
        return False
    if loaded is None:
        return None
    return all(subnet in loaded for subnet in current["allowed_subnets"])


def _reasons(outcome: Outcome, seen: Observation, current: Mapping[str, Any],
             desired_applied: Optional[bool], config_present: Optional[bool],
             active: Optional[bool], listening: Optional[bool],
             effective: Optional[bool]) -> List[str]:
    reasons: List[str] = []
    if seen.chronyd_installed is False:
        reasons.append("chrony_not_installed")
    if seen.config_rc not in (None, 0):
        reasons.append("chrony_config_rejected")
    serving = outcome.desired_state in ("present", "unspecified")
    if desired_applied is False:
        reasons.append("desired_state_not_applied")
    if serving:
        if current["present"] is False and outcome.desired_state == "unspecified":
            reasons.append("managed_file_absent")
        if current["present"] and not current["managed_header"]:
            reasons.append("managed_header_missing")
        elif config_present is False and current["present"]:
            reasons.append("config_not_loaded")
        if listening is False:
            reasons.append("udp_123_not_listening")
        if effective is False:
            reasons.append("allow_not_effective")
    if active is False:
        reasons.append("chrony_inactive")
    return reasons


def _needed_values(outcome: Outcome, current: Mapping[str, Any], desired_applied: Optional[bool],
                   config_present: Optional[bool], active: Optional[bool],
                   listening: Optional[bool], effective: Optional[bool]) -> List[Optional[bool]]:
    if outcome.desired_state in ("present", "unspecified"):
        values = [current["present"], config_present, active, listening, effective]
        if outcome.desired_state == "present":
            values.append(desired_applied)
        return values
    return [desired_applied, active]
