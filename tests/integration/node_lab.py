"""A lab host that serves as an ansible-runner execution node.

The ``exec-node-*`` flavor (cached, built once per machine) has ``python3-venv`` and a venv at
``/opt/tecrax-node`` with the ansible-runner and ansible-core versions of this controller,
installed offline from wheels the controller's pip downloads (PyPI or its cache) into the
layer. Nothing else: the tecrax.ops files a job runs travel with the job.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from lab import Flavor, chroot_run, chroot_session

NODE_VENV = "/opt/tecrax-node"
NODE_RUNNER = f"{NODE_VENV}/bin/ansible-runner"
_WHEELS = "opt/tecrax-node-wheels"
REQUIREMENTS = (f"ansible-runner=={version('ansible-runner')}", f"ansible-core=={version('ansible-core')}")


def _provision_node(root: Path) -> None:
    wheels = root / _WHEELS
    wheels.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", str(wheels),
                    *REQUIREMENTS], check=True, timeout=900)
    with chroot_session(root):
        chroot_run(root, ["python3", "-m", "venv", NODE_VENV])
        chroot_run(root, [f"{NODE_VENV}/bin/pip", "install", "-q", "--no-index", "--find-links", f"/{_WHEELS}",
                          *REQUIREMENTS])


def _flavor_name() -> str:
    """``exec-node-ar<runner>-ac<core>`` (a new layer when either version changes)."""
    runner, core = (re.sub(r"[^0-9]+", "", requirement.split("==")[1]) for requirement in REQUIREMENTS)
    return f"exec-node-ar{runner}-ac{core}"


EXECUTION_NODE_FLAVOR = Flavor(_flavor_name(), packages=("python3-venv",), provision=_provision_node, revision=1)
