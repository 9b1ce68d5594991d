"""The Event-Driven Ansible event source tecrax.ops.host_observed, loaded the way ansible-rulebook
loads it (``runpy.run_path``) and driven with its ``main(queue, args)``: real files, real FIFOs
with writers that come and go. (tests/integration/test_eda.py runs it inside ansible-rulebook.)"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import runpy
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from unit.conftest import REPO_ROOT

SOURCE = REPO_ROOT / "extensions" / "eda" / "plugins" / "event_source" / "host_observed.py"
LOGGER = "tecrax.ops.host_observed"
DEADLINE = 60.0  # seconds to wait for a state; generous for a loaded machine


@pytest.fixture(scope="module")
def source() -> dict[str, Any]:
    return runpy.run_path(str(SOURCE))


def event(event_id: str, subject: str = "monitoring-host-01", **payload: Any) -> dict[str, Any]:
    return {"id": event_id, "source": "netwatch", "type": "network.host_observed", "subject": subject,
            "occurred_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "payload": payload or {"known": True, "target_kind": "host"}}


def jsonl(*documents: Any) -> bytes:
    return b"".join((json.dumps(d).encode() if not isinstance(d, bytes) else d) + b"\n" for d in documents)


def drain(queue: asyncio.Queue[Any]) -> list[Any]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == LOGGER and record.levelno == logging.ERROR]


def test_a_file_is_read_to_its_end_and_bad_lines_go_no_further(source: dict[str, Any], tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    first, second, last = event("ev-1"), event("ev-2", "198.51.100.77", known=False, target_kind="host"), event("ev-3")
    missing_subject = {key: value for key, value in event("ev-4").items() if key != "subject"}
    path = tmp_path / "events.jsonl"
    path.write_bytes(jsonl(first, b"", b"x" * 10_000, missing_subject, json.dumps(second).encode() + b"\r",
                           event("ev-5", known="yes", target_kind="host"), b"not json")
                     + json.dumps(last).encode())  # no newline after the last event
    path.chmod(0o600)
    queue: asyncio.Queue[Any] = asyncio.Queue()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        asyncio.run(source["main"](queue, {"path": str(path)}))
    assert drain(queue) == [{"host_observed": first}, {"host_observed": second}, {"host_observed": last}]
    assert refusals(caplog) == [
        "refused line 3: event: longer than 4096 bytes",
        "refused line 4: subject: missing",
        "refused line 6: payload.known: must be true or false, not a string",
        "refused line 7: event: not a JSON object",
    ]


def test_an_overlong_line_is_dropped_while_it_streams_in(source: dict[str, Any]) -> None:
    lines = source["_Lines"]()
    assert lines.feed(b"a" * 3000) == []
    for _ in range(100):  # 800 KiB more of the same line
        assert lines.feed(b"b" * 8192) == []
    assert lines.feed(b"tail\n{}\n") == [None, b"{}"]
    assert lines.feed(b"partial") == [] and lines.finish() == [b"partial"] and lines.finish() == []


async def _wait_for(queue: asyncio.Queue[Any], count: int, task: asyncio.Task[None]) -> list[Any]:
    items = []
    while len(items) < count:
        assert not task.done(), task
        items.append(await asyncio.wait_for(queue.get(), DEADLINE))
    return items


async def _write(path: Path, data: bytes) -> None:
    """One writer: open the FIFO (as soon as the source reads it), write, close."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while True:
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError:  # ENXIO: no reader yet
            assert loop.time() < deadline, "the source never opened the FIFO"
            await asyncio.sleep(0.05)
    try:
        os.write(descriptor, data)
    finally:
        os.close(descriptor)


def test_a_fifo_is_served_across_writers_until_the_source_is_cancelled(source: dict[str, Any], tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    fifo = tmp_path / "events.fifo"
    os.mkfifo(fifo, 0o600)
    first, second = event("ev-1"), event("ev-2")

    async def scenario() -> list[Any]:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        task = asyncio.create_task(source["main"](queue, {"path": str(fifo), "eda_feedback_queue": None}))
        await _write(fifo, jsonl(first))
        got = await _wait_for(queue, 1, task)
        # The first writer has closed: the source still serves the next one.
        await _write(fifo, jsonl({"id": 5}) + json.dumps(second).encode()[:20])
        await _write(fifo, json.dumps(second).encode()[20:] + b"\n")
        got += await _wait_for(queue, 1, task)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return got

    assert asyncio.run(asyncio.wait_for(scenario(), DEADLINE)) == [{"host_observed": first}, {"host_observed": second}]
    assert refusals(caplog) == ["refused line 2: source: missing"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "path must be the absolute path of a FIFO or a file"),
        ({"path": "events.jsonl"}, "path must be the absolute path of a FIFO or a file"),
        ({"path": 7}, "path must be the absolute path of a FIFO or a file"),
        ({"path": "{tmp}/absent"}, "path cannot be read: No such file or directory"),
        ({"path": "{tmp}"}, "path must name a FIFO or a regular file"),
        ({"path": "{tmp}/open.jsonl"}, "path must not be writable by other users"),
        ({"path": "{tmp}/events.jsonl", "delay": 1}, "unknown arguments: delay (allowed: path)"),
    ],
)
def test_bad_arguments_stop_the_source_with_a_clear_message(source: dict[str, Any], tmp_path: Path,
                                                           args: dict[str, Any], message: str) -> None:
    (tmp_path / "events.jsonl").write_bytes(b"")
    (tmp_path / "open.jsonl").write_bytes(b"")
    (tmp_path / "open.jsonl").chmod(0o666)
    args = {key: value.format(tmp=tmp_path) if isinstance(value, str) else value for key, value in args.items()}
    queue: asyncio.Queue[Any] = asyncio.Queue()
    with pytest.raises(ValueError) as error:
        asyncio.run(source["main"](queue, args))
    assert str(error.value) == "tecrax.ops.host_observed: " + message
    assert queue.empty()


def test_a_galaxy_installed_collection_uses_its_own_validator(tmp_path: Path) -> None:
    """Installed by ansible-galaxy, the collection is not on ansible-rulebook's sys.path: the
    source puts its own collection there (site-packages is left out here with ``-S``)."""
    collection = tmp_path / "collections" / "ansible_collections" / "tecrax" / "ops"
    for part in ("extensions", "plugins/module_utils/events"):
        shutil.copytree(REPO_ROOT / part, collection / part, ignore=shutil.ignore_patterns("__pycache__"))
    copied = collection / SOURCE.relative_to(REPO_ROOT)
    program = ("import runpy, sys; module = runpy.run_path(sys.argv[1]); "
               "print(sys.modules[module['parse_event_line'].__module__].__file__)")
    shown = subprocess.run([sys.executable, "-S", "-c", program, str(copied)], capture_output=True, text=True,
                           timeout=60, check=False, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert Path(shown.stdout.strip()) == collection / "plugins/module_utils/events/host_observed.py"
