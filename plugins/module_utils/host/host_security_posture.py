# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Normalizer of the ``tecrax.host_security_posture`` 1.0 facts contract.

Five observations of a Debian-family host, all read-only:

``unattended_upgrades``
    *Enabled* means the periodic run would install upgrades: the ``unattended-upgrades``
    package is installed, ``APT::Periodic::Enable`` is not ``0`` (unset means on),
    ``APT::Periodic::Unattended-Upgrade`` is set to something other than ``0`` (unset
    means off; apt.systemd.daily reads the value as an interval: a number with an optional
    s/m/h/d suffix, or ``always``), and ``apt-daily-upgrade.timer``, which starts that run,
    is loaded, active and enabled (or static). ``unattended-upgrades.service`` is reported
    but not judged: it only finishes installs at shutdown and schedules nothing.
``pending_updates``
    From ``apt-get -s dist-upgrade`` on the package lists already on the host (nothing is
    refreshed): ``total`` is apt's "N upgraded" and must equal the number of ``Inst`` lines
    that replace an installed version; ``security`` counts those whose candidate comes from
    an archive whose origin label or suite contains ``-security`` (``Debian-Security:12/
    stable-security``, ``Ubuntu:22.04/jammy-security``). With no package lists the counts
    would be a meaningless zero, so the observation is then reported as not made.
``aslr`` / ``dmesg_restrict``
    ``kernel.randomize_va_space`` (0, 1 or 2) and ``kernel.dmesg_restrict`` (0 or 1).
``reboot_required``
    Whether ``/var/run/reboot-required`` exists, and how many package names
    ``/var/run/reboot-required.pkgs`` holds when it exists.

Assessment: ``degraded`` when anything observed is bad (unattended upgrades off or not
installed, security updates pending, ASLR below 2, dmesg not restricted, reboot required),
with one reason per finding, even if other observations are missing; otherwise ``healthy``
when every observation was made, ``unknown`` when some were not, and ``unavailable`` when
none was. Non-security updates are counted but do not degrade the host.

