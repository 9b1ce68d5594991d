"""One scan of the installed distributions' entry points for the RExecOp calls of one command.

RExecOp 0.2.16a0 looks up its plugins (the ``tecrax`` profile, the ``tecrax_ansible`` backend,
the internal actions) with ``importlib.metadata.entry_points(group=...)`` each time it needs
one: 14 times in one ``tecrax run``, and each call reads the metadata of every installed
distribution again (2-3 ms each on a quiet machine). Within one command the installed
distributions do not change, so ``scanned_once`` answers those lookups from a single scan:
RExecOp still resolves and loads the same entry points through its own code, in the same
order (``EntryPoints.select`` is what ``entry_points(group=...)`` does after its scan).
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# The RExecOp modules that call ``entry_points`` (each imports the name itself).
LOOKUP_MODULES = (
    "rexecop.profile.resolver",
    "rexecop.connectors.fixture_loader",
    "rexecop.execution.internal_registry",
)


class EntryPointScan:
    """The entry points of the installed distributions, read at the first lookup."""

    def __init__(self) -> None:
        self._scanned: importlib.metadata.EntryPoints | None = None

    def entry_points(self, **params: Any) -> importlib.metadata.EntryPoints:
        if self._scanned is None:
            self._scanned = importlib.metadata.entry_points()
        return self._scanned.select(**params) if params else self._scanned

    @contextmanager
    def scanned_once(self) -> Iterator[None]:
        """Within the block, RExecOp's lookups are answered from this scan; the modules' own
        ``entry_points`` is restored after it (nested blocks restore in order)."""
        modules = [importlib.import_module(name) for name in LOOKUP_MODULES]
        previous = [module.entry_points for module in modules]
        for module in modules:
            module.entry_points = self.entry_points
        try:
            yield
        finally:
            for module, original in zip(modules, previous):
                module.entry_points = original
