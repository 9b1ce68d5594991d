"""Component facts for the monitoring host diagnosis tests, made by the components' own
normalizers from the recordings under tests/unit/data (lab hosts, real Zabbix 6.0.14, the
AdGuard/Portainer stand-ins): the facts the diagnosis really aggregates, not hand-written ones.

``component_facts(component, state)`` returns one facts object; ``outcomes(**states)`` the
``{component: {"facts": ...}}`` input of ``normalize_monitoring_host_diagnosis`` with every
component healthy unless ``states`` says otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ansible_collections.tecrax.ops.plugins.module_utils.host.docker_service_health import (
    normalize_docker_service_health,
)
from ansible_collections.tecrax.ops.plugins.module_utils.host.host_inventory import normalize_host_inventory
from ansible_collections.tecrax.ops.plugins.module_utils.host.host_security_posture import (
    normalize_host_security_posture,
)
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_local_health import normalize_ntp_local_health
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_server_health import (
    normalize_ntp_server_observation,
)
from ansible_collections.tecrax.ops.plugins.module_utils.services.adguard_facts import observe_adguard
from ansible_collections.tecrax.ops.plugins.module_utils.services.portainer_facts import observe_portainer
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_probes import DnsExchange, HttpExchange
from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_api import Exchange
from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_facts import observe_reachability
from unit.recorded_states import ntp_recorded, security_good_host, security_output
from unit.service_replay import DNS_REPLIES, dns_reply, exchange_from_raw, http_response
from unit.zabbix_replay import Replay, recorded

DATA = Path(__file__).resolve().parent / "data"


def _text(*parts: str) -> str:
    return DATA.joinpath(*parts).read_text(encoding="utf-8")


def _inventory(state: str) -> dict[str, Any]:
    raw: dict[str, Any] = {key: _text("host_inventory", "hosts", "debian-12", key)
                           for key in ("os_release", "kernel", "hostname", "uptime", "loadavg", "df", "meminfo")}
    if state == "no_df":
        raw["df"] = None
    return normalize_host_inventory(raw)


NTP_RECORDINGS = {"healthy": "chrony-client-synchronized", "stopped": "chrony-stopped",
                  "no_source": "chrony-client-no-source"}
NTP_SERVER_RECORDINGS = {"healthy": "chrony-server-local-stratum", "stopped": "chrony-stopped",
                         "not_serving": "chrony-client-synchronized"}


def _ntp(state: str) -> dict[str, Any]:
    raw = ntp_recorded(NTP_RECORDINGS.get(state, "chrony-client-synchronized"))
    if state == "chronyc_missing":
        raw["chrony_tracking"] = {"rc": None, "output": ""}
    return normalize_ntp_local_health(raw)


def _ntp_server(state: str) -> dict[str, Any]:
    return normalize_ntp_server_observation(ntp_recorded(NTP_SERVER_RECORDINGS[state]))


DOCKER_RECORDINGS = {"healthy": "running.txt", "stopped": "stopped.txt", "failed": "failed.txt"}


def _docker(state: str) -> dict[str, Any]:
    if state == "no_systemctl":
        return normalize_docker_service_health({"systemctl_show": {"rc": None, "out": b""}})
    out = (DATA / "docker_service_health" / DOCKER_RECORDINGS[state]).read_bytes()
    return normalize_docker_service_health({"systemctl_show": {"rc": 0, "out": out}})


def _host_security(state: str) -> dict[str, Any]:
    changes = {
        "healthy": {},
        "pending": {"apt_simulation": security_output("apt-simulate-pending.txt")},
        "no_lists": {"package_lists": {"files": 0, "age_seconds": None}},
        "no_apt_get": {"apt_simulation": {"rc": None, "out": b""}},
    }[state]
    return normalize_host_security_posture(security_good_host(**changes))


def _zabbix(state: str) -> dict[str, Any]:
    overrides = {
        "healthy": {},
        "database_down": {"apiinfo.version": recorded("apiinfo_version_database_down")},
        "refused": {"apiinfo.version": Exchange(failure="connection_failed")},
        "tls": {"apiinfo.version": Exchange(failure="tls_verification_failed")},
    }[state]
    return observe_reachability(Replay(overrides), "http")


def _adguard(state: str) -> dict[str, Any]:
    case = {"nxdomain": "nxdomain"}.get(state, "addresses")
    dns = DnsExchange(message=dns_reply(case))
    if state == "resolver_down":
        dns = DnsExchange(failure="connection_refused")
    login = exchange_from_raw(http_response("login_200"))
    return observe_adguard(dns, DNS_REPLIES[case]["query_id"], DNS_REPLIES[case]["query_name"], login, "http")


def _portainer(state: str) -> dict[str, Any]:
    exchange = {
        "healthy": lambda: exchange_from_raw(http_response("portainer_status"), tls_verified=True),
        "unknown_ca": lambda: HttpExchange(failure="tls_unknown_ca"),
        "not_json": lambda: exchange_from_raw(http_response("portainer_not_json"), tls_verified=True),
    }[state]()
    return observe_portainer(exchange)


BUILDERS: dict[str, Callable[[str], dict[str, Any]]] = {
    "inventory": _inventory,
    "ntp": _ntp,
    "ntp_server": _ntp_server,
    "docker": _docker,
    "host_security": _host_security,
    "zabbix_api": _zabbix,
    "adguard": _adguard,
    "portainer": _portainer,
}


def component_facts(component: str, state: str = "healthy") -> dict[str, Any]:
    return BUILDERS[component](state)


def outcomes(**states: Any) -> dict[str, Any]:
    """Every component healthy, except: ``component="<state>"`` (facts of that recorded state)
    or ``component={"unavailable": cause}`` / any other value (used as the outcome itself)."""
    built: dict[str, Any] = {}
    for component in BUILDERS:
        state = states.get(component, "healthy")
        built[component] = {"facts": component_facts(component, state)} if isinstance(state, str) else state
    return built
