"""The playbook launcher (``tecrax-ansible-playbook``) and its warm start, with real
ansible-playbook runs over the local connection: the warm process holds nothing of a step
until it is handed one, then runs it as a freshly spawned ansible-playbook would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ptyprocess
import pytest

import tecrax
from tecrax.backend import warm_start
from tecrax.backend.playbook_launcher import (
    COMMAND,
    WARM_IMPORTS,
    Order,
    beyond_run_variables,
    launcher_beside,
)
from tecrax.backend.playbook_run import (
    PRIVATE_DIR_PREFIX,
    RUN_MARKER,
    PlaybookRun,
    RunHost,
    _environment_of,
    _own_processes,
    run_playbook,
)

pytestmark = pytest.mark.skipif(launcher_beside(sys.executable) is None,
                                reason=f"{COMMAND} is not installed beside this interpreter")


@pytest.fixture(autouse=True)
def no_pending_launcher() -> Iterator[None]:
    warm_start.discard()
    yield
    warm_start.discard()


@pytest.fixture
def spawns(monkeypatch: pytest.MonkeyPatch) -> list[list[Any]]:
    """The commands spawned in a pty from now on (a warm launcher handed over is not spawned
    again); the tests start theirs before they look."""
    seen: list[list[Any]] = []
    real = ptyprocess.PtyProcess.spawn.__func__  # type: ignore[attr-defined]

    def recording(cls: Any, argv: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(list(argv))
        return real(cls, argv, *args, **kwargs)

    monkeypatch.setattr(ptyprocess.PtyProcess, "spawn", classmethod(recording))
    return seen


def local_inventory_run() -> PlaybookRun:
    return run_playbook(collection_root=tecrax.collection_root(), playbook="playbooks/host_inventory.yml",
                        module="tecrax.ops.host_inventory",
                        hosts=[RunHost("here", {"ansible_connection": "local",
                                                "ansible_python_interpreter": sys.executable})],
                        ssh_args="", pipelining=True, timeout_seconds=120, check_mode=False)


def own_private_dirs() -> list[Path]:
    return sorted(Path(tempfile.gettempdir()).glob(f"{PRIVATE_DIR_PREFIX}{os.getpid()}-*"))


def test_warming_imports_nothing_of_ansible() -> None:
    probe = ("import json, sys; from tecrax.backend.playbook_launcher import warm_up; warm_up(); "
             "print(json.dumps(sorted(sys.modules)))")
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                           check=True).stdout))
    # Ansible's modules must import in their own order, after the order's environment is set;
    # only the stand-alone collection loader (and the package with its vendoring) comes early.
    early = {"ansible", "ansible._vendor", "ansible.release", "ansible.utils"}
    assert sorted(name for name in loaded if (name == "ansible" or name.startswith("ansible."))
                  and name not in early and not name.startswith("ansible.utils.collection_loader")) == []
    # Every name exists in the pinned packages: a rename would silently shrink the warm-up.
    assert set(WARM_IMPORTS) <= loaded


def test_the_prefetched_routing_table_is_ansible_cores_own_and_served_once() -> None:
    probe = """
import json, ansible, pathlib
from ansible.utils.collection_loader import _collection_finder, _collection_meta
from tecrax.backend.playbook_launcher import prefetch_builtin_routing
raw = (pathlib.Path(ansible.__file__).parent / "config" / "ansible_builtin_runtime.yml").read_bytes()
prefetch_builtin_routing()
hooked = _collection_finder._meta_yml_to_dict
first = hooked(raw, ("ansible.builtin", "runtime.yml"))
second = hooked(raw, ("ansible.builtin", "runtime.yml"))
other = hooked(b"plugin_routing: {modules: {a: {redirect: b.c.d}}}", ("b.c", "runtime.yml"))
print(json.dumps([first == _collection_meta._meta_yml_to_dict(raw, None), first is not second, second == first,
                  other, len(first["plugin_routing"]["modules"]) > 100]))
