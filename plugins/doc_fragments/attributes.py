# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations


class ModuleDocFragment:
    # The attributes every read-only module shares; a module adds only platform.description.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    description: The module only reads; check mode makes the same observation.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
  platform:
    support: full
    platforms: posix
"""
