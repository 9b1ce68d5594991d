# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
name: ntp_allowed_subnets
short_description: Validate and canonicalize the client subnets of a chrony NTP server
version_added: 0.4.0
author:
  - Tecrax developers (!UNKNOWN)
description:
  - Applies the validation of M(tecrax.ops.chrony_ntp_server) to a list of subnets and returns
    them in canonical form and address order (IPv4 first), or fails with a message that names
    the refused entry.
  - Accepted are 1 to 32 networks in CIDR notation with host bits zero, IPv4 inside the RFC 1918
    private ranges with a prefix of /16 to /30, or IPv6 inside C(fc00::/7) with a prefix of /48 to
    /64. Whitespace, newlines, comments, extra tokens and duplicates are refused.
options:
  _input:
    description: The subnets.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Validate the subnets before anything touches the host
  ansible.builtin.set_fact:
    subnets: "{{ ['fd12:3456:789A::/48'] | tecrax.ops.ntp_allowed_subnets }}"
"""

RETURN = r"""
_value:
  description: The subnets, canonical and in address order.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.tecrax.ops.plugins.module_utils.ntp.ntp_subnets import (
    SubnetError,
    validate_allowed_subnets,
)


def ntp_allowed_subnets(value):
    try:
        return validate_allowed_subnets(list(value) if isinstance(value, (list, tuple)) else value)
    except SubnetError as error:
        raise AnsibleFilterError("invalid chrony NTP server subnets: %s" % error) from None


class FilterModule:
    def filters(self):
        return {"ntp_allowed_subnets": ntp_allowed_subnets}
