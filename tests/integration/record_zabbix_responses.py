"""Record real Zabbix 6.0 API responses as unit-test data (tests/unit/data/zabbix/).

    python tests/integration/record_zabbix_responses.py [--out DIR]

Boots a lab host from the Zabbix flavor, seeds it (zabbix_lab.seed_objects), and sends the
exact requests the tecrax.ops Zabbix modules send, plus the failure cases (rejected, expired
and header-borne tokens, a database outage, a wrong path). Each response body is stored byte
for byte as ``<name>.body``; ``responses.json`` records the request, the HTTP status and the
Zabbix version. No credential is written anywhere: requests are recorded with ``auth`` shown
as ``"<api token>"``, ``"<wrong token>"`` or ``"<expired token>"``.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from lab import Lab  # noqa: E402
from zabbix_lab import ZABBIX_FLAVOR, ZabbixLabApi, seed_objects  # noqa: E402

DEFAULT_OUT = HERE.parent / "unit" / "data" / "zabbix"
LISTING = {
    "output": ["hostid"],
    "selectInterfaces": ["type", "main", "available"],
    "filter": {"status": 0},
    "sortfield": "hostid",
    "limit": 20001,
}


class Recorder:
    def __init__(self, api: ZabbixLabApi, out: Path, version: str) -> None:
        self.api, self.out, self.version = api, out, version
        self.index: dict[str, Any] = {}

    def record(self, name: str, method: str, params: Any, request_id: int, *, auth: tuple[str, str] | None = None,
               bearer: tuple[str, str] | None = None, path: str | None = None) -> None:
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params, "id": request_id}
        shown = dict(body)
        headers = {}
        if auth is not None:
            body["auth"], shown["auth"] = auth
        if bearer is not None:
            headers["Authorization"] = "Bearer " + bearer[0]
            shown["headers"] = {"Authorization": "Bearer " + bearer[1]}
        url = self.api.url
        if path is not None:
            self.api.url = url.rsplit("/", 1)[0] + "/" + path
            shown["path"] = path
        try:
            status, raw = self.api.raw(json.dumps(body).encode(), headers)
        finally:
            self.api.url = url
        (self.out / f"{name}.body").write_bytes(raw)
        self.index[name] = {"http_status": status, "zabbix_version": self.version, "request": shown}
        print(f"recorded {name}: HTTP {status}, {len(raw)} bytes", file=sys.stderr)


def record_all(lab: Lab, host: Any, out: Path) -> None:
    api = ZabbixLabApi(host.address)
    version = api.wait_ready()
    seed_objects(api, host.address)
    token = api.create_api_token("recorder")
    expired = api.create_api_token("recorder-expired")
    expired_id = api.call("token.get", {"output": ["tokenid"], "filter": {"name": "recorder-expired"}})[0]["tokenid"]
    api.call("token.update", {"tokenid": expired_id, "expires_at": int(time.time()) - 60})
    good, wrong = (token, "<api token>"), (secrets.token_hex(32), "<wrong token>")

    rec = Recorder(api, out, version)
    rec.record("apiinfo_version", "apiinfo.version", [], 1)
    rec.record("apiinfo_version_with_auth", "apiinfo.version", [], 1, auth=good)
    for severity in range(6):
        rec.record(f"problem_count_severity_{severity}", "problem.get",
                   {"severities": [severity], "countOutput": True}, 2 + severity, auth=good)
    rec.record("problem_count_wrong_token", "problem.get", {"severities": [0], "countOutput": True}, 2, auth=wrong)
    rec.record("problem_count_expired_token", "problem.get", {"severities": [0], "countOutput": True}, 2,
               auth=(expired, "<expired token>"))
    rec.record("problem_count_bearer_header_on_6_0", "problem.get", {"severities": [0], "countOutput": True}, 2,
               bearer=good)
    rec.record("host_count_enabled", "host.get", {"filter": {"status": 0}, "countOutput": True}, 2, auth=good)
    rec.record("host_count_disabled", "host.get", {"filter": {"status": 1}, "countOutput": True}, 3, auth=good)
    rec.record("host_listing", "host.get", LISTING, 4, auth=good)
    rec.record("hostinterface_listing_agent", "hostinterface.get",
               {"output": ["hostid", "type", "main", "available"], "filter": {"type": 1}}, 4, auth=good)
    rec.record("wrong_path", "apiinfo.version", [], 1, path="api_jsonrpc_missing.php")

    # The cluster unit, not the postgresql.service umbrella (whose stop returns before the
    # cluster is down).
    lab.stop_service(host, "postgresql@*-main.service")
    try:
        rec.record("apiinfo_version_database_down", "apiinfo.version", [], 1)
        rec.record("problem_count_database_down", "problem.get", {"severities": [0], "countOutput": True}, 2,
                   auth=good)
    finally:
        lab.start_service(host, "postgresql@*-main.service")
    (out / "responses.json").write_text(json.dumps(rec.index, indent=1, sort_keys=True) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with Lab() as lab:
        host = lab.add_host("zabbix-rec", flavor=ZABBIX_FLAVOR)
        record_all(lab, host, args.out)


if __name__ == "__main__":
    main()
