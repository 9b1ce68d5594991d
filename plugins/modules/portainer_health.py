#!/usr/bin/python
# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: portainer_health
short_description: Check Portainer's unauthenticated status endpoint over verified TLS
version_added: 0.4.0
description:
  - Sends one unauthenticated C(GET api/status) under O(base_url) over TLS verified against the
    operator-pinned O(ca_file) and returns the answer as one normalized facts object of the
    contract C(tecrax.portainer_reachability) version C(1.0).
  - Only the C(Version) field of the answer is kept. C(InstanceID), which identifies the
    installation, and everything else in the body are dropped.
  - V(healthy) when Portainer answered 200 with a JSON object carrying a C(Version);
    V(unhealthy) (observed and bad) when something answered over verified TLS but not that
    (another status, not JSON, no usable C(Version), more than 64 KiB); V(unavailable) (could
    not observe) when no answer came over verified TLS.
  - TLS failures are named after the reason the pinned CA did not accept the server -
    C(tls_unknown_ca), C(tls_hostname_mismatch), C(tls_certificate_expired),
    C(tls_certificate_not_yet_valid), C(tls_certificate_rejected), C(tls_handshake_failed) - and
    C(tls_required) when the endpoint does not speak TLS at all (e.g. plain HTTP). The module
    never falls back to an unverified or plain connection.
  - The module reports these outcomes in RV(facts) and does not fail for them; invalid
    options fail the task.
author:
  - Tecrax developers (!UNKNOWN)
options:
  base_url:
    description:
      - Base URL of Portainer, for example C(https://portainer.example.org:9443); the module requests
        C(api/status) under it.
      - Scheme C(https) only, a DNS name or IP address, an optional port and an optional path prefix (a
        reverse proxy's); user information, a query or a fragment are refused.
    type: str
    required: true
  ca_file:
    description:
      - Absolute path, on the host running the module, of the PEM file with the CA certificate(s) that
        issued Portainer's certificate (for Portainer's own self-signed certificate, that certificate).
      - The only trust anchor used (the system trust store is not consulted); the certificate's name must
        match the URL's host.
    type: str
    required: true
  timeout_seconds:
    description:
      - Time limit, from 1 to 60, for connecting and for each read; the body must arrive within it too.
    type: int
    default: 10
extends_documentation_fragment:
  - tecrax.ops.attributes
attributes:
  platform:
    description: Any host that can reach Portainer, normally the controller (C(connection=local)).
notes:
  - No proxy from the environment, no C(.netrc), no cookies, no credentials and no redirects are used;
    at most 64 KiB of the answer is read. TLS 1.2 or newer.
seealso:
  - module: tecrax.ops.adguard_health
  - name: Portainer API documentation
    description: The status endpoint this module calls.
    link: https://docs.portainer.io/api/docs
"""

EXAMPLES = r"""
- name: Check Portainer from the controller
  tecrax.ops.portainer_health:
    base_url: https://portainer.example.org:9443
    ca_file: /etc/tecrax/portainer-ca.pem
  delegate_to: localhost
  register: portainer

- name: Show Portainer's version
  ansible.builtin.debug:
    msg: "Portainer {{ portainer.facts.portainer_version }} ({{ portainer.facts.assessment.state }})"
"""

RETURN = r"""
facts:
  description:
    - Facts of the contract C(tecrax.portainer_reachability) 1.0, schema
      C(profile/schemas/portainer_reachability.v1.schema.json).
  returned: always
  type: dict
  contains:
    contract:
      description: Identifier and version of the facts contract.
      returned: always
      type: dict
      sample: {"id": "tecrax.portainer_reachability", "version": "1.0"}
    scope:
      description: >-
        The requested observations C(https_endpoint) (an HTTP answer came over verified TLS) and C(api_status)
        (it carried a Portainer version), split into observed and not observed.
      returned: always
      type: dict
      sample: {"requested": ["https_endpoint", "api_status"], "observed": ["https_endpoint", "api_status"], "not_observed": []}
    coverage:
      description: V(complete), V(partial) (an answer without a version) or V(blocked) (no verified answer), with the failure as blocker.
      returned: always
      type: dict
      sample: {"state": "blocked", "blockers": ["tls_unknown_ca"]}
    assessment:
      description: >-
        V(healthy), V(unhealthy) or V(unavailable) (see the description); RV(facts.assessment.reasons) names the
        failure - a TLS reason, C(timeout), C(connection_refused), C(connection_failed), C(http_protocol_error),
        C(transport_error) (unavailable) or C(http_error_status), C(response_too_large), C(response_not_json),
        C(version_unrecognized) (unhealthy).
      returned: always
      type: dict
      sample: {"state": "healthy"}
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
    portainer_version:
      description: The C(Version) Portainer reported, or C(unknown).
      returned: always
      type: str
      sample: 2.19.4
    http_status:
      description: HTTP status of the answer, or null when no answer came over verified TLS.
      returned: always
      type: int
      sample: 200
    transport:
      description: How Portainer was reached.
      returned: always
      type: dict
      contains:
        scheme:
          description: Always V(https).
          returned: always
          type: str
        tls_verified:
          description: True when an answer came back over TLS verified against O(ca_file).
          returned: always
          type: bool
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import exit_with_facts
from ansible_collections.tecrax.ops.plugins.module_utils.common.http_transport import (
    TlsSetupError,
    http_request,
    tls_context,
)
from ansible_collections.tecrax.ops.plugins.module_utils.services.portainer_facts import (
    MAX_STATUS_BYTES,
    STATUS_PATH,
    observe_portainer,
)
from ansible_collections.tecrax.ops.plugins.module_utils.services.service_endpoints import (
    DEFAULT_PORTAINER_TIMEOUT_SECONDS,
    EndpointOptionError,
    parse_web_url,
    portainer_settings,
)

ARGUMENT_SPEC = {
    "base_url": {"type": "str", "required": True},
    "ca_file": {"type": "str", "required": True},
    "timeout_seconds": {"type": "int", "default": DEFAULT_PORTAINER_TIMEOUT_SECONDS},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        settings = portainer_settings(dict(module.params))
        endpoint = parse_web_url(settings["base_url"], "base_url", https_only=True)
        context = tls_context(settings["ca_file"])
    except (EndpointOptionError, TlsSetupError) as exc:
        module.fail_json(msg="portainer_health: %s" % exc)
    exchange = http_request(endpoint.url_for(STATUS_PATH), context, settings["timeout_seconds"], MAX_STATUS_BYTES,
                            headers={"Accept": "application/json"})
    exit_with_facts(module, "portainer_health", lambda: observe_portainer(exchange))


if __name__ == "__main__":
    main()
