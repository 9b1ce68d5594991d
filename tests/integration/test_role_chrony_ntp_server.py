"""The role tecrax.ops.chrony_ntp_server on lab hosts: its molecule scenario (create and
destroy through the lab CLI, converge, idempotence, verify) and its restore on failure.
The private networks are subnet inputs of the role."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from chrony_mutation_lab import MANAGED_FILE, RESTART_FAULT_UNIT, chrony_active, read_file, set_drop_in
from lab import Lab

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "chrony_ntp_server"
VENV_BIN = str(Path(sys.executable).parent)


def test_molecule_default_scenario(lab: Lab) -> None:  # the lab fixture: this machine can run lab hosts
    completed = subprocess.run(
        [os.path.join(VENV_BIN, "molecule"), "test"],
        cwd=ROLE, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ.get("PATH", ""), "NO_COLOR": "1"},
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    for action in ("create", "converge", "idempotence", "verify", "destroy"):
        assert f"{action}: Executed: Successful" in output, action


def test_role_restores_the_previous_file_when_chrony_fails_to_restart(lab: Lab, tmp_path: Path) -> None:
    host = lab.add_host("role-fault")
    collections = tmp_path / "collections" / "ansible_collections" / "tecrax"
    collections.mkdir(parents=True)
    (collections / "ops").symlink_to(REPO, target_is_directory=True)
    inventory = lab.write_inventory(tmp_path / "inventory.yml")
    playbook = tmp_path / "converge.yml"
    playbook.write_text(
        "- hosts: role-fault\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.include_role:\n        name: tecrax.ops.chrony_ntp_server\n"
        "      vars:\n        chrony_ntp_server_allowed_subnets: [10.44.0.0/16]\n"
    )
    previous = "# kept by hand\nallow 10.45.0.0/16\n"
    lab.exec(host, ["sh", "-c", f"cat > {MANAGED_FILE}"], input_text=previous, check=True)
    set_drop_in(lab, host, RESTART_FAULT_UNIT.replace("! test -e", "! grep -q 10.44.0.0/16"))

    completed = subprocess.run(
        [os.path.join(VENV_BIN, "ansible-playbook"), "-i", str(inventory), "--limit", host.name, str(playbook)],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections"),
             "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false", "ANSIBLE_NOCOLOR": "1"},
    )
    assert completed.returncode == 2, completed.stdout[-3000:]
    assert "the previous configuration was restored and chrony is active again" in completed.stdout
    assert "failed=1" in completed.stdout
    assert read_file(lab, host, MANAGED_FILE) == previous
    assert chrony_active(lab, host)
