"""Start the backend's ansible-playbook early, before there is any step to give it.

A governed run spends its first 0.3-0.4 s importing RExecOp, GovEngine and SCLite, planning
and being admitted, with the machine's other cores idle; the ansible-playbook it then starts
spends its first 0.2 s importing libraries that read no configuration. ``tecrax run`` overlaps
the two: at its start it launches ``tecrax-ansible-playbook`` in a pseudo-terminal, as
ansible-runner would, and the launcher imports those libraries and waits
(``tecrax.backend.playbook_launcher``).

Until a step is admitted, that process holds nothing of any step: no target, inventory,
playbook, Ansible configuration, inputs or secrets, and it connects nowhere. It has an empty
private data directory reserved for it (named, like every run's, after the ``tecrax`` process),
whose path is in its environment so that a cancelled run's clean-up finds it and its children.
When the backend runs a playbook after admission, ansible-runner's spawn of the launcher is
answered with this process instead (``hand_over``): it receives the command line, environment
and working directory ansible-runner built, and only then reads Ansible's configuration.

It is used once, for the first playbook run of the command (a local one: not one on an
execution node, nor one wrapped in ssh-agent for key material); when unused, it is killed and
its directory removed. Should the ``tecrax`` process die first, its pipe closes, which ends the
launcher too. ``TECRAX_WARM_START=0`` turns it off.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tecrax.backend.playbook_launcher import ORDER_FD_VARIABLE, Order, launcher_beside

SWITCH_VARIABLE = "TECRAX_WARM_START"


@dataclass
class WarmLauncher:
    command: Path
    workdir: Path
    process: Any  # ptyprocess.PtyProcess
    _order_pipe: int | None = field(default=None, repr=False)

    def hand_over(self, argv: Sequence[str | bytes], env: Mapping[str, str], cwd: str) -> Any | None:
        """Give the process its order and return it, to stand for the one ansible-runner is
        spawning; None when it cannot (already used or gone): then spawn as usual."""
        pipe, self._order_pipe = self._order_pipe, None
        if pipe is None:
            return None
        command = [part.decode() if isinstance(part, bytes) else str(part) for part in argv]
        try:
            if self.process.isalive():
                os.write(pipe, Order(command, dict(env), cwd).encode())
                handed = True
            else:
                handed = False
        except OSError:
            handed = False
        finally:
            os.close(pipe)
        if not handed:
            _end(self.process)  # reap it and close its pty
            return None
        self.process.argv, self.process.env, self.process.launch_dir = command, dict(env), cwd
        return self.process

    def discard(self) -> None:
        """End the process if it never got an order (closing the pipe would end it too, once
        its imports are done), and remove its unused directory."""
        if self._order_pipe is not None:
            os.close(self._order_pipe)
            self._order_pipe = None
            _end(self.process)
            shutil.rmtree(self.workdir, ignore_errors=True)


_pending: WarmLauncher | None = None


def start() -> WarmLauncher | None:
    """Launch the warm launcher for this process's next playbook run, if there is a launcher
    and it is not switched off."""
    global _pending
    command = launcher_beside(sys.executable)
    if _pending is not None or command is None or os.environ.get(SWITCH_VARIABLE, "1") == "0":
        return _pending
    import ptyprocess

    from tecrax.backend.playbook_run import RUN_MARKER, new_private_dir

    workdir = new_private_dir()
    order_read, order_write = os.pipe()
    os.set_inheritable(order_read, True)  # ptyprocess keeps pass_fds open but not across exec
    try:
        process = ptyprocess.PtyProcess.spawn(
            [str(command)], env={**os.environ, RUN_MARKER: str(workdir), ORDER_FD_VARIABLE: str(order_read)},
            echo=False, preexec_fn=_ignore_hangups, pass_fds=(order_read,))
    except OSError:
        os.close(order_write)
        shutil.rmtree(workdir, ignore_errors=True)
        return None
    finally:
        os.close(order_read)
    process.delayafterclose = 0  # closed only once it has exited (see playbook_run)
    _pending = WarmLauncher(command, workdir, process, order_write)
    return _pending


def take() -> WarmLauncher | None:
    """The pending warm launcher, for one playbook run (None when there is none)."""
    global _pending
    launcher, _pending = _pending, None
    return launcher


def discard() -> None:
    """End the pending warm launcher, if one was started and never used."""
    launcher = take()
    if launcher is not None:
        launcher.discard()


def _ignore_hangups() -> None:
    # As ansible-runner starts ansible-playbook (pexpect's ignore_sighup).
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def _end(process: Any) -> None:
    """Kill and reap a launcher that holds nothing (it might still be importing), without the
    waits of a graceful close."""
    try:
        process.kill(signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait()
        process.close(force=True)
    except Exception:  # noqa: BLE001 - already reaped and closed
        pass