``collect_security_posture`` makes the observations on the managed host (see
``run_host_module`` for why here).
"""

from __future__ import annotations

import os
import re
import time
from typing import Any, Mapping

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import CommandRunner, read_bounded
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import (
    MAX_RAW_BYTES,
    bounded_text,
    build_facts,
    clamp_int,
    judged_assessment,
    parse_int,
    raw_text,
)
from ansible_collections.tecrax.ops.plugins.module_utils.common.systemd_show import (
    parse_unit_states,
    show_argv,
    unknown_unit_state,
)

CONTRACT_ID = "tecrax.host_security_posture"

OBSERVATIONS = ("unattended_upgrades", "pending_updates", "aslr", "dmesg_restrict", "reboot_required")
UPGRADE_TIMER = "apt-daily-upgrade.timer"
SHUTDOWN_SERVICE = "unattended-upgrades.service"
UNITS = (UPGRADE_TIMER, SHUTDOWN_SERVICE)
PACKAGE = "unattended-upgrades"

NON_CLAIMS = (
    "pending updates come from the package lists already on the host; nothing was refreshed",
    "does not install, download or hold back any package",
    "does not verify that unattended upgrades ran recently or succeeded",
    "non-security pending updates are counted but do not degrade the assessment",
    "kernel values are those visible to the host; containers may see the machine's values",
    "does not assess firewall, SSH, user accounts or file permissions",
    "values are a point-in-time sample",
)

# An apt-get -s run larger than this is not parsed (about ten thousand packages).
MAX_APT_BYTES = 2 * 1024 * 1024
MAX_COUNT = 1_000_000
INTERVAL_CHARS = 32
_TIMER_FILE_STATES = ("enabled", "enabled-runtime", "static")
# dpkg states in which the package's files are unpacked and configured.
_INSTALLED_STATUSES = ("installed", "triggers-pending", "triggers-awaited")

# apt-config prints a name in the case it was first written in ("APT::periodic::...").
_PERIODIC_LINE = re.compile(r'APT::Periodic::(\S+) "(.*)";\Z', re.IGNORECASE)
_PERIODIC_ROOT = re.compile(r'APT::Periodic "(.*)";\Z', re.IGNORECASE)
_INTERVAL = re.compile(r"(?:[0-9]{1,9}[smhd]?|always)\Z")
_SUMMARY = re.compile(r"([0-9]+) upgraded, [0-9]+ newly installed, [0-9]+ to remove and [0-9]+ not upgraded\.\Z")
# "Inst NAME [INSTALLED] (CANDIDATE ARCHIVE[, ARCHIVE...] [ARCH])": only upgrades carry
# the installed version in brackets; new installs do not.
_UPGRADE = re.compile(r"Inst \S+ \[[^\]]*\] \(\S+ ([^)]*)\)")


# --- collection on the host ----------------------------------------------------------------

# The runner adds the C locale.
COMMAND_ENVIRONMENT = {"LANGUAGE": "", "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0"}
# No lock is taken or waited for, and apt cannot (re)write its binary caches under
# /var/cache/apt: the simulation changes nothing on the host. As root, apt runs as the
# unprivileged `nobody` (uid and gid 65534, no supplementary groups) so that the kernel, not
# an option, keeps it from writing; it then reads valid caches (a second instead of 1.5 s on
# bookworm's lists) and builds stale ones in memory. Otherwise, or when that run fails (a
# list only root may read), apt builds its caches in memory.
APT_SIMULATION = ("-s", "-q", "-o", "Debug::NoLocking=true")
APT_WITHOUT_CACHES = ("-o", "Dir::Cache::pkgcache=", "-o", "Dir::Cache::srcpkgcache=")
AS_NOBODY = ("--reuid=65534", "--regid=65534", "--clear-groups")
APT_LISTS = "/var/lib/apt/lists"
MAX_LIST_ENTRIES = 10000
RANDOMIZE_VA_SPACE = "/proc/sys/kernel/randomize_va_space"
DMESG_RESTRICT = "/proc/sys/kernel/dmesg_restrict"
REBOOT_REQUIRED = "/var/run/reboot-required"
REBOOT_REQUIRED_PKGS = "/var/run/reboot-required.pkgs"


def probe(commands: CommandRunner, binary: str, argv: list[str], max_bytes: int = MAX_RAW_BYTES
          ) -> dict[str, object]:
    """Run one command; ``rc`` is ``None`` when the binary is not on the host."""
    path = commands.find(binary)
    if not path:
        return {"rc": None, "out": b""}
    ended = commands.run([path] + argv, environ_update=COMMAND_ENVIRONMENT, max_output_bytes=max_bytes)
    return {"rc": ended.rc, "out": ended.stdout}


def simulate_upgrades(commands: CommandRunner, as_root: bool) -> dict[str, object]:
    """``apt-get -s dist-upgrade``, unable to write apt's caches (see ``APT_SIMULATION``)."""
    apt_get = commands.find("apt-get")
    if not apt_get:
        return {"rc": None, "out": b""}
    setpriv = commands.find("setpriv") if as_root else None
    if setpriv:
        ended = commands.run([setpriv, *AS_NOBODY, apt_get, *APT_SIMULATION, "dist-upgrade"],
                             environ_update=COMMAND_ENVIRONMENT, max_output_bytes=MAX_APT_BYTES + 1)
        if ended.rc == 0:
            return {"rc": 0, "out": ended.stdout}
    ended = commands.run([apt_get, *APT_SIMULATION, *APT_WITHOUT_CACHES, "dist-upgrade"],
                         environ_update=COMMAND_ENVIRONMENT, max_output_bytes=MAX_APT_BYTES + 1)
    return {"rc": ended.rc, "out": ended.stdout}


def systemd_units(commands: CommandRunner) -> dict[str, object]:
    path = commands.find("systemctl")
    if not path:
        return {"rc": None, "out": b""}
    ended = commands.run(show_argv(path, UNITS), environ_update=COMMAND_ENVIRONMENT)
    return {"rc": ended.rc, "out": ended.stdout}


