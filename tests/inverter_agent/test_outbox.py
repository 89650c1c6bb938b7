"""The durable outbox: order, acknowledgement, bound, restart and kill -9."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from inverter_agent.errors import OutboxError
from inverter_agent.outbox import Outbox, OutboxSink
from inverter_agent.readings import Reading, decode_payload

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def outbox(tmp_path: Path) -> AsyncIterator[Outbox]:
    async with await Outbox.open(tmp_path / "outbox.db", max_readings=5) as opened:
        yield opened


async def test_sequences_batch_and_cumulative_ack(outbox: Outbox) -> None:
    assert await outbox.append(b"a") == 1
    assert await outbox.append_many([b"b", b"c", b"d"]) == [2, 3, 4]
    assert await outbox.append_many([]) == []
    batch = await outbox.batch(2)
    assert [(e.seq, e.payload) for e in batch] == [(1, b"a"), (2, b"b")]
    assert await outbox.ack(2) == 2
    assert [e.seq for e in await outbox.batch(10)] == [3, 4]
    assert await outbox.ack(2) == 0  # already gone
    stats = await outbox.stats()
    assert (stats.pending, stats.next_seq, stats.dropped) == (2, 5, 0)


async def test_ack_of_a_set(outbox: Outbox) -> None:
    await outbox.append_many([b"a", b"b", b"c"])
    assert await outbox.ack({1, 3, 99}) == 2
    assert [e.seq for e in await outbox.batch(10)] == [2]
    assert (await outbox.stats()).pending == 1


async def test_full_outbox_drops_oldest_counts_and_warns(
    outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    await outbox.append_many([b"1", b"2", b"3", b"4"])
    with caplog.at_level(logging.WARNING, logger="inverter_agent.outbox"):
        assert await outbox.append_many([b"5", b"6", b"7"]) == [5, 6, 7]
    assert [e.seq for e in await outbox.batch(10)] == [3, 4, 5, 6, 7]
    stats = await outbox.stats()
    assert (stats.pending, stats.dropped, stats.max_readings) == (5, 2, 5)
    assert "dropped the 2 oldest" in caplog.text


async def test_sequences_and_drop_counter_survive_restart(tmp_path: Path) -> None:
    path = tmp_path / "state" / "outbox.db"
    async with await Outbox.open(path, max_readings=2) as first:
        await first.append_many([b"a", b"b", b"c"])
        await first.ack(3)
    async with await Outbox.open(path, max_readings=2) as second:
        assert await second.append(b"d") == 4  # not reused after everything was acknowledged
        stats = await second.stats()
        assert (stats.pending, stats.dropped) == (1, 1)


async def test_file_is_wal_with_full_sync(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    async with await Outbox.open(path, max_readings=10):
        pass
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


async def test_unusable_file_is_an_outbox_error(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(OutboxError, match="outbox"):
        await Outbox.open(path, max_readings=10)


async def test_closed_outbox_refuses_work(tmp_path: Path) -> None:
    outbox = await Outbox.open(tmp_path / "outbox.db", max_readings=10)
    await outbox.close()
    await outbox.close()  # twice is fine
    with pytest.raises(OutboxError, match="closed"):
        await outbox.append(b"x")


async def test_sink_encodes_payloads(outbox: Outbox) -> None:
    reading = Reading(sn="SN-1", unit=3, ts=1_768_467_600_000, w=12.5)
    await OutboxSink(outbox).store([reading])
    (entry,) = await outbox.batch(1)
    assert decode_payload(entry.payload) == reading


WRITER = """
import asyncio, sys
from pathlib import Path
from inverter_agent.outbox import Outbox

async def main() -> None:
    outbox = await Outbox.open(Path(sys.argv[1]), max_readings=1_000_000)
    n = 0
    while True:
        seq = await outbox.append(b"reading %d" % n)
        sys.stdout.write(f"{seq} {n}\\n")
        sys.stdout.flush()
        n += 1

asyncio.run(main())
"""


async def test_kill_9_loses_nothing_that_was_acknowledged_as_written(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    async with await Outbox.open(path, max_readings=1_000_000) as outbox:
        await outbox.append_many([b"before 1", b"before 2"])
        await outbox.ack(1)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(path), stdout=asyncio.subprocess.PIPE, env=env
    )
    assert proc.stdout is not None
    confirmed: dict[int, bytes] = {}
    while len(confirmed) < 200:
        line = await proc.stdout.readline()
        assert line, "writer died early"
        seq, n = line.split()
        confirmed[int(seq)] = b"reading " + n
    proc.send_signal(signal.SIGKILL)  # while it keeps appending
    await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    async with await Outbox.open(path, max_readings=1_000_000) as reopened:
        stored = {e.seq: e.payload for e in await reopened.batch(1_000_000)}
        assert stored[2] == b"before 2"
        assert {s: stored.get(s) for s in confirmed} == confirmed
        assert sorted(stored) == list(range(2, max(stored) + 1))  # no holes
        assert await reopened.append(b"after") == max(stored) + 1
