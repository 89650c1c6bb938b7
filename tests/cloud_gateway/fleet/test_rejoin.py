"""A node taken for dead joins again while its tunnels change (real gateway, PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from cloud_gateway.config import ClusterConfig, GatewayConfig
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.devices.schema import devices as devices_table
from cloud_gateway.fleet.repository import FleetRepository
from cloud_gateway.http.keys import TUNNELS
from tests.cloud_gateway.fleet.support import fleet_of, started_nodes
from tests.support.gateway import GatewayHarness
from tests.support.tunnel_device import TestDevice, enrol_device, open_tunnel
from tunnel.clock import ManualClock

pytestmark = pytest.mark.postgresql

_CONFIG = replace(
    GatewayConfig(),
    cluster=ClusterConfig(
        enabled=True, node_id="a", heartbeat_s=0.2, dead_after_s=3.0, lease_poll_s=0.2
    ),
)


async def _until(predicate: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():  # noqa: ASYNC110 - rows and other backends, no event
            await asyncio.sleep(0.02)


async def _held(gw: GatewayHarness) -> dict[int, str]:
    """device id -> node id of every directory row."""
    return {
        e.device_id: e.node_id for e in await gw.gateway.store.repo(FleetRepository).directory()
    }


async def test_a_tunnel_closing_while_its_node_joins_again_leaves_no_row(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with started_nodes(tmp_path, clock, [_CONFIG]) as [a]:
        await a.create_account("anna")
        devices = [
            TestDevice(tmp_path / f"hub{i}", a.gateway.tls.ca_cert or Path()) for i in (1, 2)
        ]
        slugs = [await enrol_device(a, d, "anna") for d in devices]
        ids = [(await a.gateway.store.repo(DeviceRepository).get_by_slug(s)).id for s in slugs]
        one = await open_tunnel(a.url, devices[0].client_ssl())
        two = await open_tunnel(a.url, devices[1].client_ssl())
        try:

            async def both_on_a() -> bool:
                return await _held(a) == {ids[0]: "a", ids[1]: "a"}

            await _until(both_on_a)
            store = a.gateway.store
            async with store.engine.connect() as other:
                # another transaction holds hub1's device row: a's claim of it will wait
                await other.begin()
                await other.execute(
                    sa.select(devices_table.c.id)
                    .where(devices_table.c.id == ids[0])
                    .with_for_update()
                )
                # the others reap a (a long stall); a joins again and claims its tunnels
                await store.repo(FleetRepository).leave("a")

                async def claiming_waits() -> bool:
                    async with store.engine.connect() as conn:
                        count = await conn.scalar(
                            sa.text(
                                "SELECT count(*) FROM pg_stat_activity WHERE "
                                "datname = current_database() AND wait_event_type = 'Lock' "
                                "AND query LIKE 'INSERT INTO tunnel_directory%'"
                            )
                        )
                    return bool(count)

                await _until(claiming_waits)
                # meanwhile hub2's tunnel ends and its release finds nothing to remove yet
                await two.stop()
                registry = a.gateway.runner.app[TUNNELS]

                async def released() -> bool:
                    return registry.get(ids[1]) is None and fleet_of(a).pending == 0

                await _until(released)
                await other.rollback()

            async def joined_again() -> bool:
                return fleet_of(a).rejoins == 1

            await _until(joined_again)
            assert await _held(a) == {ids[0]: "a"}  # never a row for the closed tunnel
            assert not one.task.done()
            assert [n.node_id for n in await store.repo(FleetRepository).nodes()] == ["a"]
        finally:
            await one.stop()
            await two.stop()
