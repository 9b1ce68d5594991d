"""Transactions of the chrony NTP server mutation (chrony_ntp_server_host) and its facts
(chrony_ntp_server): real files and backup records in a temporary directory, simulated
chrony commands (fake_chrony.py); every fault branch.

The private networks are subnet inputs of the mutation."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Callable

import pytest
from unit.fake_chrony import FakeChrony
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.ntp import chrony_ntp_server as facts_of
from ansible_collections.tecrax.ops.plugins.module_utils.ntp import chrony_ntp_server_host as chrony
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_subnets import SubnetError

SCHEMA = "chrony_ntp_server_mutation.v1.schema.json"
SUBNETS = ["192.168.40.0/24", "10.20.0.0/16"]
CANONICAL = ["10.20.0.0/16", "192.168.40.0/24"]
EXPECTED_FILE = (
    "# Managed by Tecrax (tecrax.ops.chrony_ntp_server). Do not edit: changes are replaced.\n"
    "# chronyd serves NTP to these client subnets only.\n"
    "allow 10.20.0.0/16\n"
    "allow 192.168.40.0/24\n"
)


@pytest.fixture
def fake(tmp_path: Path) -> FakeChrony:
    return FakeChrony(tmp_path)


@pytest.fixture
def valid(facts_schema_errors: Callable[[Any, str], list[str]]) -> Callable[[chrony.Result], chrony.Result]:
    def check(result: chrony.Result) -> chrony.Result:
        assert facts_schema_errors(result.facts, SCHEMA) == []
        return result

    return check


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every file and symlink under root, by relative path (what 'nothing changed' means)."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file():
            found[key] = path.read_bytes()
        else:
            found[key] = "dir"
    return found


def record(fake: FakeChrony) -> dict[str, Any]:
    return json.loads((fake.state_dir / "record.json").read_text())


def test_render_is_the_exact_managed_file() -> None:
    assert facts_of.render(CANONICAL).decode() == EXPECTED_FILE


def test_fresh_apply_writes_the_file_restarts_and_verifies(fake: FakeChrony, valid: Any) -> None:
    result = valid(chrony.apply(fake.host(), "present", SUBNETS, check_mode=False))

    assert not result.failed and result.changed
    assert fake.managed.read_text() == EXPECTED_FILE
    assert stat.S_IMODE(fake.managed.stat().st_mode) == 0o644
    assert fake.restarts() == 1
    facts = result.facts
    assert facts["assessment"] == {"state": "healthy"}
    assert facts["coverage"] == {"state": "complete", "blockers": []}
    assert facts["allowed_subnets"] == CANONICAL
    assert (facts["desired_state_applied"], facts["config_present"], facts["allow_lines_effective"]) == (True, True, True)
    assert (facts["chrony_active"], facts["udp_123_listening"]) == (True, True)
    assert facts["file_action"] == "create"
    assert facts["before_state"]["present"] is False
    assert facts["after_state"] == {
        "present": True,
        "sha256": facts_of.sha256(EXPECTED_FILE.encode()),
        "managed_header": True,
        "allowed_subnets": CANONICAL,
        "allow_line_count": 2,
        "other_line_count": 0,
    }
    assert facts["diff"] == {"added_subnets": CANONICAL, "removed_subnets": []}
    assert facts["rollback_available"] is True
    assert facts["backup"] == {"generation": 1, "phase": "applied", "previous_present": False}
    assert (facts["automatic_restore"], facts["restore_succeeded"], facts["failure"]) == (False, None, None)
    assert record(fake)["applied_sha256"] == facts_of.sha256(EXPECTED_FILE.encode())
    assert result.diff is not None and result.diff["after"] == EXPECTED_FILE and result.diff["before"] == ""


def test_second_apply_is_unchanged_and_does_not_restart(fake: FakeChrony, valid: Any) -> None:
    chrony.apply(fake.host(), "present", SUBNETS, check_mode=False)
    before = snapshot(fake.root)
    result = valid(chrony.apply(fake.host(), "present", list(reversed(SUBNETS)), check_mode=False))
    assert not result.changed and not result.failed
    assert fake.restarts() == 1
    assert snapshot(fake.root) == before
    assert result.facts["assessment"] == {"state": "healthy"}
    assert result.facts["backup"]["generation"] == 1


def test_check_mode_changes_nothing_and_predicts(fake: FakeChrony, valid: Any) -> None:
    before = snapshot(fake.root)
    result = valid(chrony.apply(fake.host(), "present", SUBNETS, check_mode=True))
    assert snapshot(fake.root) == before
    assert not fake.state_dir.exists()
    assert fake.restarts() == 0
    # The rendered file is checked as a real run checks it, from a temporary copy outside the
    # host's tree that is gone afterwards.
    (checked,) = [call[3] for call in fake.calls if call[1:3] == ["-p", "-f"]]
    assert not checked.startswith(str(fake.root)) and not os.path.exists(checked)
    facts = result.facts
    assert result.changed and facts["changed"] and facts["check_mode"]
    assert facts["file_action"] == "create"
    assert facts["after_state"]["sha256"] == facts_of.sha256(EXPECTED_FILE.encode())
    assert facts["desired_state_applied"] is False
    assert facts["assessment"]["state"] == "unhealthy"
    assert "desired_state_not_applied" in facts["assessment"]["reasons"]
    assert result.diff == {
        "before_header": facts_of.MANAGED_FILE + " (absent)",
        "after_header": facts_of.MANAGED_FILE,
        "before": "",
        "after": EXPECTED_FILE,
    }


def test_replace_keeps_the_previous_content_and_rollback_restores_it(fake: FakeChrony, valid: Any) -> None:
    chrony.apply(fake.host(), "present", ["10.30.0.0/16"], check_mode=False)
    first = fake.managed.read_bytes()
    result = valid(chrony.apply(fake.host(), "present", SUBNETS, check_mode=False))
    assert result.facts["file_action"] == "replace"
    assert result.facts["diff"] == {"added_subnets": CANONICAL, "removed_subnets": ["10.30.0.0/16"]}
    assert result.facts["backup"] == {"generation": 2, "phase": "applied", "previous_present": True}
    assert sorted(p.name for p in fake.state_dir.iterdir()) == ["previous-2.conf", "record.json"]

    rolled = valid(chrony.rollback(fake.host(), check_mode=False))
    assert rolled.changed and not rolled.failed
    assert fake.managed.read_bytes() == first
    assert fake.restarts() == 3
    assert rolled.facts["action"] == "rollback" and rolled.facts["desired_state"] == "previous"
    assert rolled.facts["desired_state_applied"] is True
    assert rolled.facts["assessment"] == {"state": "healthy"}
    assert rolled.facts["backup"]["phase"] == "rolled_back"
    assert rolled.facts["rollback_available"] is False

    again = valid(chrony.rollback(fake.host(), check_mode=False))
    assert not again.changed and not again.failed and fake.restarts() == 3


def test_rollback_of_a_first_apply_removes_the_file(fake: FakeChrony, valid: Any) -> None:
    chrony.apply(fake.host(), "present", SUBNETS, check_mode=False)
    before = snapshot(fake.root)
    predicted = valid(chrony.rollback(fake.host(), check_mode=True))
    assert predicted.changed and predicted.facts["file_action"] == "remove"
    assert snapshot(fake.root) == before
    rolled = valid(chrony.rollback(fake.host(), check_mode=False))
    assert rolled.changed and not fake.managed.exists()
    assert rolled.facts["after_state"]["present"] is False
    assert fake.active


def test_rollback_restarts_chrony_left_down_by_a_failed_restore(fake: FakeChrony, valid: Any) -> None:
    chrony.apply(fake.host(), "present", ["10.30.0.0/16"], check_mode=False)
    first = fake.managed.read_bytes()
    fake.restart_fails_when = lambda config: True  # the new file and the restore both fail
    failed = valid(chrony.apply(fake.host(), "present", SUBNETS, check_mode=False))
    assert failed.facts["restore_succeeded"] is False and not fake.active
    assert fake.managed.read_bytes() == first  # the previous file is back, chrony is not

    fake.restart_fails_when = lambda config: False  # the operator fixed the cause
    predicted = valid(chrony.rollback(fake.host(), check_mode=True))
    assert predicted.changed and not fake.active
    rolled = valid(chrony.rollback(fake.host(), check_mode=False))
    assert rolled.changed and not rolled.failed and fake.active
    assert rolled.facts["file_action"] == "none" and rolled.facts["chrony_active"] is True
    assert fake.managed.read_bytes() == first


def test_rollback_refuses_a_file_changed_outside(fake: FakeChrony, valid: Any) -> None:
    chrony.apply(fake.host(), "present", SUBNETS, check_mode=False)
    fake.managed.write_text(EXPECTED_FILE + "allow 10.99.0.0/16\n")
    edited = fake.managed.read_bytes()
    result = valid(chrony.rollback(fake.host(), check_mode=False))
    assert result.failed and not result.changed
    assert result.facts["failure"] == "file_diverged"
    assert "changed outside Tecrax" in result.message and "nothing was changed" in result.message
    assert fake.managed.read_bytes() == edited


def test_rollback_without_a_backup(fake: FakeChrony, valid: Any) -> None:
    result = valid(chrony.rollback(fake.host(), check_mode=False))
    assert result.failed and result.facts["failure"] == "no_backup"
    assert result.facts["assessment"]["state"] == "unhealthy"


def test_rollback_with_a_corrupt_backup(fake: FakeChrony, valid: Any) -> None:
    chrony.apply(fake.host(), "present", ["10.30.0.0/16"], check_mode=False)
    chrony.apply(fake.host(), "present", SUBNETS, check_mode=False)
    (fake.state_dir / "previous-2.conf").write_text("allow 10.66.0.0/16\n")
    result = valid(chrony.rollback(fake.host(), check_mode=False))
    assert result.failed and result.facts["failure"] == "backup_corrupt"
    assert fake.managed.read_text() == EXPECTED_FILE


def test_restart_failure_restores_the_previous_state(fake: FakeChrony, valid: Any) -> None:
    fake.restart_fails_when = lambda config: "allow 10.20.0.0/16" in config
    result = valid(chrony.apply(fake.host(), "present", SUBNETS, check_mode=False))
    assert result.failed and not result.changed
    assert not fake.managed.exists()
    assert fake.active and fake.restarts() == 2
    facts = result.facts
    assert facts["failure"] == "restart_failed"
    assert (facts["automatic_restore"], facts["restore_succeeded"]) == (True, True)
    assert facts["after_state"]["present"] is False and facts["chrony_active"] is True
    assert facts["backup"] == {"generation": 1, "phase": "restored", "previous_present": False}
    assert facts["rollback_available"] is False
    assert "restart_failed" in facts["assessment"]["reasons"]
    assert result.message == (
        "chrony did not restart with the new configuration; the previous configuration was restored and chrony "
        "is active again [Job for chrony.service failed because the control process exited with error code.]"
    )


def test_not_listening_restores_the_previous_content(fake: FakeChrony, valid: Any) -> None:
    chrony.apply(fake.host(), "present", ["10.30.0.0/16"], check_mode=False)
    first = fake.managed.read_bytes()
    (fake.conf_dir / "zz-site.conf").write_text("port 0\n")
    result = valid(chrony.apply(fake.host(), "present", SUBNETS, check_mode=False))
    assert result.failed and result.facts["failure"] == "udp_123_not_listening"
    assert fake.managed.read_bytes() == first
    assert result.facts["restore_succeeded"] is True and fake.active
    assert result.message == (
        "chronyd does not listen on UDP port 123; the previous configuration was restored and chrony is active "
        "again [checked for 5 s after the restart]"
    )


def test_daemon_dying_after_restart_is_chrony_inactive(fake: FakeChrony, valid: Any) -> None:
    fake.crash_after_restart = True
    result = valid(chrony.apply(fake.host(), "present", SUBNETS, check_mode=False))
    assert result.failed and result.facts["failure"] == "chrony_inactive"
    assert result.facts["restore_succeeded"] is False
    assert "restoring the previous configuration FAILED (chrony is not active): manual action is needed" in result.message


def test_whole_config_rejected_and_restore_impossible(fake: FakeChrony, valid: Any) -> None:
    (fake.conf_dir / "broken.conf").write_text("bogus directive\n")
    result = valid(chrony.apply(fake.host(), "present", SUBNETS, check_mode=False))
    assert result.failed
    assert result.facts["failure"] == "chrony_config_rejected"
    assert result.facts["restore_succeeded"] is False
    assert not fake.managed.exists()
    assert "<path>" in result.message and str(fake.root) not in result.message


def test_refusals_before_any_write(fake: FakeChrony, valid: Any) -> None:
    before = snapshot(fake.root)
    with pytest.raises(SubnetError, match="allowed_subnets\\[0\\] '8.8.8.0/24' is not inside a private range"):
        chrony.apply(fake.host(), "present", ["8.8.8.0/24"], check_mode=False)
    fake.installed = False
    result = valid(chrony.apply(fake.host(), "present", SUBNETS, check_mode=False))
    assert result.failed and result.facts["failure"] == "chrony_not_installed"
    assert result.message.endswith("; nothing was changed")
    assert "chrony_not_installed" in result.facts["coverage"]["blockers"]
    assert snapshot(fake.root) == before


def chrony_not_installed(fake: FakeChrony) -> None:
    fake.installed = False


def conf_dir_missing(fake: FakeChrony) -> None:
    fake.conf_dir.rename(fake.root / "elsewhere")


@pytest.mark.parametrize(("fault", "failure"), [(chrony_not_installed, "chrony_not_installed"),
                                                (conf_dir_missing, "confdir_missing")])
def test_check_mode_refuses_where_the_apply_refuses(fake: FakeChrony, valid: Any, fault: Any, failure: str) -> None:
    fault(fake)
    before = snapshot(fake.root)
    checked = valid(chrony.apply(fake.host(), "present", SUBNETS, check_mode=True))
    assert snapshot(fake.root) == before
    applied = valid(chrony.apply(fake.host(), "present", SUBNETS, check_mode=False))
    assert checked.failed and applied.failed and not checked.changed and not applied.changed
    assert checked.message == applied.message and checked.message.endswith("; nothing was changed")
    assert checked.facts["failure"] == applied.facts["failure"] == failure
    assert checked.facts["check_mode"] is True and checked.facts["file_action"] == "none"
    assert snapshot(fake.root) == before


def test_check_mode_of_rollback_and_of_an_interrupted_apply_refuses_without_chrony(
    fake: FakeChrony, valid: Any
) -> None:
    chrony.apply(fake.host(), "present", ["10.30.0.0/16"], check_mode=False)
    fake.interrupt_on = "systemctl restart"
    with pytest.raises(KeyboardInterrupt):
        chrony.apply(fake.host(), "present", SUBNETS, check_mode=False)
    fake.interrupt_on = None
    fake.installed = False
    before = snapshot(fake.root)
    checked_rollback = valid(chrony.rollback(fake.host(), check_mode=True))
    checked_apply = valid(chrony.apply(fake.host(), "present", SUBNETS, check_mode=True))
    assert snapshot(fake.root) == before
    for checked in (checked_rollback, checked_apply):
        assert checked.failed and not checked.changed and checked.facts["failure"] == "chrony_not_installed"
        assert checked.message == "chrony is not installed (no chronyd or no chrony.service); nothing was changed"
    assert valid(chrony.rollback(fake.host(), check_mode=False)).message == checked_rollback.message
    # The real apply finishing the interrupted one fails for the same reason; having written
    # before, it also tries to restore (which check mode does not predict).
    finished = valid(chrony.apply(fake.host(), "present", SUBNETS, check_mode=False))
    assert finished.failed and finished.facts["failure"] == "chrony_not_installed"
    assert finished.message.startswith("chrony is not installed (no chronyd or no chrony.service); ")


def test_missing_conf_dir_is_refused(fake: FakeChrony, valid: Any) -> None:
    fake.conf_dir.rename(fake.root / "elsewhere")
    result = valid(chrony.apply(fake.host(), "present", SUBNETS, check_mode=False))
    assert result.failed and result.facts["failure"] == "confdir_missing"
    assert not fake.state_dir.exists()


def test_absent_removes_and_rollback_brings_it_back(fake: FakeChrony, valid: Any) -> None:
    chrony.apply(fake.host(), "present", SUBNETS, check_mode=False)
    removed = valid(chrony.apply(fake.host(), "absent", [], check_mode=False))
    assert removed.changed and not fake.managed.exists()
    assert removed.facts["file_action"] == "remove"
    assert removed.facts["assessment"] == {"state": "healthy"}
    assert removed.facts["udp_123_listening"] is False
    assert valid(chrony.apply(fake.host(), "absent", [], check_mode=False)).changed is False
    valid(chrony.rollback(fake.host(), check_mode=False))
    assert fake.managed.read_text() == EXPECTED_FILE


def test_interrupted_apply_is_finished_by_the_next_apply(fake: FakeChrony, valid: Any) -> None:
    fake.interrupt_on = "systemctl restart"
    with pytest.raises(KeyboardInterrupt):
        chrony.apply(fake.host(), "present", SUBNETS, check_mode=False)
    assert fake.managed.read_text() == EXPECTED_FILE
    assert record(fake)["phase"] == "writing"
    fake.interrupt_on = None
    read_back = valid(chrony.read(fake.host(), "present", SUBNETS))
    assert read_back.facts["allow_lines_effective"] is False
    assert read_back.facts["assessment"]["state"] == "unhealthy"

    finished = valid(chrony.apply(fake.host(), "present", SUBNETS, check_mode=False))
    assert finished.changed and not finished.failed
    assert finished.facts["file_action"] == "none"
    assert finished.facts["assessment"] == {"state": "healthy"}
    assert record(fake)["phase"] == "applied" and record(fake)["generation"] == 1


def test_interrupt_while_writing_leaves_old_or_new_content(fake: FakeChrony) -> None:
    chrony.apply(fake.host(), "present", ["10.30.0.0/16"], check_mode=False)
    old = fake.managed.read_bytes()
    original_rename = os.rename

    def interrupted_rename(source: str, target: str) -> None:
        raise KeyboardInterrupt("killed")

    os.rename = interrupted_rename  # type: ignore[assignment]
    try:
        with pytest.raises(KeyboardInterrupt):
            chrony.apply(fake.host(), "present", SUBNETS, check_mode=False)
    finally:
        os.rename = original_rename  # type: ignore[assignment]
    assert fake.managed.read_bytes() == old
    assert not [p for p in fake.conf_dir.iterdir() if p.name != "tecrax-ntp-server.conf"]


def test_read_against_desired_and_unspecified(fake: FakeChrony, valid: Any) -> None:
    absent = valid(chrony.read(fake.host(), "unspecified", []))
    assert absent.facts["assessment"] == {"state": "unhealthy", "reasons": ["managed_file_absent", "udp_123_not_listening"]}
    assert absent.facts["allow_lines_effective"] is None
    chrony.apply(fake.host(), "present", SUBNETS, check_mode=False)
    for desired_state, subnets in (("present", SUBNETS), ("unspecified", [])):
        result = valid(chrony.read(fake.host(), desired_state, subnets))
        assert result.facts["assessment"] == {"state": "healthy"}
        assert result.facts["before_state"] == result.facts["after_state"]
        assert result.facts["action"] == "read" and not result.changed
    other = valid(chrony.read(fake.host(), "present", ["10.30.0.0/16"]))
    assert other.facts["assessment"] == {
        "state": "unhealthy",
        "reasons": ["desired_state_not_applied", "allow_not_effective"],
    }
    fake.active = False
    fake.listening = False
    stopped = valid(chrony.read(fake.host(), "present", SUBNETS))
    assert stopped.facts["chrony_active"] is False and stopped.facts["udp_123_listening"] is False
    assert stopped.facts["assessment"]["reasons"] == ["udp_123_not_listening", "allow_not_effective", "chrony_inactive"]


# --- the facts builder is total --------------------------------------------------------------

texts = st.one_of(st.none(), st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode("latin-1")))


@settings(max_examples=150, deadline=None)
@given(
    file_content=st.one_of(st.none(), st.binary(max_size=400), st.just(facts_of.render(CANONICAL))),
    file_readable=st.booleans(),
    record=st.one_of(st.none(), st.binary(max_size=200), st.just(b'{"format": 1, "generation": 3}')),
    installed=st.one_of(st.none(), st.booleans()),
    config_rc=st.one_of(st.none(), st.integers(-5, 5)),
    config_text=st.text(max_size=300),
    service=st.one_of(st.none(), st.dictionaries(st.sampled_from(["LoadState", "ActiveState", "SubState", "MainPID"]), st.text(max_size=40))),
    tables=st.one_of(st.none(), st.lists(st.text(max_size=300), max_size=2)),
    links=st.one_of(st.none(), st.lists(st.text(max_size=30), max_size=5)),
    accheck=texts,
    action=st.sampled_from(facts_of.ACTIONS),
    desired=st.sampled_from(facts_of.DESIRED_STATES),
    failure=st.one_of(st.none(), st.sampled_from(["restart_failed", "no_backup", "write_failed"])),
)
def test_build_facts_from_any_observation_is_schema_valid(
    facts_schema_errors: Any, file_content: Any, file_readable: bool, record: Any, installed: Any, config_rc: Any,
    config_text: str, service: Any, tables: Any, links: Any, accheck: Any, action: str, desired: str, failure: Any,
) -> None:
    subnets = CANONICAL if desired == "present" else []
    state = facts_of.file_state(file_content, file_readable)
    seen = facts_of.Observation(
        file_readable=file_readable, file_content=file_content, record=record, chronyd_installed=installed,
        config_rc=config_rc, config_text=config_text, service=service, udp_tables=tables, chrony_fd_links=links,
        accheck={subnet: accheck for subnet in subnets},
    )
    restored = failure is not None and action != "read"
    outcome = facts_of.Outcome(action, False, desired, subnets, state, state,
                               automatic_restore=restored, restore_succeeded=True if restored else None,
                               failure=None if action == "read" else failure)
    facts = facts_of.build_facts_from(outcome, seen)
    assert facts_schema_errors(facts, SCHEMA) == []


def test_a_hand_written_file_without_the_header_is_named_as_such(fake: FakeChrony, valid: Any) -> None:
    fake.managed.write_text("allow 10.20.0.0/16\n")
    fake._restart()
    result = valid(chrony.read(fake.host(), "unspecified", []))
    assert result.facts["config_present"] is False
    assert result.facts["allow_lines_effective"] is True
    assert result.facts["assessment"] == {"state": "unhealthy", "reasons": ["managed_header_missing"]}


def test_an_oversized_managed_file_is_refused_untouched(fake: FakeChrony, valid: Any) -> None:
    fake.managed.write_text("# padding\n" * 7000)  # 70 KB, beyond the 64 KiB the module reads
    before = snapshot(fake.root)
    result = valid(chrony.apply(fake.host(), "present", SUBNETS, check_mode=False))
    assert result.failed and result.facts["failure"] == "managed_file_unreadable"
    assert result.message == ("the managed chrony file exists but cannot be read (or is larger than 64 KiB); "
                              "nothing was changed")
    assert "managed_file_unreadable" in result.facts["coverage"]["blockers"]
    assert snapshot(fake.root) == before


def test_only_a_whole_socket_link_names_a_socket_inode() -> None:
    links = ["socket:[4242]", "socket:[17]\n", "socket:[18]\r\n", "pipe:[19]", " socket:[20]"]
    assert facts_of.socket_inodes(links) == ["4242"]


@pytest.mark.parametrize("line_break", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_backup_record_digest_with_a_trailing_line_break_is_invalid(line_break: str) -> None:
    digest = facts_of.sha256(b"allow 10.20.0.0/16\n")
    assert digest is not None
    good = {"format": 1, "generation": 1, "phase": "applied", "previous_present": False,
            "previous_sha256": None, "applied_sha256": digest}
    assert facts_of.parse_record(json.dumps(good).encode())["phase"] == "applied"
    bad = dict(good, applied_sha256=digest + line_break)
    assert facts_of.parse_record(json.dumps(bad).encode())["phase"] == "invalid"


def test_a_deeply_nested_backup_record_is_invalid_not_an_error() -> None:
    assert facts_of.parse_record(b"[" * 4096)["phase"] == "invalid"
    assert facts_of.parse_record(b'{"a": ' * 2000)["phase"] == "invalid"
