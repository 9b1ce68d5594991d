# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations


class ModuleDocFragment:
    """Notes shared by the modules that run programs through the command runner."""

    DOCUMENTATION = r"""
options: {}
notes:
  - Every program runs without a shell, with no standard input, in the C locale and in a
    process group of its own; whatever it leaves running in that group when it ends is killed.
  - All programs of one module run share a time budget, read from the environment variable
    C(TECRAX_MODULE_BUDGET_SECONDS) (whole seconds, 1 to 3600; unset or empty means 90). The
    bundled playbooks set it from the variable C(tecrax_module_budget_seconds), which the
    Tecrax connector sets a little under the step's timeout. A program still running when the
    budget is spent is killed with its process group, and the module fails with a message
    starting C(timed out:) and C(timed_out=true) in its result.
"""
