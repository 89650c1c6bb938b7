"""Reaping and joining again at the same time (PostgreSQL, two real transactions)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.fleet.repository import FleetRepository
from cloud_gateway.fleet.schema import fleet_nodes
from cloud_gateway.store import Store
from tunnel.clock import ManualClock

pytestmark = pytest.mark.postgresql


async def _waiting_for_a_lock(store: Store) -> bool:
    async with store.engine.connect() as conn:
        count = await conn.scalar(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(count)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_node_beating_while_it_is_reaped_keeps_its_row_and_tunnels(
    store: Store, clock: ManualClock
) -> None:
    repo = store.repo(FleetRepository)
    device = await (store.repo(DeviceRepository)).create(
        slug="hub-1", kind=DeviceKind.CCU, name="hub-1", created_at=clock.now()
    )
    await repo.join("a", clock.now())
    await repo.claim(device.id, "a", "s1", clock.now())
    clock.advance(timedelta(seconds=11))  # a's row is old: a reaper would take a for dead
    async with store.engine.connect() as beating:
        # a's heartbeat is under way (not committed yet) when the reaper looks
        await beating.begin()
        await beating.execute(
            fleet_nodes.update()
            .where(fleet_nodes.c.node_id == "a")
            .values(heartbeat_at=clock.now())
        )
        reaping = asyncio.create_task(repo.reap(clock.now(), timedelta(seconds=10)))
        async with asyncio.timeout(10):
            while not await _waiting_for_a_lock(store):  # noqa: ASYNC110 - another backend
                await asyncio.sleep(0.02)
        assert not reaping.done()
        await beating.commit()
    assert await reaping == []  # judged on the fresh heartbeat
    assert [n.node_id for n in await repo.nodes()] == ["a"]
    entry = await repo.locate(device.id)
    assert entry is not None
    assert entry.node_id == "a"
