"""The role tecrax.ops.chrony_ntp_server on lab hosts: its molecule scenarios and its
restore on failure. The `lab` scenario creates and destroys a host through the lab CLI; the
`default` scenario is the role author's: run from the collection as ansible-galaxy installs
it, against a host named by the author's inventory (here a lab host). The private networks
are subnet inputs of the role."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from chrony_mutation_lab import MANAGED_FILE, RESTART_FAULT_UNIT, chrony_active, read_file, set_drop_in
from lab import Lab
from lab.inventory import inventory_document, write_inventory

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "chrony_ntp_server"
VENV_BIN = str(Path(sys.executable).parent)


def molecule_test(role_dir: Path, *arguments: str, env: dict[str, str] | None = None) -> str:
    completed = subprocess.run(
        [os.path.join(VENV_BIN, "molecule"), "test", *arguments],
        cwd=role_dir, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ.get("PATH", ""), "NO_COLOR": "1",
             **(env or {})},
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    return output


def test_molecule_lab_scenario(lab: Lab) -> None:  # the lab fixture: this machine can run lab hosts
    output = molecule_test(ROLE, "-s", "lab")
    for action in ("create", "converge", "idempotence", "verify", "destroy"):
        assert f"{action}: Executed: Successful" in output, action


def test_default_scenario_runs_from_the_installed_collection_on_the_authors_host(lab: Lab, tmp_path: Path) -> None:
    subprocess.run(
        [os.path.join(VENV_BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path), str(REPO)],
        capture_output=True, text=True, timeout=300, check=True, env={**os.environ, "ANSIBLE_HOME": str(tmp_path)})
    (tarball,) = tmp_path.glob("tecrax-ops-*.tar.gz")
    installed = tmp_path / "collections"
    subprocess.run(
        [os.path.join(VENV_BIN, "ansible-galaxy"), "collection", "install", "--force", "-p", str(installed), str(tarball)],
        capture_output=True, text=True, timeout=300, check=True, env={**os.environ, "ANSIBLE_HOME": str(tmp_path)})
    role = installed / "ansible_collections" / "tecrax" / "ops" / "roles" / "chrony_ntp_server"
    assert sorted(path.name for path in (role / "molecule").iterdir()) == ["default"]
    host = lab.add_host("chrony-ntp-server")
    # The author's inventory names their one host (the session's lab runs other hosts too).
    inventory = write_inventory(tmp_path / "authors-inventory.yml", [host])
    output = molecule_test(role, env={
        "TECRAX_MOLECULE_INVENTORY": str(inventory),
        "ANSIBLE_COLLECTIONS_PATH": str(installed),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path / "molecule"),
    })
    for action in ("converge", "idempotence", "verify"):
        assert f"{action}: Executed: Successful" in output, action
    assert "allow 192.168.77.0/24" in read_file(lab, host, MANAGED_FILE)  # secret-topology: allow the role test subnet


def test_default_scenario_runs_as_the_readme_says_from_the_wheel_installed_collection(lab: Lab, tmp_path: Path) -> None:
    """The README's role-author lines: `cd "$(tecrax collection-path)/.../chrony_ntp_server"` and
    `TECRAX_MOLECULE_INVENTORY=... molecule test`, with no collections path configured."""
    listed = subprocess.run([os.path.join(VENV_BIN, "tecrax"), "collection-path"],
                            capture_output=True, text=True, timeout=120, check=True)
    role = Path(listed.stdout.strip()) / "ansible_collections" / "tecrax" / "ops" / "roles" / "chrony_ntp_server"
    before = sorted(path.relative_to(role) for path in role.rglob("*"))
    host = lab.add_host("role-wheel")
    document = inventory_document([host])
    # The scenario's platform is named chrony-ntp-server; the author's inventory names the host so.
    document["all"]["hosts"] = {"chrony-ntp-server": document["all"]["hosts"][host.name]}
    inventory = tmp_path / "authors-inventory.yml"
    inventory.write_text(yaml.safe_dump(document))
    output = molecule_test(role, env={
        "TECRAX_MOLECULE_INVENTORY": str(inventory),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path / "molecule"),
    })
    for action in ("converge", "idempotence", "verify"):
        assert f"{action}: Executed: Successful" in output, action
    assert "allow 192.168.77.0/24" in read_file(lab, host, MANAGED_FILE)  # secret-topology: allow the role test subnet
    assert sorted(path.relative_to(role) for path in role.rglob("*")) == before, "molecule wrote into the venv"


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
