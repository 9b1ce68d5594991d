"""ansible-runner's pty child closes without ptyprocess's fixed sleep; nothing else changes."""

from __future__ import annotations

import ansible_runner.runner
import pexpect

from tecrax.backend import playbook_run


def test_the_runner_spawns_children_whose_close_does_not_sleep() -> None:
    playbook_run._close_pty_without_delay()
    stand_in = ansible_runner.runner.pexpect
    assert stand_in is not pexpect and pexpect.spawn is not stand_in.spawn  # the real module is untouched
    assert (stand_in.EOF, stand_in.TIMEOUT, stand_in.exceptions) == (pexpect.EOF, pexpect.TIMEOUT, pexpect.exceptions)
    child = stand_in.spawn("true", [], encoding="utf-8")
    assert isinstance(child, pexpect.spawn)
    assert child.ptyproc.delayafterclose == 0
    child.expect(pexpect.EOF, timeout=30)
    while child.isalive():  # as ansible-runner's loop: close only after the child was reaped
        child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=0.1)
    child.close()
    assert child.exitstatus == 0


def test_a_child_still_running_at_close_is_still_terminated() -> None:
    playbook_run._close_pty_without_delay()
    child = ansible_runner.runner.pexpect.spawn("sleep", ["600"], encoding="utf-8")
    assert child.isalive()
    child.close()
    assert not child.isalive()
    assert child.signalstatus is not None


def test_installing_twice_keeps_one_stand_in() -> None:
    playbook_run._close_pty_without_delay()
    first = ansible_runner.runner.pexpect
    playbook_run._close_pty_without_delay()
    assert ansible_runner.runner.pexpect is first
