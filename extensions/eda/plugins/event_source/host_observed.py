# Copyright: Tecrax developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Event source ``tecrax.ops.host_observed``: ``network.host_observed`` events for ansible-rulebook.

Reads JSON lines, one event a line, from ``path``:

- a FIFO: served until ansible-rulebook stops; writers may come and go (the source keeps the
  FIFO open for writing itself, so a writer closing it is no end of input);
- a regular file: read once to its end, then the source ends and ansible-rulebook shuts
  down once the queued actions have finished (waiting at most its ``--shutdown-delay``).

Each line is checked by ``plugins/module_utils/events/host_observed.py``, the validator the
module ``tecrax.ops.rexecop_trigger`` applies again. An accepted event reaches the rulebook as
``event.host_observed``; a refused line is logged as ``refused line N: FIELD: PROBLEM`` and
goes no further. Lines longer than the event bound are discarded as they are read, so no
line costs more memory than the bound. The path must not be writable by other users.

Arguments:
  path: absolute path of the FIFO or file (required).
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

LOG = logging.getLogger("tecrax.ops.host_observed")
CHUNK_BYTES = 8192


def _collection_on_path() -> None:
    """Make this source's own collection importable: a collection installed by ansible-galaxy
    (rather than with the tecrax wheel) is not on ansible-rulebook's sys.path."""
    here = Path(__file__).resolve()
    if len(here.parents) > 7 and here.parents[6].name == "ansible_collections":
        root = str(here.parents[7])
        if root not in sys.path:
            sys.path.insert(0, root)


_collection_on_path()
from ansible_collections.tecrax.ops.plugins.module_utils.events.host_observed import (  # noqa: E402
    MAX_EVENT_BYTES,
    EventRefused,
    parse_event_line,
)


class _Lines:
    """Splits a byte stream into lines of at most ``MAX_EVENT_BYTES``; a longer line is
    dropped while it streams in and reported once, as ``None``."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._overlong = False

    def feed(self, chunk: bytes) -> List[Optional[bytes]]:
        lines: List[Optional[bytes]] = []
        while chunk:
            head, newline, chunk = chunk.partition(b"\n")
            if not self._overlong:
                self._buffer += head
                if len(self._buffer) > MAX_EVENT_BYTES:
                    self._buffer.clear()
                    self._overlong = True
            if newline:
                lines.append(None if self._overlong else bytes(self._buffer))
                self._buffer.clear()
                self._overlong = False
        return lines

    def finish(self) -> List[Optional[bytes]]:
        """The last line of a stream that does not end with a newline."""
        return self.feed(b"\n") if self._buffer or self._overlong else []


class _Reader:
    def __init__(self, queue: Any) -> None:
        self.queue = queue
        self.lines = _Lines()
        self.number = 0

    async def deliver(self, lines: List[Optional[bytes]]) -> None:
        for line in lines:
            self.number += 1
            if line is not None and not line.strip():
                continue
            try:
                if line is None:
                    raise EventRefused("event", "longer than %d bytes" % MAX_EVENT_BYTES)
                event = parse_event_line(line.rstrip(b"\r"))
            except EventRefused as refused:
                LOG.error("refused line %d: %s", self.number, refused)
                continue
            LOG.info("line %d: event %s from %s for %s", self.number, event["id"], event["source"], event["subject"])
            await self.queue.put({"host_observed": event})


def _path(args: Dict[str, Any]) -> str:
    unknown = sorted(str(key) for key in args if key != "path" and not str(key).startswith("eda_"))
    if unknown:
        raise ValueError("tecrax.ops.host_observed: unknown arguments: %s (allowed: path)" % ", ".join(unknown))
    path = args.get("path")
    if not isinstance(path, str) or not os.path.isabs(path):
        raise ValueError("tecrax.ops.host_observed: path must be the absolute path of a FIFO or a file")
    try:
        status = os.stat(path)
    except OSError as error:
        raise ValueError("tecrax.ops.host_observed: path cannot be read: %s" % (error.strerror or error))
    if not (stat.S_ISFIFO(status.st_mode) or stat.S_ISREG(status.st_mode)):
        raise ValueError("tecrax.ops.host_observed: path must name a FIFO or a regular file")
    if status.st_mode & stat.S_IWOTH:
        raise ValueError("tecrax.ops.host_observed: path must not be writable by other users")
    return path


async def _read_file(reader: _Reader, path: str) -> None:
    with open(path, "rb") as stream:
        while True:
            chunk = stream.read(CHUNK_BYTES)
            if not chunk:
                break
            await reader.deliver(reader.lines.feed(chunk))
    await reader.deliver(reader.lines.finish())


async def _serve_fifo(reader: _Reader, path: str) -> None:
    # Read-write: the source is a writer too, so the FIFO never reports end of input.
    stream = os.fdopen(os.open(path, os.O_RDWR | os.O_NONBLOCK), "rb", buffering=0)
    incoming = asyncio.StreamReader(limit=CHUNK_BYTES)
    transport, _protocol = await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(incoming), stream)
    try:
        while True:
            chunk = await incoming.read(CHUNK_BYTES)
            if not chunk:
                break
            await reader.deliver(reader.lines.feed(chunk))
    finally:
        transport.close()


async def main(queue: Any, args: Dict[str, Any]) -> None:
    """ansible-rulebook's entry point."""
    path = _path(args)
    reader = _Reader(queue)
    if stat.S_ISFIFO(os.stat(path).st_mode):
        await _serve_fifo(reader, path)
    else:
        await _read_file(reader, path)
