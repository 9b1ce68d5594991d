#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: adguard_health
short_description: Check AdGuard Home's DNS answer and login page, without its management API
version_added: 0.4.0
description:
  - Observes the two public surfaces of an AdGuard Home instance and returns them as one
    normalized facts object of the contract C(tecrax.adguard_reachability) version C(1.0).
  - DNS - one recursive query for the C(A) records of O(query_name), over UDP to
    O(dns_server) port O(dns_port), sent again once at half of O(timeout_seconds) if no reply
    came. The reply is parsed by the module itself (standard library only); it must be a
    reply to that question and is judged by its response code and by whether it carries an
    address for the name (following CNAME records in the answer).
  - Web interface - one C(GET) of C(login.html) under O(web_url), no redirects followed, no
    credentials sent. C(200) and C(302) are healthy (AdGuard redirects the login page to C(/)
    once logged in or when no users are configured).
  - V(healthy) when the name was answered with an address and the login page answered 200 or
    302. V(unhealthy) (observed and bad) when the resolver answered NXDOMAIN, SERVFAIL,
    REFUSED, another error code, no address or a malformed reply, or the login page answered
    another status, e.g. 500. V(unavailable) (could not observe) when nothing is known to be
    bad but the resolver or the web interface did not answer (timeout, ICMP port unreachable,
    connection refused, TLS verification failed).
  - The module reports these outcomes in RV(facts) and does not fail for them; invalid
    options fail the task.
author:
  - Tecrax developers (!UNKNOWN)
