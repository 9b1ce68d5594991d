"""A real Zabbix 6.0 (server + PHP frontend + PostgreSQL, Debian bookworm packages) in a lab host.

The flavor layer is built once per machine and cached with the other lab layers (outside the
repository): packages, configuration and an initialised database. Booting a host from it gives
a working JSON-RPC API at ``http://<address>/zabbix/api_jsonrpc.php`` in a few seconds.

After boot, :class:`ZabbixLabApi` logs in as the stock ``Admin`` user (the lab is a private
bridge; the password is Zabbix's documented default) to create an API token and the hosts,
templates and triggers the tests count. The token only lives in memory and in the test's
secret file; nothing here prints it.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lab import Flavor, chroot_run, write_file

PACKAGES = (
    "postgresql",
    "zabbix-server-pgsql",
    "zabbix-frontend-php",
    "php-pgsql",
    "apache2",
    "libapache2-mod-php",
    "zabbix-agent",
)
API_PATH = "/zabbix/api_jsonrpc.php"
ADMIN_USER = "Admin"
# Zabbix's documented default for the stock Admin account; lab hosts only live on a private bridge.
ADMIN_LOGIN_WORD = "zabbix"

# Short polling and unreachability periods so that availability changes within seconds (stock
# values are tuned for production: a host takes over a minute to be marked unavailable).
SERVER_LAB_CONF = """\
# tecrax lab: database access and short periods
DBHost=localhost
DBName=zabbix
DBUser=zabbix
DBPassword={db_password}
CacheUpdateFrequency=2
UnreachablePeriod=3
UnreachableDelay=1
UnavailableDelay=5
Timeout=3
"""

FRONTEND_CONF = """\
<?php
// tecrax lab: the frontend's database settings (Debian reads this path; skips the setup wizard)
$DB['TYPE']           = 'POSTGRESQL';
$DB['SERVER']         = 'localhost';
$DB['PORT']           = '0';
$DB['DATABASE']       = 'zabbix';
$DB['USER']           = 'zabbix';
$DB['PASSWORD']       = '{db_password}';
$DB['SCHEMA']         = '';
$DB['ENCRYPTION']     = false;
$DB['KEY_FILE']       = '';
$DB['CERT_FILE']      = '';
$DB['CA_FILE']        = '';
$DB['VERIFY_HOST']    = false;
$DB['CIPHER_LIST']    = '';
$DB['VAULT_URL']      = '';
$DB['VAULT_DB_PATH']  = '';
$DB['VAULT_TOKEN']    = '';
$DB['DOUBLE_IEEE754'] = true;
$ZBX_SERVER           = 'localhost';
$ZBX_SERVER_PORT      = '10051';
$ZBX_SERVER_NAME      = 'tecrax-lab';
$IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;
"""

# The packaged Apache snippet only sets PHP limits for mod_php 5 and 7; bookworm ships PHP 8.2.
PHP_INI = """\
post_max_size = 16M
upload_max_filesize = 2M
max_execution_time = 300
max_input_time = 300
memory_limit = 256M
date.timezone = UTC
"""

# Creates the role and database and imports Debian's schema once; a no-op when done. Run at
# flavor build time (below) and, as a safety net, before zabbix-server on every boot.
DBINIT_SCRIPT = r"""#!/bin/bash
set -euo pipefail
cd /
pgver=$(ls /etc/postgresql | sort -V | tail -n1)
if [ "${1:-}" = --standalone ]; then
  pg_ctlcluster "$pgver" main start -- -o "-c listen_addresses="
  trap 'pg_ctlcluster "$pgver" main stop -m fast' EXIT
fi
for _ in $(seq 1 120); do runuser -u postgres -- pg_isready -q && break; sleep 0.5; done
psql_pg() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 "$@"; }
db_password=$(sed -n 's/^DBPassword=//p' /etc/zabbix/zabbix_server.conf.d/tecrax-lab.conf)
psql_pg -d postgres <<EOF
\set pw '$db_password'
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'zabbix') AS need_role \gset
\if :need_role
  CREATE ROLE zabbix LOGIN;
\endif
ALTER ROLE zabbix PASSWORD :'pw';
EOF
imported=""
if [ -n "$(psql_pg -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'zabbix'")" ]; then
  imported=$(psql_pg -d zabbix -Atc "SELECT CASE WHEN to_regclass('public.dbversion') IS NULL THEN '' ELSE (SELECT count(*)::text FROM dbversion) END")
