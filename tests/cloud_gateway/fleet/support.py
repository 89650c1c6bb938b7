"""Gateway nodes of one fleet in this process, on one fresh PostgreSQL database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from cloud_gateway.config import GatewayConfig
from cloud_gateway.fleet.node import FleetNode
from cloud_gateway.http.keys import FLEET
from tests.support.databases import fresh_database_url
from tests.support.gateway import GatewayHarness, gateway_harness
from tunnel.clock import ManualClock

__all__ = ["fleet_of", "started_nodes"]


def fleet_of(gw: GatewayHarness) -> FleetNode:
    """The node's fleet part (the gateway runs with ``[cluster] enabled``)."""
    fleet = gw.gateway.runner.app[FLEET]
    assert fleet is not None
    return fleet


@asynccontextmanager
async def started_nodes(
    tmp_path: Path, clock: ManualClock, configs: Sequence[GatewayConfig]
) -> AsyncIterator[list[GatewayHarness]]:
    """One gateway per config (one state folder: one device CA), linked and joined."""
    async with fresh_database_url("postgresql", tmp_path) as url, AsyncExitStack() as stack:
        started = [
            await stack.enter_async_context(gateway_harness(tmp_path, url, clock, config))
            for config in configs
        ]
        for gw in started:
            await asyncio.wait_for(fleet_of(gw).link.connected.wait(), 10)
            await asyncio.wait_for(fleet_of(gw).joined.wait(), 10)
        yield started
