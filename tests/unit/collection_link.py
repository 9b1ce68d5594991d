"""This checkout as the collection ``ansible_collections.tecrax.ops``, without installing it.

A temporary directory holds the link chain ``ansible_collections/tecrax/ops -> <repository
root>``: first on ``sys.path`` it makes Python import the source tree's collection code, and as
``ANSIBLE_COLLECTIONS_PATH`` it makes the Ansible tools (ansible-doc, ansible-playbook) find it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def link_collection(prefix: str = "tecrax-collection-") -> Path:
    """A fresh directory (removed at exit) above ``ansible_collections/tecrax/ops``."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, root, True)
    (root / "ansible_collections" / "tecrax").mkdir(parents=True)
    (root / "ansible_collections" / "tecrax" / "ops").symlink_to(REPO_ROOT, target_is_directory=True)
    return root


def ansible_environment(home: Path) -> dict[str, str]:
    """The environment for an Ansible tool that sees only this checkout's collection: an empty
    ``ansible.cfg`` and ``ANSIBLE_HOME`` under ``home``."""
    (home / "ansible.cfg").write_text("")
    return {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(link_collection()), "ANSIBLE_HOME": str(home / "home"),
            "ANSIBLE_CONFIG": str(home / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