fi
if [ -z "$imported" ] || [ "$imported" = 0 ]; then
  runuser -u postgres -- dropdb --if-exists zabbix
  runuser -u postgres -- createdb -O zabbix -T template0 -E UTF8 --locale=C.UTF-8 zabbix
  { echo 'SET ROLE zabbix;'; echo 'SET synchronous_commit = off;'
    zcat /usr/share/zabbix-server-pgsql/schema.sql.gz /usr/share/zabbix-server-pgsql/images.sql.gz \
         /usr/share/zabbix-server-pgsql/data.sql.gz; } | psql_pg -d zabbix >/dev/null
  psql_pg -d zabbix -c CHECKPOINT >/dev/null
fi
echo "tecrax-lab-zabbix-dbinit: ok"
"""

DBINIT_UNIT = """\
[Unit]
Description=tecrax lab: Zabbix database role, database and schema (no-op once done)
Wants=postgresql.service
After=postgresql.service postgresql@{pgver}-main.service
Before=zabbix-server.service apache2.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/tecrax-lab-zabbix-dbinit

[Install]
WantedBy=multi-user.target
"""

ENABLED_UNITS = ("postgresql", "zabbix-server", "apache2", "zabbix-agent")


def _symlink(root: Path, relative: str, target: str) -> None:
    link = root / relative
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)


def provision_zabbix(root: Path) -> None:
    """Configure the installed packages in a not-running tree and initialise the database."""
    pgver = sorted((root / "etc/postgresql").iterdir(), key=lambda p: [int(x) for x in p.name.split(".")])[-1].name
    db_password = secrets.token_hex(16)

    server_conf = write_file(
        root, "etc/zabbix/zabbix_server.conf.d/tecrax-lab.conf", SERVER_LAB_CONF.format(db_password=db_password), 0o640
    )
    frontend_conf = write_file(
        root, "etc/zabbix/zabbix.conf.php", FRONTEND_CONF.replace("{db_password}", db_password), 0o640
    )
    chroot_run(root, ["chown", "root:zabbix", "/" + str(server_conf.relative_to(root))])
    chroot_run(root, ["chown", "root:www-data", "/" + str(frontend_conf.relative_to(root))])
    for conf_dir in sorted((root / "etc/php").glob("*/apache2/conf.d")):
        write_file(root, str(conf_dir.relative_to(root) / "99-tecrax-lab.ini"), PHP_INI)
    _symlink(root, "etc/apache2/conf-enabled/zabbix-frontend-php.conf", "../conf-available/zabbix-frontend-php.conf")

    write_file(root, "usr/local/sbin/tecrax-lab-zabbix-dbinit", DBINIT_SCRIPT, 0o755)
    write_file(root, "etc/systemd/system/tecrax-lab-zabbix-dbinit.service", DBINIT_UNIT.format(pgver=pgver))
    wants = "etc/systemd/system/multi-user.target.wants"
    _symlink(root, f"{wants}/tecrax-lab-zabbix-dbinit.service", "/etc/systemd/system/tecrax-lab-zabbix-dbinit.service")
    for unit in ENABLED_UNITS:
        _symlink(root, f"{wants}/{unit}.service", f"/lib/systemd/system/{unit}.service")

    # Private mount, PID and network namespaces: PostgreSQL only runs for the import, sees the
    # tree's /proc and cannot listen on the machine's network.
    subprocess.run(
        [
            "unshare", "--mount", "--pid", "--net", "--fork", f"--mount-proc={root / 'proc'}",
            "chroot", str(root), "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
            "/usr/local/sbin/tecrax-lab-zabbix-dbinit", "--standalone",
        ],
        check=True, stdin=subprocess.DEVNULL, capture_output=True, timeout=600,
    )  # fmt: skip


ZABBIX_FLAVOR = Flavor(name="zabbix60", packages=PACKAGES, provision=provision_zabbix, revision=1)


def database_unit(lab: Any, host: Any) -> str:
    """The PostgreSQL cluster unit of the Zabbix host, by name: ``systemctl start`` with a glob
    matches loaded units only, and a stopped cluster unit need not stay loaded."""
    version = lab.exec(host, ["ls", "/etc/postgresql"], check=True).stdout.split()[-1]
    return f"postgresql@{version}-main.service"


class ZabbixApiError(RuntimeError):
    """A lab set-up call failed; the message carries Zabbix's error, never credentials."""


