"""Remote-access traffic: counted in memory, written in batches, nothing lost."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import pytest

from cloud_gateway.remote.ledger import TrafficLedger
from cloud_gateway.remote.repository import RemoteAccessRepository, RemoteSession, TrafficDelta
from cloud_gateway.store import Store
from tests.cloud_gateway.remote.support import counting_statements, make_hub, start_session
from tunnel.clock import ManualClock


async def _audit(store: Store, session: RemoteSession) -> tuple[int, int, int]:
    [row] = [
        s for s in await store.repo(RemoteAccessRepository).list_sessions() if s.id == session.id
    ]
    return row.requests, row.bytes_to_device, row.bytes_from_device


async def test_requests_are_counted_without_writes_and_written_every_interval(
    store: Store, clock: ManualClock
) -> None:
    hub = await make_hub(store, clock)
    session = await start_session(store, clock, hub.owner, hub.device, "a" * 64)
    ledger = TrafficLedger(store.repo(RemoteAccessRepository), clock, interval_s=30)
    with counting_statements(store) as statements:
        for i in range(25):
            ledger.record(session.id, now=clock.advance(1), to_device=100, from_device=1000 + i)
    assert statements == []  # no database work per request
    assert await _audit(store, session) == (0, 0, 0)
    assert ledger.last_seen(session.id) == clock.now()

    writer = asyncio.create_task(ledger.run())
    try:
        await asyncio.sleep(0)
        clock.advance(30)
        async with asyncio.timeout(5):
            while ledger.sessions:  # noqa: ASYNC110 - the writer task owns no event to await
                await asyncio.sleep(0.01)
            while (await _audit(store, session))[0] == 0:  # noqa: ASYNC110 - database row
                await asyncio.sleep(0.01)
    finally:
        writer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writer
    assert await _audit(store, session) == (25, 2500, 25 * 1000 + sum(range(25)))
    [row] = await store.repo(RemoteAccessRepository).list_sessions(device_id=hub.device.id)
    assert row.last_seen_at == clock.now() - timedelta(seconds=30)


async def test_one_write_for_many_sessions_and_counts_add_up_across_nodes(
    store: Store, clock: ManualClock
) -> None:
    hub = await make_hub(store, clock)
    first = await start_session(store, clock, hub.owner, hub.device, "a" * 64)
    second = await start_session(store, clock, hub.owner, hub.device, "b" * 64)
    node_a = TrafficLedger(store.repo(RemoteAccessRepository), clock)
    node_b = TrafficLedger(store.repo(RemoteAccessRepository), clock)
    for ledger in (node_a, node_b):
        ledger.record(first.id, now=clock.now(), to_device=1, from_device=2)
    node_a.record(second.id, now=clock.now(), to_device=5, from_device=7)
    with counting_statements(store) as statements:
        assert await node_a.flush() == 2
    assert len([s for s in statements if s.lstrip().upper().startswith("UPDATE")]) == 1
    await node_b.flush()
    assert await _audit(store, first) == (2, 2, 4)
    assert await _audit(store, second) == (1, 5, 7)
    assert await node_a.flush() == 0  # nothing new, nothing written


class _FailingOnce:
    """The real repository, but the first batch fails as if the database were away."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.failed = False

    async def add_traffic_batch(self, deltas: Sequence[TrafficDelta]) -> None:
        if not self.failed:
            self.failed = True
            raise OSError("database unreachable")
        await self._store.repo(RemoteAccessRepository).add_traffic_batch(deltas)


async def test_a_failed_write_keeps_the_sums_for_the_next_one(
    store: Store, clock: ManualClock
) -> None:
    hub = await make_hub(store, clock)
    session = await start_session(store, clock, hub.owner, hub.device, "a" * 64)
    repository = _FailingOnce(store)
    ledger = TrafficLedger(repository, clock)  # type: ignore[arg-type]  # duck-typed double
    ledger.record(session.id, now=clock.now(), to_device=10, from_device=20)
    with pytest.raises(OSError, match="unreachable"):
        await ledger.flush()
    ledger.record(session.id, now=clock.now(), to_device=1, from_device=2)
    await ledger.flush()
    assert await _audit(store, session) == (2, 11, 22)


async def test_flush_session_writes_one_session_before_it_ends(
    store: Store, clock: ManualClock
) -> None:
    hub = await make_hub(store, clock)
    ending = await start_session(store, clock, hub.owner, hub.device, "a" * 64)
    other = await start_session(store, clock, hub.owner, hub.device, "b" * 64)
    ledger = TrafficLedger(store.repo(RemoteAccessRepository), clock)
    ledger.record(ending.id, now=clock.now(), to_device=3, from_device=4)
    ledger.record(other.id, now=clock.now(), to_device=5, from_device=6)
    await ledger.flush_session(ending.id)
    assert await _audit(store, ending) == (1, 3, 4)
    assert await _audit(store, other) == (0, 0, 0)
    assert ledger.sessions == 1


async def _rename(store: Store, old: str, new: str) -> None:
    async with store.engine.begin() as conn:
        await conn.exec_driver_sql(f"ALTER TABLE {old} RENAME TO {new}")


async def test_the_writer_outlives_a_database_error_and_writes_the_sums_later(
    store: Store, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await make_hub(store, clock)
    session = await start_session(store, clock, hub.owner, hub.device, "a" * 64)
    ledger = TrafficLedger(store.repo(RemoteAccessRepository), clock, interval_s=30)
    ledger.record(session.id, now=clock.now(), to_device=10, from_device=20)
    await _rename(store, "remote_sessions", "remote_sessions_away")
    writer = asyncio.create_task(ledger.run())
    try:
        await asyncio.sleep(0)
        clock.advance(30)
        async with asyncio.timeout(5):
            while "audit not written" not in caplog.text:  # noqa: ASYNC110 - a log line
                await asyncio.sleep(0.01)
        await _rename(store, "remote_sessions_away", "remote_sessions")
        clock.advance(30)
        async with asyncio.timeout(5):
            while (await _audit(store, session))[0] == 0:  # noqa: ASYNC110 - database row
                await asyncio.sleep(0.01)
        assert not writer.done()
    finally:
        writer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writer
    assert await _audit(store, session) == (1, 10, 20)