def package_lists(now: float) -> dict[str, int | None] | None:
    """Package index files apt has downloaded and the age of the newest; None if unreadable."""
    files = 0
    newest = None
    try:
        with os.scandir(APT_LISTS) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_LIST_ENTRIES:
                    break
                if "_Packages" not in entry.name or not entry.is_file(follow_symlinks=False):
                    continue
                files += 1
                mtime = entry.stat(follow_symlinks=False).st_mtime
                newest = mtime if newest is None else max(newest, mtime)
    except FileNotFoundError:
        return {"files": 0, "age_seconds": None}
    except OSError:
        return None
    age = None if newest is None else max(0, int(now - newest))
    return {"files": files, "age_seconds": age}


def marker_present(path: str) -> bool | None:
    try:
        os.stat(path)
    except FileNotFoundError:
        return False
    except OSError:
        return None
    return True


def collect_security_posture(commands: CommandRunner) -> dict[str, object]:
    """The raw input of ``normalize_host_security_posture``, read on this host."""
    return {
        "dpkg_status": probe(commands, "dpkg-query", ["-W", "-f=${db:Status-Status}\\n", PACKAGE]),
        "apt_periodic": probe(commands, "apt-config", ["dump", "APT::Periodic"]),
        "units": systemd_units(commands),
        "apt_simulation": simulate_upgrades(commands, as_root=os.geteuid() == 0),
        "package_lists": package_lists(time.time()),
        "randomize_va_space": read_bounded(RANDOMIZE_VA_SPACE),
        "dmesg_restrict": read_bounded(DMESG_RESTRICT),
        "reboot_required": marker_present(REBOOT_REQUIRED),
        "reboot_required_pkgs": read_bounded(REBOOT_REQUIRED_PKGS),
    }


# --- normalization -------------------------------------------------------------------------


