"""``tecrax-ansible-playbook``: ansible-playbook as the backend runs it, with CPython's cyclic
garbage collector set for a short-lived process, and able to start before its step is known.

**Collector.** ansible-playbook builds a few hundred thousand objects (its configuration
definitions, the collection routing, plugins, the play) that live until it exits. At CPython's
default first threshold the collector ran about 280 times over them in one host inventory
(0.065 s), then once more over everything while the interpreter shut down. Here it runs at
``tecrax.GC_THRESHOLD`` (once or twice a run), and the heap is frozen after every other exit
handler (Ansible's own included) has run, so that the interpreter's final collection skips it;
the memory goes back to the system at exit anyway. About 0.13 s of wall time and 0.12 s of CPU
less per run; the resident set grows by under 1 MiB.

**Warm start** (``tecrax.backend.warm_start``). Started with ``TECRAX_LAUNCHER_ORDER_FD`` in its
environment, the launcher first imports the third-party libraries ansible-playbook needs
(``WARM_IMPORTS``: Jinja2, PyYAML, multiprocessing, cryptography and a few of the standard
library), then waits for its order on that pipe: the command line, environment and working
directory ansible-runner would have started it with. Nothing of a step reaches it before then;
an empty order (the pipe closed: no step for it, or the ``tecrax`` process is gone) ends it.
It also parses ansible.builtin's routing table for the collection loader
(``prefetch_builtin_routing``). Every other module of ansible-core is imported only once the
order's environment is in place, so Ansible reads its configuration as in a fresh process.
When the order's environment differs from the one the launcher started with in anything but
what a run adds (``ANSIBLE_*`` and ansible-runner's variables, ``PATH``, the run's directory
marker), it executes itself afresh with the order instead.

Otherwise this is ansible-playbook's own ``main``: same arguments, output and exit status, and
the worker processes it forks inherit the collector setting.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tecrax import GC_THRESHOLD

COMMAND = "tecrax-ansible-playbook"
ORDER_FD_VARIABLE = "TECRAX_LAUNCHER_ORDER_FD"
# Libraries ansible-playbook imports before it reads its configuration, none of them part of
# ansible-core: ansible's own modules are imported only after the order, in their own order
# (which matters: module_utils' serialization profiles take in controller types only when
# ansible._internal was imported before them). tests/unit/test_playbook_launcher.py checks
# that warming imports nothing of ansible. A name missing from another release is skipped.
WARM_IMPORTS = (
    "jinja2.nativetypes",
    "jinja2.sandbox",
    "yaml",
    "multiprocessing.queues",
    "multiprocessing.synchronize",
    "cryptography.hazmat.backends.openssl.backend",
    "cryptography.hazmat.primitives.serialization",
    "importlib.metadata",
    "packaging.version",
    "typing_extensions",
    "inspect",
    "email.message",
    "subprocess",
    "hashlib",
    "pkgutil",
)
# What ansible-runner and the backend add to the environment of a run, all read by Ansible at
# run time. Any other difference between the environment the launcher started with and its
# order's makes it start afresh (a library warmed early might have read it).
RUN_VARIABLE_PREFIXES = ("ANSIBLE_", "AWX_", "RUNNER_")
RUN_VARIABLES = frozenset({"PATH", "TECRAX_RUN_DIR", "ORIGINAL_STDOUT_CALLBACK", "AD_HOC_COMMAND_ID"})


@dataclass(frozen=True)
class Order:
    argv: list[str]
    env: dict[str, str]
    cwd: str

    def encode(self) -> bytes:
        return json.dumps({"argv": self.argv, "env": self.env, "cwd": self.cwd}).encode("utf-8")

    @classmethod
    def decode(cls, data: bytes) -> Order:
        document = json.loads(data.decode("utf-8"))
        return cls([str(part) for part in document["argv"]],
                   {str(key): str(value) for key, value in document["env"].items()}, str(document["cwd"]))


def main() -> None:
    gc.set_threshold(*GC_THRESHOLD)
    atexit.register(gc.freeze)  # registered first, so it runs after every other exit handler
    order_fd = os.environ.pop(ORDER_FD_VARIABLE, None)
    if order_fd is not None:
        started_with = dict(os.environ)
        warm_up()
        order = read_order(int(order_fd))
        if order is None:
            return
        os.chdir(order.cwd)
        if beyond_run_variables(order.env) != beyond_run_variables(started_with):
            os.execve(order.argv[0], order.argv, order.env)
        os.environ.clear()
        os.environ.update(order.env)
        sys.argv[1:] = order.argv[1:]
    sys.argv[0] = "ansible-playbook"
    from ansible.cli.playbook import main as ansible_playbook

    ansible_playbook()


def warm_up() -> None:
    for name in WARM_IMPORTS:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    prefetch_builtin_routing()


def prefetch_builtin_routing() -> None:
    """Parse ansible.builtin's routing table (``ansible_builtin_runtime.yml``, 370 KB, about
    50 ms) ahead of time.

    The collection loader reads every collection's routing through its module-level
    ``_meta_yml_to_dict(data, content_id)``, which ansible-core keeps replaceable for tools that
    cache its output. It is answered with the prepared table once, when asked for exactly the
    bytes that were parsed; everything else goes to ansible-core's own parser. Only the
    collection loader is imported for this: it stands alone (ansible-test uses it without the
    rest of ansible-core) and reads no configuration."""
    try:
        import ansible
        from ansible.utils.collection_loader import _collection_finder

        parse = _collection_finder._meta_yml_to_dict
        raw = (Path(ansible.__file__).parent / "config" / "ansible_builtin_runtime.yml").read_bytes()
        prepared = [parse(raw, ("ansible.builtin", "runtime.yml"))]
    except (ImportError, AttributeError, OSError, ValueError, TypeError):
        return

    def routing(data: bytes | str, content_id: Any) -> Any:
        if prepared and data == raw:
            return prepared.pop()
        return parse(data, content_id)

    _collection_finder._meta_yml_to_dict = routing


def read_order(descriptor: int) -> Order | None:
    chunks = []
    with os.fdopen(descriptor, "rb") as pipe:
        while chunk := pipe.read(65536):
            chunks.append(chunk)
    return Order.decode(b"".join(chunks)) if chunks else None


def beyond_run_variables(env: Mapping[str, str]) -> dict[str, str]:
    """The environment without what a run adds to it. What is left (the interpreter's own
    settings such as ``PYTHON*`` and the locale, and whatever a library may read when it is
    imported) must be the same for the warm-up to stand for a fresh start."""
    return {key: value for key, value in env.items()
            if key not in RUN_VARIABLES and not key.startswith(RUN_VARIABLE_PREFIXES)}


def launcher_beside(interpreter: str) -> Path | None:
    """The launcher installed beside ``interpreter`` (the console script of this package), or
    None where there is none (a source tree on ``PYTHONPATH``): then plain ansible-playbook runs."""
    path = Path(interpreter).with_name(COMMAND)
    return path if path.is_file() else None
