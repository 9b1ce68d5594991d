# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations


class ModuleDocFragment:
    # The endpoint options shared by the read-only Zabbix API modules.
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - URL of the Zabbix JSON-RPC API, for example C(https://zabbix.example.org/zabbix/api_jsonrpc.php).
      - Scheme C(http) or C(https), a DNS name or IP address, an optional port and a path ending in
        C(/api_jsonrpc.php). User information, a query or a fragment are refused.
      - Use C(http) only where the frontend really serves plain HTTP; an C(https) URL is always
        verified against O(ca_file).
    type: str
    required: true
  ca_file:
    description:
      - Absolute path, on the host running the module, of the PEM file with the CA certificate(s)
        that issued the frontend's certificate.
      - Required with an C(https) O(api_url) and the only trust anchor used (the system trust store
        is not consulted); the certificate's name must match the URL's host. Refused with C(http).
    type: str
  timeout_seconds:
    description:
      - Time limit for connecting and for each read of every API request, from 1 to 60.
    type: int
    default: 10
notes:
  - Runs on the host it is given; use the local connection (C(connection=local)) or
    C(delegate_to=localhost) to call the API from the controller.
  - No proxy from the environment, no C(.netrc) and no redirects are used; response bodies are read
    up to a fixed size (64 KiB, 4 MiB for the host listing).
  - Failures to reach or use the API are reported in RV(facts), not as a failed task; invalid options
    fail the task.
"""

    # The API token option of the authenticated modules.
    TOKEN = r"""
options:
  api_token:
    description:
      - Zabbix API token (Zabbix 5.4 or later) of a user allowed to read what the module counts.
      - 16 to 512 printable ASCII characters without blanks; Zabbix generates 64 hexadecimal digits.
      - Sent as C(auth) in the JSON-RPC body to Zabbix before 6.4, which rejects it in a header, and
        as a Bearer C(Authorization) header from 6.4 on, where newer versions no longer accept it in the body.
        The version comes from an unauthenticated C(apiinfo.version) call made first.
      - Never returned, logged or placed in facts.
      - Exactly one of O(api_token) and O(api_token_file) is required.
    type: str
  api_token_file:
    description:
      - Path on the machine the module runs on (usually the controller) of a file that holds the
        API token, with an optional final newline. It is read once; a named pipe works too.
      - Use it to keep the token out of module arguments and variables. The governed backend uses
        it with a pipe, so the token it resolved is never written to disk.
    type: path
"""
