"""One lab host that stands in for AdGuard Home's and Portainer's public surfaces.

Neither AdGuard Home nor Portainer can be installed here (no Debian package, no container
engine that could pull their images), so a lab host runs real Debian servers in their place:

- **unbound** plays AdGuard's DNS resolver: it answers ``A`` queries for names in a local zone,
  NXDOMAIN for missing names, REFUSED for one zone, and SERVFAIL for a zone forwarded to an
  upstream it has no route to (as AdGuard does when its upstream is down).
- **nginx** plays AdGuard's web interface (``/login.html`` answering 200, a prefix that
  redirects with 302 as AdGuard does once logged in or without users, one answering 500) and
  Portainer's HTTPS API (``/api/status`` with a Portainer-shaped JSON body, behind
  certificates of a test CA generated with ``openssl`` at test time by unit/openssl_pki.py: a
  correct one, one for another name, an expired one) plus the same API over plain HTTP.

The packages and the static configuration are a cached flavor (built once per machine,
outside the repository); the certificates are made per test session and written into the
host's tree before it boots, because their subject alternative name is the host's address.
"""

from __future__ import annotations

from pathlib import Path

from lab import Flavor, Host, Lab, write_file
from unit.openssl_pki import Pki, make_pki

# --- names, ports and paths both sides use ------------------------------------------------

ZONE = "tecrax-lab.test"
PROBE_NAME = f"adguard-probe.{ZONE}"
PROBE_ADDRESS = "192.0.2.53"  # TEST-NET-1: documentation range, never routed
ALIAS_NAME = f"alias.{ZONE}"
MISSING_NAME = f"missing.{ZONE}"
REFUSED_NAME = "probe.refused.test"
SERVFAIL_NAME = "probe.upstream-down.test"
# The upstream of the forwarded zone: TEST-NET-1, for which the host has no route.
DEAD_UPSTREAM = "192.0.2.1"

LOGIN_PAGE_BODY = "<!doctype html><title>Login</title><p>AdGuard Home login page stand-in (tecrax lab)</p>\n"
WEB_PORT = 80
WEB_TLS_PORT = 8443
CLOSED_PORT = 81  # nothing listens there
PORTAINER_PORT = 9443
PORTAINER_MISNAMED_PORT = 9444
PORTAINER_EXPIRED_PORT = 9445
PORTAINER_PLAIN_PORT = 9000
PORTAINER_VERSION = "2.19.4"
PORTAINER_INSTANCE_ID = "6f1c5b7e-3d0a-4c1e-9b7f-2a8d4e6c0b19"
PORTAINER_STATUS = '{"Version":"%s","InstanceID":"%s"}' % (PORTAINER_VERSION, PORTAINER_INSTANCE_ID)

TLS_DIR = "etc/nginx/tecrax-tls"

UNBOUND_CONF = f"""\
# tecrax lab: unbound standing in for AdGuard Home's resolver
server:
    interface: 0.0.0.0
    port: 53
    do-ip6: no
    access-control: 0.0.0.0/0 allow
    # no DNSSEC validation and no trust anchor: the lab has no internet
    module-config: "iterator"
    username: "unbound"
    verbosity: 1
    local-zone: "{ZONE}." static
    local-data: "{PROBE_NAME}. 60 IN A {PROBE_ADDRESS}"
    local-data: "{PROBE_NAME}. 60 IN A 192.0.2.54"
    local-data: "{ALIAS_NAME}. 60 IN CNAME {PROBE_NAME}."
    local-zone: "refused.test." always_refuse
    # unbound serves test. itself (RFC 6761); let the forward zone below through
    local-zone: "test." nodefault
forward-zone:
    # an upstream without a route: unbound answers SERVFAIL at once, as AdGuard does when
    # its upstream resolvers are unreachable
    name: "upstream-down.test."
    forward-addr: {DEAD_UPSTREAM}
"""

NGINX_SITE = f"""\
# tecrax lab: AdGuard Home's web interface and Portainer's API, stand-ins
server {{
    listen {WEB_PORT} default_server;
    listen {WEB_TLS_PORT} ssl;
    ssl_certificate /{TLS_DIR}/server.pem;
    ssl_certificate_key /{TLS_DIR}/server.key;
    location = /login.html {{ default_type text/html; return 200 '{LOGIN_PAGE_BODY.strip()}'; }}
    # AdGuard redirects /login.html to / when already logged in or without users
    location = /noauth/login.html {{ return 302 /noauth/; }}
    location = /broken/login.html {{ return 500; }}
    location / {{ return 404; }}
}}
""" + "".join(f"""\
server {{
    listen {port} ssl;
    ssl_certificate /{TLS_DIR}/{certificate};
    ssl_certificate_key /{TLS_DIR}/server.key;
    include /etc/nginx/tecrax-portainer.conf;
}}
""" for port, certificate in ((PORTAINER_PORT, "server.pem"), (PORTAINER_MISNAMED_PORT, "misnamed.pem"),
                              (PORTAINER_EXPIRED_PORT, "expired.pem"))) + f"""\
server {{
    listen {PORTAINER_PLAIN_PORT};
    include /etc/nginx/tecrax-portainer.conf;
}}
"""

PORTAINER_LOCATIONS = f"""\
location = /api/status {{ default_type application/json; return 200 '{PORTAINER_STATUS}'; }}
# a path prefix where something else answers: an HTML page, not Portainer's JSON
location = /not-portainer/api/status {{ default_type text/html; return 200 '<html>hello</html>'; }}
location = /failing/api/status {{ return 503; }}
location / {{ return 404; }}
"""


def _provision_services(root: Path) -> None:
    # Debian's trust-anchor snippet would make unbound fetch the root key from the internet.
    (root / "etc/unbound/unbound.conf.d/root-auto-trust-anchor-file.conf").unlink(missing_ok=True)
    write_file(root, "etc/unbound/unbound.conf.d/tecrax-lab.conf", UNBOUND_CONF)
    write_file(root, "etc/nginx/tecrax-portainer.conf", PORTAINER_LOCATIONS)
    (root / "etc/nginx/sites-enabled/default").unlink(missing_ok=True)
    write_file(root, "etc/nginx/sites-enabled/tecrax-lab.conf", NGINX_SITE)


SERVICES_FLAVOR = Flavor(
    "adguard-portainer-standins", packages=("unbound", "nginx"), provision=_provision_services, revision=3
)


def boot_services_host(lab: Lab, name: str, pki_dir: Path) -> tuple[Host, Pki]:
    """Boot the stand-in host with certificates for its address; return it and the PKI."""
    made: dict[str, Pki] = {}

    def provision(root: Path) -> None:
        pki = made["pki"] = make_pki(pki_dir, lab.host(name).address)
        for source, target in ((pki.server_cert, "server.pem"), (pki.misnamed_cert, "misnamed.pem"),
                               (pki.expired_cert, "expired.pem")):
            write_file(root, f"{TLS_DIR}/{target}", source.read_text())
        write_file(root, f"{TLS_DIR}/server.key", pki.server_key.read_text(), 0o600)

    host = lab.add_host(name, flavor=SERVICES_FLAVOR, provision=provision)
    for unit in ("unbound", "nginx"):
        lab.exec(host, ["systemctl", "is-active", "--quiet", unit], check=True)
    return host, made["pki"]
