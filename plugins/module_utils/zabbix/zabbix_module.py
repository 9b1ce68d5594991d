# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What the three Zabbix modules share: their options and the checks of those options.

``reachability_probe`` is the reachability check for a target's settings, prepared (options
checked, before any I/O) and run when called: for zabbix_api_reachability and the diagnosis
module.
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import exit_with_facts
from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_api import (
    ZabbixOptionError,
    api_settings,
    check_timeout,
    parse_endpoint,
)
from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_facts import Call, observe_reachability
from ansible_collections.tecrax.ops.plugins.module_utils.zabbix.zabbix_transport import ZabbixClient

ENDPOINT_OPTIONS: Dict[str, Any] = {
    "api_url": {"type": "str", "required": True},
    "ca_file": {"type": "str"},
    "timeout_seconds": {"type": "int", "default": 10},
}
TOKEN_OPTIONS: Dict[str, Any] = {
    "api_token": {"type": "str", "no_log": True},
    "api_token_file": {"type": "path"},
}
TOKEN_CHOICE = [("api_token", "api_token_file")]
# Read with one bound: a token is at most 512 characters, plus a newline a file may end with.
_MAX_TOKEN_FILE_BYTES = 1024
# Zabbix generates 64 hex digits. Printable ASCII without blanks keeps a token from breaking
# out of the header or the JSON body; the minimum length matters because Ansible masks a no_log
# value wherever it appears in the result, and a short one would mangle the facts.
_CREDENTIAL = re.compile(r"[\x21-\x7e]{16,512}\Z")

Observe = Callable[[Call, str], Dict[str, Any]]


def run_observation(observe: Observe, name: str, authenticated: bool) -> None:
    """Build the module, check its options, run ``observe`` and exit with the facts."""
    options = dict(ENDPOINT_OPTIONS, **(TOKEN_OPTIONS if authenticated else {}))
    choice = TOKEN_CHOICE if authenticated else None
    module = AnsibleModule(argument_spec=options, supports_check_mode=True,
                           required_one_of=choice, mutually_exclusive=choice)
    params = module.params
    credential: Optional[str] = params.get("api_token") if authenticated else None
    try:
        if authenticated and params.get("api_token_file") is not None:
            credential = read_token_file(params["api_token_file"])
        client, scheme = open_client(params["api_url"], params["ca_file"], params["timeout_seconds"], credential)
        if authenticated and (not isinstance(credential, str) or not _CREDENTIAL.match(credential)):
            raise ZabbixOptionError("api_token must be 16 to 512 printable characters without blanks")
    except ZabbixOptionError as exc:
        module.fail_json(msg="%s: %s" % (name, exc))
    exit_with_facts(module, name, lambda: observe(client.call, scheme))


def open_client(api_url: Any, ca_file: Any, timeout_seconds: Any,
                credential: Optional[str] = None) -> Tuple[ZabbixClient, str]:
    """A client of a checked endpoint and its scheme; raises ``ZabbixOptionError`` (naming
    the option) before any connection is made."""
    endpoint = parse_endpoint(api_url, ca_file)
    timeout = check_timeout(timeout_seconds)
    if ca_file is not None and not (os.path.isfile(ca_file) and os.access(ca_file, os.R_OK)):
        raise ZabbixOptionError("ca_file is not a readable file")
    return ZabbixClient(endpoint, ca_file, timeout, credential), endpoint.scheme


def reachability_probe(settings: Mapping[str, Any]) -> Callable[[], Dict[str, Any]]:
    """The unauthenticated ``apiinfo.version`` check for ``settings`` (the keys of
    ``api_settings``), checked now and run when called (never raises)."""
    checked = api_settings(settings)
    client, scheme = open_client(checked["api_url"], checked.get("ca_file"), checked["timeout_seconds"])
    return lambda: observe_reachability(client.call, scheme)


def read_token_file(path: str) -> str:
    """The token in ``path`` without its final newline. A FIFO works too (the governed backend
    hands the token over through one so that it is never stored)."""
    try:
        with open(path, "rb") as stream:
            content = stream.read(_MAX_TOKEN_FILE_BYTES + 1)
    except OSError as exc:
        raise ZabbixOptionError("api_token_file cannot be read (%s)" % (exc.strerror or "error"))
    if len(content) > _MAX_TOKEN_FILE_BYTES:
        raise ZabbixOptionError("api_token_file holds more than a token")
    try:
        return content.decode("ascii").rstrip("\r\n")
    except UnicodeDecodeError:
        raise ZabbixOptionError("api_token must be 16 to 512 printable characters without blanks")