class ZabbixLabApi:
    """Set-up calls against the lab's Zabbix (session login; the code under test uses tokens)."""

    def __init__(self, address: str) -> None:
        self.url = f"http://{address}{API_PATH}"
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._session: str | None = None

    def call(self, method: str, params: Any, *, auth: bool = True) -> Any:
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params, "id": 1}
        if auth:
            body["auth"] = self._login()
        request = urllib.request.Request(
            self.url, json.dumps(body).encode(), {"Content-Type": "application/json-rpc"}
        )
        with self._opener.open(request, timeout=30) as response:
            answer = json.load(response)
        if "error" in answer:
            error = answer["error"]
            raise ZabbixApiError(f"{method}: {error.get('message')} {error.get('data')}")
        return answer["result"]

    def raw(self, payload: bytes, headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
        """POST ``payload`` as it is; returns the HTTP status and body (for recording test data)."""
        request = urllib.request.Request(
            self.url, payload, {"Content-Type": "application/json-rpc", **(headers or {})}
        )
        try:
            with self._opener.open(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def wait_ready(self, timeout: float = 120.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return str(self.call("apiinfo.version", [], auth=False))
            except (OSError, ZabbixApiError, ValueError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def _login(self) -> str:
        if self._session is None:
            self._session = str(
                self.call("user.login", {"username": ADMIN_USER, "password": ADMIN_LOGIN_WORD}, auth=False)
            )
        return self._session

    def create_api_token(self, name: str = "tecrax-lab") -> str:
        tokenids = self.call("token.create", {"name": name, "description": "tecrax lab"})["tokenids"]
        return str(self.call("token.generate", tokenids)[0]["token"])

    # --- objects the tests count ----------------------------------------------------------

    def group_id(self, name: str) -> str:
        found = self.call("hostgroup.get", {"output": ["groupid"], "filter": {"name": [name]}})
        if found:
            return str(found[0]["groupid"])
        return str(self.call("hostgroup.create", {"name": name})["groupids"][0])

    def delete_hosts_named(self, names: Sequence[str]) -> None:
        found = self.call("host.get", {"output": ["hostid"], "filter": {"host": list(names)}})
        if found:
            self.call("host.delete", [host["hostid"] for host in found])

    def create_host(
        self, name: str, group_id: str, *, enabled: bool = True, interfaces: Sequence[Mapping[str, Any]] = ()
    ) -> str:
        params = {
            "host": name,
            "groups": [{"groupid": group_id}],
            "status": 0 if enabled else 1,
            "interfaces": list(interfaces),
        }
        return str(self.call("host.create", params)["hostids"][0])

    def agent_interface_id(self, host_id: str) -> str:
        interfaces = self.call("hostinterface.get",
                               {"output": ["interfaceid"], "hostids": [host_id], "filter": {"type": 1}})
        return str(interfaces[0]["interfaceid"])

    def create_agent_ping_item(self, host_id: str, interface_id: str, delay: str = "2s") -> str:
        params = {
            "hostid": host_id,
            "interfaceid": interface_id,
            "name": "Agent ping",
            "key_": "agent.ping",
            "type": 0,
            "value_type": 3,
            "delay": delay,
        }
        return str(self.call("item.create", params)["itemids"][0])

    def create_trigger(self, description: str, expression: str, severity: int) -> str:
        params = {"description": description, "expression": expression, "priority": severity}
        return str(self.call("trigger.create", params)["triggerids"][0])

    def create_template_with_host_prototype(self, name: str, group_id: str) -> None:
        """A template holding a discovery rule whose host prototype has its own agent interface:
        neither may be counted as a host, nor its interface as a host's agent interface."""
        template_id = self.call("template.create", {"host": name, "groups": [{"groupid": group_id}]})["templateids"][0]
        rule_id = self.call(
            "discoveryrule.create",
            {"hostid": template_id, "name": "Lab discovery", "key_": "lab.discovery", "type": 2},
        )["itemids"][0]
        self.call(
            "hostprototype.create",
            {
                "host": "{#LAB.NAME}",
                "ruleid": rule_id,
                "groupLinks": [{"groupid": group_id}],
                "custom_interfaces": 1,
                "interfaces": [agent_interface("127.0.0.1")],
            },
        )

    def wait_for(self, what: str, check: Any, timeout: float = 90.0) -> Any:
        """Poll ``check()`` until it returns a truthy value."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"Zabbix did not reach: {what} within {timeout:.0f} s")
            time.sleep(1.0)


def agent_interface(ip: str, port: int = 10050) -> dict[str, Any]:
    return {"type": 1, "main": 1, "useip": 1, "ip": ip, "dns": "", "port": str(port)}


def snmp_interface(ip: str) -> dict[str, Any]:
    return {
        "type": 2, "main": 1, "useip": 1, "ip": ip, "dns": "", "port": "161",
        "details": {"version": 2, "bulk": 1, "community": "{$SNMP_COMMUNITY}"},
    }  # fmt: skip


# What seed_objects() creates, and therefore what the summaries must count.
SEEDED_HOST_STATUS = {"enabled": 4, "disabled": 1}
SEEDED_AGENT_AVAILABILITY = {"available": 1, "unavailable": 1, "unknown": 1, "without_agent_interface": 1}
# One trigger per problem; severities 0 (not classified) .. 5 (disaster).
SEEDED_PROBLEM_SEVERITIES = (1, 3, 3, 5, 5, 5)
SEEDED_PROBLEM_COUNTS = {str(severity): SEEDED_PROBLEM_SEVERITIES.count(severity) for severity in range(6)}
_UNREACHABLE_AGENT_PORT = 10059  # nothing listens there in the lab host


def seed_objects(api: ZabbixLabApi, host_address: str) -> None:
    """Replace the stock "Zabbix server" host by hosts in known states, and wait for them.

    - lab-agent-available: the host's own zabbix-agent answers agent.ping -> available
    - lab-agent-unavailable: agent interface on a closed port, polled -> unavailable
    - lab-agent-unknown: agent interface, never polled (no items) -> unknown
    - lab-snmp-only: enabled, no agent interface
    - lab-disabled: disabled host with an agent interface (not counted for availability)
    - a template with a host prototype that has its own agent interface (never counted)
    Six triggers on the available host's agent.ping fire once the first value arrives.
    """
    group = api.group_id("Tecrax lab")
    api.delete_hosts_named(["Zabbix server"])
    available = api.create_host("lab-agent-available", group, interfaces=[agent_interface("127.0.0.1")])
    unavailable = api.create_host(
        "lab-agent-unavailable", group, interfaces=[agent_interface("127.0.0.1", _UNREACHABLE_AGENT_PORT)]
    )
    api.create_host("lab-agent-unknown", group, interfaces=[agent_interface(host_address)])
    api.create_host("lab-snmp-only", group, interfaces=[snmp_interface(host_address)])
    api.create_host("lab-disabled", group, enabled=False, interfaces=[agent_interface("127.0.0.1")])
    api.create_template_with_host_prototype("Tecrax lab template", group)
    api.create_agent_ping_item(available, api.agent_interface_id(available))
    api.create_agent_ping_item(unavailable, api.agent_interface_id(unavailable))
    for number, severity in enumerate(SEEDED_PROBLEM_SEVERITIES):
        api.create_trigger(
            f"Lab problem {number} (severity {severity})",
            f"last(/lab-agent-available/agent.ping)>={-number}",
            severity,
        )

    def availability() -> dict[str, str]:
        hosts = api.call("host.get", {"output": ["host"], "selectInterfaces": ["type", "available"],
                                      "filter": {"host": ["lab-agent-available", "lab-agent-unavailable"]}})
        return {host["host"]: host["interfaces"][0]["available"] for host in hosts}

    api.wait_for("agent availability settled",
                 lambda: availability() == {"lab-agent-available": "1", "lab-agent-unavailable": "2"})
    api.wait_for("six problems open",
                 lambda: int(api.call("problem.get", {"countOutput": True})) == len(SEEDED_PROBLEM_SEVERITIES))


# --- HTTPS in front of the lab frontend -----------------------------------------------------

APACHE_TLS_SITE = """\
# tecrax lab: the frontend over TLS with a certificate from the test's own CA
<VirtualHost *:443>
    SSLEngine on
    SSLCertificateFile /etc/tecrax-lab/tls/server.pem
    SSLCertificateKeyFile /etc/tecrax-lab/tls/server.key
</VirtualHost>
"""


def write_test_ca(directory: Path, name: str) -> tuple[Path, Any, Any]:
    """A throw-away CA: (PEM certificate file, certificate, key)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _certificate(name, key.public_key(), name, key, ca=True, address=None)
    path = directory / f"{name.replace(' ', '-').lower()}.pem"
    path.write_bytes(_pem(certificate))
    return path, certificate, key


def enable_https(lab: Any, host: Any, ca_certificate: Any, ca_key: Any) -> None:
    """Give the host's Apache a certificate for its address, issued by the given CA, on 443."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    issuer = ca_certificate.subject.rfc4514_string().split("=", 1)[1]
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _certificate("tecrax lab zabbix", key.public_key(), issuer, ca_key, ca=False,
                               address=host.address)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    for path, content in (("/etc/tecrax-lab/tls/server.pem", _pem(certificate).decode()),
                          ("/etc/tecrax-lab/tls/server.key", key_pem),
                          ("/etc/apache2/sites-enabled/tecrax-lab-tls.conf", APACHE_TLS_SITE)):
        lab.exec(host, ["sh", "-c", 'umask 077; mkdir -p "${1%/*}"; cat >"$1"', "write", path],
                 input_text=content, check=True)
    lab.exec(host, ["a2enmod", "-q", "ssl"], check=True)
    lab.exec(host, ["systemctl", "restart", "apache2"], check=True)


def _certificate(subject: str, public_key: Any, issuer: str, issuer_key: Any, *, ca: bool,
                 address: str | None) -> Any:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False), critical=True)
    if address is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(certificate: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return certificate.public_bytes(serialization.Encoding.PEM)
