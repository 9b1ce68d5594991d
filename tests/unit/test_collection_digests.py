"""The module_utils digest recorded in step data covers exactly the module_utils a module
imports, directly or through another module_utils, in their family subpackages."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

import tecrax
from tecrax.backend import digests
from tecrax.backend.actions import ActionSpec, load_action_catalog


def _digest_of(module_utils: Path, names: list[str]) -> str:
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode() + b"\0" + (module_utils / name).read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


@pytest.fixture(name="collection_copy")
def fixture_collection_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "ops"
    shutil.copytree(tecrax.collection_root() / "plugins", root / "plugins")
    shutil.copytree(tecrax.collection_root() / "playbooks", root / "playbooks")
    monkeypatch.setattr(digests, "collection_root", lambda: root)
    return root


def _action(name: str) -> ActionSpec:
    return load_action_catalog(Path(tecrax.profile_root()))[name]


def test_ntp_server_health_records_the_module_utils_it_imports_through_others(collection_copy: Path) -> None:
    module_utils = collection_copy / "plugins" / "module_utils"
    used = ["common/command_runner.py", "common/facts_envelope.py", "common/socket_table.py",
            "common/systemd_show.py", "ntp/ntp_server_health.py", "ntp/time_sync.py", "ntp/time_sync_collect.py"]
    recorded = digests.collection_digests(_action("ntp_server_health"))
    assert recorded["module_utils_digest"] == _digest_of(module_utils, used)
    module_file = collection_copy / "plugins" / "modules" / "ntp_server_health.py"
    assert recorded["module_digest"] == "sha256:" + hashlib.sha256(module_file.read_bytes()).hexdigest()


def test_the_digest_follows_a_used_module_utils_and_ignores_another_family(collection_copy: Path) -> None:
    module_utils = collection_copy / "plugins" / "module_utils"
    before = digests.collection_digests(_action("docker_service_health"))["module_utils_digest"]
    (module_utils / "zabbix" / "zabbix_api.py").write_text("# not used by docker_service_health\n")
    digests.module_utils_used.cache_clear()
    assert digests.collection_digests(_action("docker_service_health"))["module_utils_digest"] == before
    with (module_utils / "common" / "systemd_show.py").open("a") as handle:
        handle.write("# changed\n")
    digests.module_utils_used.cache_clear()
    assert digests.collection_digests(_action("docker_service_health"))["module_utils_digest"] != before


def test_every_module_records_at_least_the_facts_envelope() -> None:
    modules = tecrax.collection_root() / "plugins" / "modules"
    for module_file in sorted(modules.glob("*.py")):
        # A module that is documentation only runs as its action plugin.
        action_plugin = modules.parent / "action" / module_file.name
        code = action_plugin if action_plugin.is_file() else module_file
        used = {path.relative_to(modules.parent / "module_utils").as_posix()
                for path in digests.module_utils_used(code)}
        assert "common/facts_envelope.py" in used, module_file.name


def test_an_action_plugin_and_the_module_it_runs_on_the_host_are_recorded(collection_copy: Path) -> None:
    plugins = collection_copy / "plugins"
    recorded = digests.collection_digests(_action("monitoring_host_diagnosis"))
    assert recorded["action_plugin_digest"] == "sha256:" + hashlib.sha256(
        (plugins / "action" / "monitoring_host_diagnosis.py").read_bytes()).hexdigest()
    assert recorded["host_module_digests"] == {"tecrax.ops.monitoring_host_local": "sha256:" + hashlib.sha256(
        (plugins / "modules" / "monitoring_host_local.py").read_bytes()).hexdigest()}
    # Both the controller's code (diagnosis, services) and the host module's (host, ntp) count.
    for used in ("diagnosis/monitoring_host_diagnosis.py", "host/host_inventory.py"):
        with (plugins / "module_utils" / used).open("a") as handle:
            handle.write("# changed\n")
        digests.module_utils_used.cache_clear()
        changed = digests.collection_digests(_action("monitoring_host_diagnosis"))["module_utils_digest"]
        assert changed != recorded["module_utils_digest"], used
        recorded["module_utils_digest"] = changed
    assert "action_plugin_digest" not in digests.collection_digests(_action("host_inventory"))