options:
  dns_server:
    description:
      - IPv4 or IPv6 address of the AdGuard Home DNS listener. A name is refused, because
        resolving it would ask some other resolver first.
    type: str
    required: true
  dns_port:
    description:
      - UDP port of the DNS listener, from 1 to 65535.
    type: int
    default: 53
  query_name:
    description:
      - The fixed name whose C(A) records are asked for. A DNS host name of at least two labels
        of letters, digits and C(-), at most 253 characters, with or without the final dot.
      - Choose a name AdGuard answers with an address and does not block (a blocked name answered
        with C(0.0.0.0) still counts as an address; one blocked with NXDOMAIN or REFUSED does not).
    type: str
    default: example.com
  web_url:
    description:
      - Base URL of the AdGuard Home web interface, for example C(https://adguard.example.org) or
        C(http://192.0.2.10:3000); the module requests C(login.html) under it.
      - Scheme C(http) or C(https), a DNS name or IP address, an optional port and an optional path
        prefix (a reverse proxy's); user information, a query or a fragment are refused.
    type: str
    required: true
  ca_file:
    description:
      - Absolute path, on the host running the module, of the PEM file with the CA certificate(s)
        that issued the web interface's certificate, or with the web interface's self-signed
        certificate itself.
      - Required with an C(https) O(web_url) and the only trust anchor used (the system trust store
        is not consulted); the certificate's name must match the URL's host. Refused with C(http).
    type: str
  timeout_seconds:
    description:
      - Time limit, from 1 to 60, of the DNS query (both sends together) and of the HTTP connect and
        each read.
    type: int
    default: 5
extends_documentation_fragment:
  - tecrax.ops.attributes
attributes:
  platform:
    description: Any host that can reach AdGuard Home, normally the controller (C(connection=local)).
notes:
  - No proxy from the environment, no C(.netrc), no cookies and no redirects are used; at most
    64 KiB of the login page is read and nothing of it is kept.
  - Only UDP DNS is checked; AdGuard's DNS-over-TCP, TLS, HTTPS and QUIC listeners are not.
seealso:
  - module: tecrax.ops.portainer_health
  - name: RFC 1035, domain names - implementation and specification
    description: The DNS message format the module sends and parses.
    link: https://www.rfc-editor.org/rfc/rfc1035
"""

EXAMPLES = r"""
- name: Check AdGuard Home from the controller
  tecrax.ops.adguard_health:
    dns_server: 192.0.2.10
    query_name: www.example.org
    web_url: https://adguard.example.org
    ca_file: /etc/tecrax/adguard-ca.pem
  delegate_to: localhost
  register: adguard

- name: Require a healthy AdGuard Home
  ansible.builtin.assert:
    that:
      - adguard.facts.assessment.state == 'healthy'
    fail_msg: "AdGuard Home: {{ adguard.facts.assessment.reasons | default([]) | join(', ') }}"
"""

RETURN = r"""
facts:
  description:
    - Facts of the contract C(tecrax.adguard_reachability) 1.0, schema
      C(profile/schemas/adguard_reachability.v1.schema.json).
  returned: always
  type: dict
  contains:
    contract:
      description: Identifier and version of the facts contract.
      returned: always
      type: dict
      sample: {"id": "tecrax.adguard_reachability", "version": "1.0"}
    scope:
      description: >-
        The requested observations C(dns_answer) (the resolver replied) and C(login_page) (the web
        interface answered with an HTTP status), split into observed and not observed.
      returned: always
      type: dict
      sample: {"requested": ["dns_answer", "login_page"], "observed": ["dns_answer", "login_page"], "not_observed": []}
    coverage:
      description: >-
        V(complete) (both answered), V(partial) or V(blocked) (neither answered); the blockers name why a
        surface did not answer, e.g. C(dns_timeout), C(login_connection_refused).
      returned: always
      type: dict
      sample: {"state": "complete", "blockers": []}
    assessment:
      description: >-
        V(healthy), V(unhealthy) or V(unavailable) (see the description); RV(facts.assessment.reasons) names
        every problem as C(dns_<outcome>) or C(login_<outcome>).
      returned: always
      type: dict
      sample: {"state": "unhealthy", "reasons": ["dns_nxdomain"]}
      contains:
        state:
          description: V(healthy), V(unhealthy) or V(unavailable).
          returned: always
          type: str
        reasons:
          description: The problems, present unless healthy.
          returned: when not healthy
          type: list
          elements: str
    non_claims:
      description: What these facts do not claim.
      returned: always
      type: list
      elements: str
    dns:
      description: The DNS observation.
      returned: always
      type: dict
      contains:
        outcome:
          description: >-
            V(addresses_returned), V(no_address), V(nxdomain), V(servfail), V(refused), V(error_rcode),
            V(malformed_response) (a reply came) or V(timeout), V(connection_refused), V(network_error) (none came).
          returned: always
          type: str
          sample: addresses_returned
        rcode:
          description: Response code of the reply (C(NOERROR), C(NXDOMAIN), ..., C(other)), or null without a well-formed reply.
          returned: always
          type: str
          sample: NOERROR
        address_records:
          description: Number of C(A) records for the name (or its CNAME targets), or null without a NOERROR reply.
          returned: always
          type: int
          sample: 2
        recursion_available:
          description: The reply's RA flag, or null without a well-formed reply.
          returned: always
          type: bool
    login_page:
      description: The web interface observation.
      returned: always
      type: dict
      contains:
        outcome:
          description: >-
            V(expected_status) (200 or 302), V(unexpected_status), or why no status came back - V(timeout),
            V(connection_refused), V(connection_failed), V(http_protocol_error), V(transport_error),
            V(tls_unknown_ca), V(tls_hostname_mismatch), V(tls_certificate_expired),
            V(tls_certificate_not_yet_valid), V(tls_certificate_rejected), V(tls_required), V(tls_handshake_failed).
          returned: always
          type: str
          sample: expected_status
        http_status:
          description: HTTP status of the login page, or null when none came back.
          returned: always
          type: int
          sample: 200
        scheme:
          description: V(http) or V(https), from O(web_url).
          returned: always
          type: str
        tls_verified:
          description: True when an https answer came back over TLS verified against O(ca_file).
          returned: always
          type: bool
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.services.adguard_facts import (
    LOGIN_PATH,
    MAX_LOGIN_BODY_BYTES,
    observe_adguard,
)
from ansible_collections.tecrax.ops.plugins.module_utils.services.dns_wire import build_query
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import exit_with_facts
from ansible_collections.tecrax.ops.plugins.module_utils.common.http_transport import (
    TlsSetupError,
    http_request,
    tls_context,
)
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_endpoints import (
    DEFAULT_ADGUARD_TIMEOUT_SECONDS,
    DEFAULT_DNS_PORT,
    DEFAULT_QUERY_NAME,
    EndpointOptionError,
    adguard_settings,
    parse_web_url,
)
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_probes import dns_exchange, new_query_id

ARGUMENT_SPEC = {
    "dns_server": {"type": "str", "required": True},
    "dns_port": {"type": "int", "default": DEFAULT_DNS_PORT},
    "query_name": {"type": "str", "default": DEFAULT_QUERY_NAME},
    "web_url": {"type": "str", "required": True},
    "ca_file": {"type": "str"},
    "timeout_seconds": {"type": "int", "default": DEFAULT_ADGUARD_TIMEOUT_SECONDS},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        settings = adguard_settings({key: value for key, value in module.params.items() if value is not None})
        endpoint = parse_web_url(settings["web_url"], "web_url")
        context = None
        if endpoint.scheme == "https":
            context = tls_context(settings["ca_file"])
    except (EndpointOptionError, TlsSetupError) as exc:
        module.fail_json(msg="adguard_health: %s" % exc)
    timeout = settings["timeout_seconds"]
    txid = new_query_id()
    dns = dns_exchange(settings["dns_server"], settings["dns_port"], build_query(settings["query_name"], txid),
                       txid, timeout)
    login = http_request(endpoint.url_for(LOGIN_PATH), context, timeout, MAX_LOGIN_BODY_BYTES,
                         headers={"Accept": "text/html"})
    exit_with_facts(module, "adguard_health",
                    lambda: observe_adguard(dns, txid, settings["query_name"], login, endpoint.scheme))


if __name__ == "__main__":
    main()