"""
    checks = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                       check=True).stdout)
    assert checks == [True, True, True, {"plugin_routing": {"modules": {"a": {"redirect": "b.c.d"}}}}, True]


def test_only_what_a_run_adds_may_differ_without_a_fresh_start() -> None:
    started = {"HOME": "/root", "LANG": "C.UTF-8", "PATH": "/bin"}
    order = {**started, "PATH": "/venv/bin:/bin", "ANSIBLE_CONFIG": "/x", "AWX_ISOLATED_DATA_DIR": "/a",
             "RUNNER_OMIT_EVENTS": "False", "TECRAX_RUN_DIR": "/tmp/d", "ORIGINAL_STDOUT_CALLBACK": "default"}
    assert beyond_run_variables(order) == beyond_run_variables(started)
    for changed in ({"PYTHONHASHSEED": "7"}, {"LANG": "C"}, {"OPENSSL_CONF": "/etc/other.cnf"}):
        assert beyond_run_variables({**order, **changed}) != beyond_run_variables(started)
    assert beyond_run_variables({key: value for key, value in order.items() if key != "HOME"}) != \
        beyond_run_variables(started)


def test_an_order_survives_its_encoding() -> None:
    order = Order(["/bin/launcher", "play.yml", "-e", "@/tmp/x y/extravars"], {"A": "1", "B": "ü"}, "/tmp/p")
    assert Order.decode(order.encode()) == order


def test_a_warm_launcher_runs_the_step_it_is_handed(spawns: list[list[Any]]) -> None:
    launcher = warm_start.start()
    assert launcher is not None
    spawns.clear()
    assert [path.name for path in own_private_dirs()] == [launcher.workdir.name]
    # Before its order it holds no step: only the reserved directory's name and its pipe.
    environ = Path(f"/proc/{launcher.process.pid}/environ").read_bytes().split(b"\0")
    assert not any(entry.startswith(b"ANSIBLE_") for entry in environ)
    assert list(launcher.workdir.iterdir()) == []

    run = local_inventory_run()

    assert run.status == "successful"
    assert run.outcome_for("here").status == "ok"
    assert run.outcome_for("here").result["facts"]["contract"]["id"] == "tecrax.basic_host_inventory"
    assert spawns == []  # ansible-runner's spawn was answered by the warm process
    assert launcher.process.exitstatus == 0
    assert warm_start.take() is None
    assert own_private_dirs() == []


def test_a_launcher_started_with_other_interpreter_settings_starts_afresh(
        spawns: list[list[Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    launcher = warm_start.start()
    assert launcher is not None
    spawns.clear()
    monkeypatch.setenv("PYTHONHASHSEED", "7")  # the order now differs from the launcher's start

    run = local_inventory_run()

    assert run.outcome_for("here").status == "ok"
    assert spawns == []
    assert launcher.process.exitstatus == 0


def test_a_dead_warm_launcher_is_replaced_by_a_plain_spawn(spawns: list[list[Any]]) -> None:
    launcher = warm_start.start()
    assert launcher is not None
    spawns.clear()
    os.kill(launcher.process.pid, signal.SIGKILL)
    launcher.process.wait()

    run = local_inventory_run()

    assert run.outcome_for("here").status == "ok"
    assert len(spawns) == 1 and Path(os.fsdecode(spawns[0][0])).name == COMMAND
    assert own_private_dirs() == []


def test_an_unused_warm_launcher_is_ended_and_its_directory_removed() -> None:
    launcher = warm_start.start()
    assert launcher is not None

    warm_start.discard()

    assert not launcher.process.isalive()
    assert not launcher.workdir.exists()
    assert warm_start.take() is None


def test_switched_off_no_warm_launcher_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(warm_start.SWITCH_VARIABLE, "0")
    assert warm_start.start() is None
    assert own_private_dirs() == []


def test_a_warm_launcher_whose_tecrax_process_died_ends_by_itself() -> None:
    script = ("import os; from tecrax.backend import warm_start; launcher = warm_start.start(); "
              "print(launcher.process.pid, flush=True); os._exit(0)")
    pid = int(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout)
    deadline = time.monotonic() + 60
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(pid), "the orphaned launcher kept waiting for an order"


def test_tecrax_run_refused_leaves_no_launcher_and_no_directory(tmp_path: Path) -> None:
    tecrax_command = Path(sys.executable).with_name("tecrax")
    process = subprocess.Popen([str(tecrax_command), "run", "no_such_intent", "--root", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, error = process.communicate(timeout=300)
    assert process.returncode == 1
    assert "unknown intent: no_such_intent" in error
    its_directories = f"{RUN_MARKER}={tempfile.gettempdir()}/{PRIVATE_DIR_PREFIX}{process.pid}-".encode()
    assert list(Path(tempfile.gettempdir()).glob(f"{PRIVATE_DIR_PREFIX}{process.pid}-*")) == []
    assert [pid for pid in _own_processes() if its_directories in _environment_of(pid) and _running(pid)] == []


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


