"""What an execution-node job carries: the controller's paths moved into the node's job
directory, the targets' host keys, the collection files the run uses, and no key material or
key file path. The lab tests run real jobs on a node (tests/integration/test_group_targets.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

import tecrax
from tecrax.backend import node_run
from tecrax.backend.node_run import ExecutionNode, NodeJob
from tecrax.backend.playbook_run import RunHost, _ansible_environment, _without_key_files

NODE = ExecutionNode(host="node-1.example.org", port=2222, user="runner", ansible_runner="/opt/node/bin/ansible-runner")
SSH_ARGS = ("-o UserKnownHostsFile=/etc/tecrax/known_hosts -o GlobalKnownHostsFile=/dev/null "
            "-o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes -o ControlMaster=no")


def job(workdir: Path, **changes: object) -> NodeJob:
    fields: dict[str, object] = {
        "workdir": workdir, "collection_root": tecrax.collection_root(), "playbook": "playbooks/host_inventory.yml",
        "limit": "web-1", "envvars": _ansible_environment(workdir, SSH_ARGS, True), "cmdline": None,
        "timeout_seconds": 60, "forks": None, "ssh_key": None, "key_files": ["/etc/tecrax/id_ed25519"],
        "destinations": [("198.51.100.7", 22), ("198.51.100.8", 2200)],
    }
    return NodeJob(**{**fields, **changes})  # type: ignore[arg-type]


def test_no_ssh_master_crosses_the_hop(tmp_path: Path) -> None:
    multiplexed = SSH_ARGS.replace("ControlMaster=no", "ControlMaster=auto -o ControlPersist=60s "
                                                       "-o ControlPath=/var/lib/tecrax/cp/%C")
    envvars = {**_ansible_environment(tmp_path, multiplexed, True),
               "ANSIBLE_SSH_CONTROL_PATH_DIR": "/var/lib/tecrax/cp"}
    options = node_run.ssh_options(multiplexed)
    environment = node_run._node_environment(job(tmp_path, envvars=envvars), NODE, "/tmp/tecrax-job-1", options)
    node_side = node_run.ssh_options(environment["ANSIBLE_SSH_ARGS"])
    assert node_side["ControlMaster"] == "no" and "ControlPath" not in node_side and "ControlPersist" not in node_side
    assert "ANSIBLE_SSH_CONTROL_PATH_DIR" not in environment
    command = node_run._ssh_command(NODE, options, forward_agent=True)
    assert "ControlMaster=no" in command and not any(part.startswith("Control") and part != "ControlMaster=no"
                                                     for part in command)


def test_the_node_environment_has_no_controller_path(tmp_path: Path) -> None:
    workdir = tmp_path / "tecrax-run-1-abc"
    node_dir = "/var/tmp/tecrax-job-0123"
    environment = node_run._node_environment(job(workdir), NODE, node_dir,
                                             node_run.ssh_options(SSH_ARGS))
    assert environment["ANSIBLE_CONFIG"] == f"{node_dir}/ansible.cfg"
    assert environment["ANSIBLE_COLLECTIONS_PATH"] == f"{node_dir}/collections"
    assert environment["PATH"].startswith("/opt/node/bin:")
    assert node_run.ssh_options(environment["ANSIBLE_SSH_ARGS"]) == {
        "UserKnownHostsFile": f"{node_dir}/known_hosts", "GlobalKnownHostsFile": "/dev/null",
        "StrictHostKeyChecking": "yes", "BatchMode": "yes", "IdentitiesOnly": "no", "ControlMaster": "no"}
    assert not any(str(tmp_path) in value or "/etc/tecrax" in value for value in environment.values())


def test_the_job_ships_the_collection_files_it_runs_and_no_link(tmp_path: Path) -> None:
    link = tmp_path / node_run.COLLECTION_LINK
    link.parent.mkdir(parents=True)
    link.symlink_to(tecrax.collection_root(), target_is_directory=True)
    node_run._ship_collection(job(tmp_path))
    assert not link.is_symlink()
    assert sorted(path.name for path in link.iterdir()) == ["meta", "playbooks", "plugins"]
    assert [path.name for path in (link / "playbooks").iterdir()] == ["host_inventory.yml"]
    module = link / "plugins" / "modules" / "host_inventory.py"
    assert module.read_bytes() == (tecrax.collection_root() / "plugins" / "modules" / "host_inventory.py").read_bytes()
    assert not list(link.rglob("__pycache__"))


def test_key_files_stay_on_the_controller() -> None:
    hosts = [RunHost("a", {"ansible_host": "198.51.100.7", "ansible_ssh_private_key_file": "/etc/tecrax/id"}),
             RunHost("b", {"ansible_host": "198.51.100.8"})]
    stripped, files = _without_key_files(hosts)
    assert files == ["/etc/tecrax/id"]
    assert [dict(host.variables) for host in stripped] == [{"ansible_host": "198.51.100.7"},
                                                           {"ansible_host": "198.51.100.8"}]


def test_the_forwarded_key_is_constrained_to_the_node_and_the_runs_targets(tmp_path: Path) -> None:
    agent = node_run._Agent(job(tmp_path), NODE, "/etc/tecrax/known_hosts")
    assert agent._constraints == [
        "-H", "/etc/tecrax/known_hosts", "-h", "[node-1.example.org]:2222",
        "-h", "[node-1.example.org]:2222>198.51.100.7", "-h", "[node-1.example.org]:2222>[198.51.100.8]:2200"]
    assert node_run._ssh_command(NODE, node_run.ssh_options(SSH_ARGS), forward_agent=True)[-4:] == [
        "-l", "runner", "node-1.example.org", "--"]
    assert "ForwardAgent=yes" in node_run._ssh_command(NODE, {}, forward_agent=True)
    assert "ForwardAgent=no" in node_run._ssh_command(NODE, {}, forward_agent=False)


@pytest.mark.parametrize(
    ("stderr", "error_class", "message"),
    [
        ("root@node-1: Permission denied (publickey).", "auth_failed",
         "SSH authentication or host key check failed for execution node node-1.example.org"),
        ("Host key verification failed.", "auth_failed",
         "SSH authentication or host key check failed for execution node node-1.example.org"),
        ("ssh: connect to host node-1 port 2222: Connection refused", "transient_connector_error",
         "execution node node-1.example.org unreachable (connection refused)"),
        ("bash: line 1: /opt/node/bin/ansible-runner: No such file or directory", "unsupported",
         "execution node node-1.example.org has no ansible-runner at /opt/node/bin/ansible-runner"),
        ("", "transient_connector_error", "execution node node-1.example.org ended the job stream without a result"),
    ],
)
def test_a_node_that_cannot_run_the_job_is_named_with_an_error_class(stderr: str, error_class: str,
                                                                     message: str) -> None:
    failure = node_run._connection_failure(NODE, stderr)
    assert (failure.error_class, failure.message) == (error_class, message)
