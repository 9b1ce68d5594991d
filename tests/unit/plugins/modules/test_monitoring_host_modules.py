"""The tecrax.ops.monitoring_host_local module and the controller side of the
tecrax.ops.monitoring_host_diagnosis action, run in-process.

monitoring_host_local: this machine runs no systemd, so its commands are answered from the
recordings of lab hosts (NTP, Docker, security posture; the same files the single modules'
tests use) through the command runner; the files it reads are this machine's.
monitoring_host_diagnosis (plugins/action/): the probes talk to local servers replaying the
recorded Zabbix 6.0.14 and AdGuard/Portainer stand-in answers (mocks of the services, named so;
the lab tests run the same code against real ones); the host part is a recorded result. Its
ActionModule.run runs for real through ansible-runner in tests/unit/test_backend_diagnosis.py.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.tecrax.ops.plugins.module_utils.common.command_runner import (
    CommandResult,
    CommandRunner,
    CommandTimedOut,
)
from ansible_collections.tecrax.ops.plugins.action import monitoring_host_diagnosis as action
from ansible_collections.tecrax.ops.plugins.modules import monitoring_host_local
from unit.diagnosis_inputs import outcomes
from unit.openssl_pki import Pki
from unit.recorded_commands import exited
from unit.service_replay import DNS_REPLIES, DnsReplayServer, HttpReplayServer, http_response, recorded_dns, server_context
from unit.zabbix_replay import FakeZabbix, serve_zabbix

DATA = Path(__file__).resolve().parents[2] / "data"
HOST_LOCAL = ["inventory", "ntp", "ntp_server", "docker", "host_security"]
SCHEMAS = {
    "inventory": "basic_host_inventory.v1.schema.json",
    "ntp": "ntp_local_health.v1.schema.json",
    "ntp_server": "ntp_server_observation.v1.schema.json",
    "docker": "docker_service_health.v1.schema.json",
    "host_security": "host_security_posture.v1.schema.json",
}
NTP = DATA / "ntp" / "chrony-client-synchronized"
SECURITY = DATA / "host_security_posture"


def run(module: Any, capsys: pytest.CaptureFixture[str], args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    with patch_module_args(args):
        with pytest.raises(SystemExit) as ended:
            module.main()
    return ended.value.code or 0, json.loads(capsys.readouterr().out)


class RecordedHost:
    """Answers the command runner from recordings: a synchronized chrony client with a running
    Docker and unattended upgrades on. Thread-safe: the module runs its observations at once."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def run(self, argv: list[str], **_options: Any) -> CommandResult:
        with self._lock:
            self.calls.append(list(argv))
            self.threads.add(threading.current_thread().name)
        if os.path.basename(argv[0]) == "setpriv":  # apt-get as nobody: answered as apt-get
            argv = [arg for arg in argv[1:] if not arg.startswith("--")]
        program = os.path.basename(argv[0])
        if program == "systemctl" and "docker.service" in argv:
            return exited(0, (DATA / "docker_service_health" / "running.txt").read_bytes())
        if program == "systemctl" and "apt-daily-upgrade.timer" in argv:
            return exited(0, (SECURITY / "units-enabled.txt").read_bytes())
        files = {"systemctl": "unit." + argv[-1], "timedatectl": "timedatectl_show",
                 "dpkg-query": SECURITY / "dpkg-status-installed.txt",
                 "apt-config": SECURITY / "apt-periodic-debian-default.txt",
                 "apt-get": SECURITY / "apt-simulate-none.txt",
                 "df": DATA / "host_inventory" / "hosts" / "debian-12" / "df"}
        name = files.get(program) or {"tracking": "chronyc_tracking", "serverstats": "chronyc_serverstats"}[argv[-1]]
        path = name if isinstance(name, Path) else NTP / name
        rc_file = Path(str(path) + ".rc")
        return exited(int(rc_file.read_text()) if rc_file.exists() else 0, path.read_bytes())


@pytest.fixture
def recorded_host(monkeypatch: pytest.MonkeyPatch) -> RecordedHost:
    host = RecordedHost()
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name)
    monkeypatch.setattr(CommandRunner, "run", lambda self, argv, **kwargs: host.run(argv, **kwargs))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    return host