def normalize_host_security_posture(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``tecrax.host_security_posture`` facts for raw observations.

    ``raw`` keys (anything missing or of another type counts as not observed):

    - ``dpkg_status``, ``apt_periodic``, ``units``, ``apt_simulation``: command probes
      ``{"rc": int | None, "out": str | bytes}`` (``rc`` ``None``: command not found) of
      ``dpkg-query -W -f=${db:Status-Status}\\n unattended-upgrades``,
      ``apt-config dump APT::Periodic``, ``systemctl show`` of apt-daily-upgrade.timer and
      unattended-upgrades.service, and ``apt-get -s dist-upgrade``;
    - ``package_lists``: ``{"files": int, "age_seconds": int | None}`` (package index files
      in /var/lib/apt/lists and the age of the newest one) or ``None`` if unreadable;
    - ``randomize_va_space``, ``dmesg_restrict``: the /proc/sys file contents or ``None``;
    - ``reboot_required``: ``True``/``False`` for the marker's presence, ``None`` unknown;
    - ``reboot_required_pkgs``: contents of the .pkgs file, ``None`` when absent.
    """
    source: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    blockers: list[str] = []
    reasons: list[str] = []

    upgrades, upgrades_blockers, upgrades_reasons = _unattended_upgrades(source)
    pending, pending_blockers = _pending_updates(source)
    aslr = _sysctl(source.get("randomize_va_space"), 2)
    dmesg = _sysctl(source.get("dmesg_restrict"), 1)
    reboot = _reboot_required(source)

    blockers += upgrades_blockers + pending_blockers
    reasons += upgrades_reasons
    if pending["security"]:
        reasons.append("security_updates_pending")
    if aslr is None:
        blockers.append(_unread_blocker("aslr", source.get("randomize_va_space")))
    elif aslr != 2:
        reasons.append("aslr_not_full")
    if dmesg is None:
        blockers.append(_unread_blocker("dmesg_restrict", source.get("dmesg_restrict")))
    elif dmesg != 1:
        reasons.append("dmesg_not_restricted")
    if reboot["required"] is None:
        blockers.append("reboot_required_unavailable")
    elif reboot["required"]:
        reasons.append("reboot_required")

    observed = [
        name
        for name, made in (
            ("unattended_upgrades", not upgrades_blockers),
            ("pending_updates", not pending_blockers),
            ("aslr", aslr is not None),
            ("dmesg_restrict", dmesg is not None),
            ("reboot_required", reboot["required"] is not None),
        )
        if made
    ]
    payload = {
        "unattended_upgrades": upgrades,
        "pending_updates": pending,
        "kernel": {"randomize_va_space": aslr, "dmesg_restrict": dmesg},
        "reboot_required": reboot,
    }
    return build_facts(CONTRACT_ID, requested=OBSERVATIONS, observed=observed, blockers=blockers,
                       assessment=judged_assessment(observed, reasons, "degraded", len(observed) == len(OBSERVATIONS)),
                       reasons=reasons, non_claims=NON_CLAIMS, payload=payload)


# -- unattended upgrades --------------------------------------------------------------------


def _unattended_upgrades(source: Mapping[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    """The payload, the blockers and the findings of the unattended-upgrades observation.

    The observation is made when ``enabled`` is settled: every condition holds, or one is
    known to fail (then the others may stay unknown without blocking).
    """
    installed = _package_installed(source.get("dpkg_status"))

    rc, out = _probe(source.get("apt_periodic"))
    periodic = parse_apt_periodic(out) if rc == 0 else None
    periodic_blocker = "apt_periodic_unavailable" if rc != 0 else "apt_periodic_unparsed"
    values = periodic or {}
    master = _periodic_switch(values.get("enable")) if periodic is not None else None
    interval = _interval_on(values.get("unattended-upgrade")) if periodic is not None else None

    rc, out = _probe(source.get("units"))
    units = parse_unit_states(out, UNITS) if rc is not None else {}
    timer = units.get(UPGRADE_TIMER)
    timer_on = None if timer is None else (
        timer["load_state"] == "loaded"
        and timer["active_state"] == "active"
        and timer["unit_file_state"] in _TIMER_FILE_STATES
    )

    conditions = (installed, master, interval, timer_on)
    enabled = False if False in conditions else (True if all(conditions) else None)

    findings: list[str] = []
    if installed is False:
        # Nothing else matters for a package that is not there.
        findings.append("unattended_upgrades_not_installed")
    else:
        for condition, finding in ((master, "apt_periodic_disabled"),
                                   (interval, "unattended_upgrade_interval_off"),
                                   (timer_on, "upgrade_timer_not_scheduled")):
            if condition is False:
                findings.append(finding)

    blockers: list[str] = []
    if enabled is None:
        if installed is None:
            blockers.append("dpkg_status_unavailable")
        if master is None or interval is None:
            blockers.append(periodic_blocker)
        if timer_on is None:
            blockers.append("upgrade_timer_unavailable")

    payload = {
        "enabled": enabled,
        "package_installed": installed,
        "periodic_enable": _setting(values.get("enable")),
        "unattended_upgrade_interval": _setting(values.get("unattended-upgrade")),
        "update_package_lists_interval": _setting(values.get("update-package-lists")),
        "upgrade_timer": {"unit": UPGRADE_TIMER, **(timer or unknown_unit_state())},
        "shutdown_service": {"unit": SHUTDOWN_SERVICE, **units.get(SHUTDOWN_SERVICE, unknown_unit_state())},
    }
    return payload, blockers, findings


def _package_installed(value: Any) -> bool | None:
    """From ``dpkg-query -W -f='${db:Status-Status}\\n'``: exit 1 means never installed."""
    rc, out = _probe(value)
    if rc == 1 and not out.strip():
        return False
    if rc != 0:
        return None
    status = out.strip()
    if status in _INSTALLED_STATUSES:
        return True
    # not-installed, config-files (removed, configuration kept), half-installed, ...
    return False if re.match(r"[a-z-]{1,32}\Z", status) else None


def parse_apt_periodic(text: str) -> dict[str, str] | None:
    """``APT::Periodic::*`` settings from ``apt-config dump``, keys lower-cased.

    apt configuration names are case-insensitive; the last assignment wins. Returns
    ``None`` when a non-blank line is not an apt-config dump line.
    """
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        match = _PERIODIC_LINE.match(line)
        if match:
            values[match.group(1).lower()] = match.group(2)
        elif not _PERIODIC_ROOT.match(line):
            return None
    return values


def _periodic_switch(value: str | None) -> bool | None:
    """``APT::Periodic::Enable``: unset is on, ``0`` is off, other numbers are on."""
    if value is None:
        return True
    number = parse_int(value, 0, MAX_COUNT)
    return None if number is None else number != 0


def _interval_on(value: str | None) -> bool | None:
    """``APT::Periodic::Unattended-Upgrade``: unset and ``0`` are off; ``None``: unparsable."""
    if value is None or value == "0":
        return False
    return True if _INTERVAL.match(value) else None


def _setting(value: str | None) -> str | None:
    return None if value is None else bounded_text(value, INTERVAL_CHARS, "unknown")


# -- pending updates ------------------------------------------------------------------------


def _pending_updates(source: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    lists = source.get("package_lists")
    files = clamp_int(lists.get("files"), 0, MAX_COUNT) if isinstance(lists, Mapping) else None
    age = clamp_int(lists.get("age_seconds")) if isinstance(lists, Mapping) else None
    payload: dict[str, Any] = {
        "total": None,
        "security": None,
        "package_index_files": files,
        "package_index_age_seconds": age if files else None,
    }
    rc, out = _probe(source.get("apt_simulation"), MAX_APT_BYTES + 1)
    if rc is None:
        return payload, ["apt_get_not_found"]
    if rc != 0:
        return payload, ["apt_simulation_failed"]
    if len(out) > MAX_APT_BYTES:
        return payload, ["apt_simulation_too_large"]
    counts = parse_apt_simulation(out)
    if counts is None:
        return payload, ["apt_simulation_unparsed"]
    if files is None:
        return payload, ["package_lists_unavailable"]
    if files == 0:
        return payload, ["package_lists_missing"]
    payload["total"], payload["security"] = counts
    return payload, []


def parse_apt_simulation(text: str) -> tuple[int, int] | None:
    """``(upgrades, security upgrades)`` from ``apt-get -s dist-upgrade`` output (C locale).

    ``None`` unless exactly one summary line is present and its "N upgraded" equals the
    number of ``Inst`` lines that replace an installed version.
    """
    summaries = []
    upgrades = security = 0
    for line in text.splitlines():
        if line.startswith("Inst "):
            match = _UPGRADE.match(line)
            if match:
                upgrades += 1
                archives = match.group(1).rsplit(" [", 1)[0]
                if "-security" in archives.lower():
                    security += 1
            continue
        summary = _SUMMARY.match(line.strip())
        if summary:
            summaries.append(summary.group(1))
    if len(summaries) != 1:
        return None
    total = parse_int(summaries[0], 0, MAX_COUNT)
    if total != upgrades:
        return None
    return upgrades, security


# -- kernel settings and the reboot marker --------------------------------------------------


def _sysctl(value: Any, maximum: int) -> int | None:
    """A /proc/sys value that must be one integer in ``0..maximum``."""
    words = raw_text(value, 64).split()
    if len(words) != 1:
        return None
    number = parse_int(words[0], -1, maximum + 1)
    return number if number is not None and 0 <= number <= maximum else None


def _unread_blocker(name: str, value: Any) -> str:
    return name + ("_unparsed" if isinstance(value, (str, bytes, bytearray)) else "_unavailable")


def _reboot_required(source: Mapping[str, Any]) -> dict[str, Any]:
    marker = source.get("reboot_required")
    required = marker if isinstance(marker, bool) else None
    pkgs = source.get("reboot_required_pkgs")
    packages = None
    if isinstance(pkgs, (str, bytes, bytearray)):
        names = {line.strip() for line in raw_text(pkgs, MAX_RAW_BYTES).splitlines()}
        names.discard("")
        packages = min(len(names), MAX_COUNT)
    return {"required": required, "packages": packages}


# -- helpers --------------------------------------------------------------------------------


def _probe(value: Any, max_bytes: int = MAX_RAW_BYTES) -> tuple[int | None, str]:
    """``(rc, text)`` of a command probe; ``rc`` is ``None`` when it did not run."""
    if not isinstance(value, Mapping):
        return None, ""
    rc = value.get("rc")
    if isinstance(rc, bool) or not isinstance(rc, int):
        return None, ""
    return rc, raw_text(value.get("out"), max_bytes)