@pytest.mark.parametrize("check_mode", [False, True])
def test_local_module_makes_the_five_observations(capsys: pytest.CaptureFixture[str], facts_schema_errors: Any,
                                                  recorded_host: RecordedHost, check_mode: bool) -> None:
    code, result = run(monitoring_host_local, capsys, {"_ansible_check_mode": check_mode})
    assert code == 0 and result["changed"] is False and "failed" not in result
    observations = result["observations"]
    assert list(observations) == HOST_LOCAL
    for name, schema in SCHEMAS.items():
        assert facts_schema_errors(observations[name]["facts"], schema) == [], name
    assert observations["ntp"]["facts"]["assessment"] == {"state": "healthy"}
    assert observations["docker"]["facts"]["assessment"] == {"state": "healthy"}
    assert observations["inventory"]["facts"]["root_filesystem"]["device"] == "/dev/vda"
    # The observations ran in threads of their own, each with the single modules' commands.
    assert len(recorded_host.threads) >= 4
    programs = sorted({os.path.basename(call[0]) for call in recorded_host.calls})
    assert programs == ["apt-config", "chronyc", "df", "dpkg-query", "setpriv", "systemctl", "timedatectl"]


def test_one_observation_timing_out_leaves_the_others(capsys: pytest.CaptureFixture[str], recorded_host: RecordedHost,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def hung_apt(commands: CommandRunner) -> Any:
        raise CommandTimedOut("apt-get", commands.budget_seconds)

    def broken(commands: CommandRunner) -> Any:
        raise RuntimeError("a collector bug")

    observations = dict(monitoring_host_local.OBSERVATIONS)
    observations["host_security"] = (hung_apt, observations["host_security"][1])
    observations["docker"] = (broken, observations["docker"][1])
    monkeypatch.setattr(monitoring_host_local, "OBSERVATIONS", observations)
    code, result = run(monitoring_host_local, capsys, {})
    assert code == 0 and "failed" not in result
    assert result["observations"]["host_security"] == {"unavailable": "timeout"}
    assert result["observations"]["docker"] == {"unavailable": "observation_failed"}
    assert result["observations"]["ntp"]["facts"]["assessment"] == {"state": "healthy"}


def test_local_module_refuses_options_and_a_bad_budget(capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    code, result = run(monitoring_host_local, capsys, {"units": ["sshd.service"]})
    assert code == 1 and "units" in result["msg"]
    monkeypatch.setenv("TECRAX_MODULE_BUDGET_SECONDS", "soon")
    code, result = run(monitoring_host_local, capsys, {})
    assert code == 1 and result["msg"].startswith("TECRAX_MODULE_BUDGET_SECONDS must be a whole number")


# --- the controller-side action ---------------------------------------------------------------


class Services:
    """Local stand-ins replaying the recorded answers; settings pointing at them."""

    def __init__(self, pki: Pki) -> None:
        self.zabbix = serve_zabbix(FakeZabbix())
        self.resolver = DnsReplayServer(recorded_dns("addresses"))
        self.login = HttpReplayServer(http_response("login_200"))
        self.portainer = HttpReplayServer(http_response("portainer_status"),
                                          server_context(pki.server_cert, pki.server_key))
        self.settings = {
            "zabbix": {"api_url": self.zabbix.url, "timeout_seconds": 5},
            "adguard": {"dns_server": "127.0.0.1", "dns_port": self.resolver.port,
                        "query_name": DNS_REPLIES["addresses"]["query_name"],
                        "web_url": f"http://127.0.0.1:{self.login.port}", "timeout_seconds": 2},
            "portainer": {"base_url": f"https://127.0.0.1:{self.portainer.port}", "ca_file": str(pki.ca_file),
                          "timeout_seconds": 5},
        }

    def close(self) -> None:
        self.zabbix.httpd.shutdown()
        self.zabbix.httpd.server_close()
        for server in (self.resolver, self.login, self.portainer):
            server.close()


@pytest.fixture
def services(pki: Pki) -> Iterator[Services]:
    started = Services(pki)
    yield started
    started.close()


def host_result() -> dict[str, Any]:
    """A monitoring_host_local result: the recorded healthy host-local facts."""
    return {"changed": False, "observations": {name: outcome for name, outcome in outcomes().items()
                                               if name in HOST_LOCAL}}


def test_healthy_monitoring_host(facts_schema_errors: Any, services: Services) -> None:
    facts = action.diagnose(services.settings, host_result, 30)
    assert facts_schema_errors(facts, "monitoring_host_diagnosis.v1.schema.json") == []
    assert facts["assessment"] == {"state": "healthy"}
    assert {name: entry["status"] for name, entry in facts["components"].items()} == dict.fromkeys(
        facts["scope"]["requested"], "healthy")
    assert [seen.body["method"] for seen in services.zabbix.zabbix.seen] == ["apiinfo.version"]
    assert "auth" not in services.zabbix.zabbix.seen[0].body
    assert len(services.resolver.queries) == 1 and len(services.login.requests) == 1
    assert len(services.portainer.requests) == 1


def test_the_probes_run_while_the_host_is_observed(services: Services) -> None:
    """The host part waits until every probe has asked its service: done one after the other,
    it would wait forever (bounded here)."""
    asked = threading.Event()

    def observe_host() -> dict[str, Any]:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (services.zabbix.zabbix.seen and services.resolver.queries
                                                   and services.portainer.requests):
            time.sleep(0.01)
        asked.set()
        return host_result()

    facts = action.diagnose(services.settings, observe_host, 30)
    assert asked.is_set() and services.zabbix.zabbix.seen and services.portainer.requests
    assert facts["assessment"] == {"state": "healthy"}


def test_services_without_settings_are_not_configured() -> None:
    facts = action.diagnose({}, host_result, 30)
    components = facts["components"]
    for name in ("zabbix_api", "adguard", "portainer"):
        assert (components[name]["status"], components[name]["reasons"]) == ("unavailable", ["not_configured"])
    assert facts["assessment"] == {"state": "unavailable", "reasons": [
        "adguard_unavailable", "portainer_unavailable", "zabbix_api_unavailable"]}


def test_unreachable_host_still_probes_the_services(services: Services) -> None:
    facts = action.diagnose(services.settings, lambda: {"unreachable": True}, 30)
    assert facts["scope"]["observed"] == ["zabbix_api", "adguard", "portainer"]
    assert facts["components"]["ntp"]["reasons"] == ["connection_failed"]


def test_a_wrong_ca_is_unavailable_not_unhealthy(services: Services, pki: Pki) -> None:
    settings = {**services.settings, "portainer": {**services.settings["portainer"], "ca_file": str(pki.other_ca_file)}}
    facts = action.diagnose(settings, host_result, 30)
    assert facts["components"]["portainer"] == {
        "status": "unavailable", "check_intent": "check_portainer_health",
        "facts_contract": "tecrax.portainer_reachability", "assessment_state": "unavailable",
        "coverage_state": "blocked", "reasons": ["tls_unknown_ca"]}
    assert facts["findings"] == [{"kind": "monitoring.component_unavailable", "severity": "medium",
                                  "component": "portainer", "reason_code": "tls_failed"}]


def test_a_probe_outliving_the_budget_is_timed_out(services: Services) -> None:
    """Zabbix takes the request and never answers; with a 2 s budget (its own time limit is 60 s)
    the action reports it timed out, with no facts of its own, while AdGuard and Portainer,
    probed at the same time, are observed."""
    hanging = serve_zabbix(FakeZabbix("hang"))
    try:
        settings = {**services.settings, "zabbix": {"api_url": hanging.url, "timeout_seconds": 60}}
        facts = action.diagnose(settings, host_result, 2)
    finally:
        hanging.zabbix.release.set()
        hanging.httpd.shutdown()
        hanging.httpd.server_close()
    components = facts["components"]
    assert (components["zabbix_api"]["reasons"], components["zabbix_api"]["assessment_state"]) == (["timeout"], None)
    assert (components["adguard"]["status"], components["portainer"]["status"]) == ("healthy", "healthy")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"zabbix": {"api_url": "ftp://zabbix.example.org/api_jsonrpc.php"}},
         "zabbix.api_url must start with http:// or https://"),
        ({"zabbix": {"api_url": "http://zabbix.example.org/zabbix/api_jsonrpc.php", "api_token_secret_ref": "x"}},
         "zabbix.api_token_secret_ref is not a known key (known: api_url, ca_file, timeout_seconds)"),
        ({"adguard": {"dns_server": "adguard.example.org", "web_url": "http://192.0.2.10"}},
         "adguard.dns_server must be an IPv4 or IPv6 address"),
        ({"portainer": {"base_url": "http://portainer.example.org:9000", "ca_file": "/etc/tecrax/ca.pem"}},
         "portainer.base_url must start with https:// (only verified TLS is used)"),
        ({"portainer": {"base_url": "https://portainer.example.org:9443", "ca_file": "/nonexistent/ca.pem"}},
         "portainer.ca_file is not a readable file"),
        ({"portainer": "https://portainer.example.org:9443"}, "portainer must be a mapping"),
        ({"shell": "id"}, "shell is not an option (options: adguard, portainer, zabbix)"),
    ],
)
def test_invalid_settings_are_refused_before_anything_runs(settings: dict[str, Any], message: str) -> None:
    observed: list[str] = []
    with pytest.raises(action.SettingsRefused) as refused:
        action.diagnose(settings, lambda: observed.append("host") or host_result(), 30)
    assert str(refused.value) == message
    assert observed == []


def test_a_ca_file_that_is_no_certificate_is_refused(tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")
    with pytest.raises(action.SettingsRefused, match=r"^portainer.ca_file holds no usable PEM CA certificate$"):
        action.prepared_probes({"portainer": {"base_url": "https://portainer.example.org:9443", "ca_file": str(not_pem)}})
