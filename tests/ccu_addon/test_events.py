"""CCU events from the simulated CCU's XML-RPC interfaces reach the add-on's sink."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from ccu_addon.events import MAX_CALLBACK_BODY, CcuEvent, CcuEventBridge
from ccu_addon.httpserver import HttpServer
from simulator.ccu.catalog import InterfaceName
from simulator.ccu.server import SimulatedCcu
from tunnel.clock import ManualClock


@dataclass
class Collected:
    events: list[CcuEvent] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, events: list[CcuEvent]) -> None:
        self.events.extend(events)
        self.arrived.set()

    async def next(self, key: str) -> CcuEvent:
        while True:
            for event in self.events:
                if event.key == key:
                    self.events.remove(event)
                    return event
            self.arrived.clear()
            await self.arrived.wait()


@dataclass
class Rig:
    ccu: SimulatedCcu
    bridge: CcuEventBridge
    collected: Collected


@pytest.fixture
async def rig(clock: ManualClock) -> AsyncIterator[Rig]:
    collected = Collected()
    async with SimulatedCcu(clock=clock) as ccu:
        bridge = CcuEventBridge(
            interfaces=[
                ccu.xmlrpc_url(InterfaceName.BIDCOS_RF),
                ccu.xmlrpc_url(InterfaceName.HMIP_RF),
            ],
            clock=clock,
            sink=collected,
            pong_timeout=0.5,
        )
        server = HttpServer(bridge.routes(), max_body=MAX_CALLBACK_BODY)
        bridge.callback_url = f"http://127.0.0.1:{await server.start('127.0.0.1', 0)}/"
        try:
            yield Rig(ccu, bridge, collected)
        finally:
            await server.close()


async def test_events_arrive_after_registration(rig: Rig, clock: ManualClock) -> None:
    for url in (
        rig.ccu.xmlrpc_url(InterfaceName.BIDCOS_RF),
        rig.ccu.xmlrpc_url(InterfaceName.HMIP_RF),
    ):
        assert await rig.bridge.register(url)
    rig.ccu.set_value("000A18A9A64DAD:1", "ACTUAL_TEMPERATURE", 19.5)
    event = await rig.collected.next("ACTUAL_TEMPERATURE")
    assert (event.address, event.value, event.at) == ("000A18A9A64DAD:1", 19.5, clock.now())
    assert event.interface == rig.ccu.xmlrpc_url(InterfaceName.HMIP_RF)
    rig.ccu.set_value("LEQ1234501:1", "STATE", True)
    assert (await rig.collected.next("STATE")).value is True


async def test_a_ccu_restart_is_noticed_and_healed(rig: Rig) -> None:
    for url in (
        rig.ccu.xmlrpc_url(InterfaceName.BIDCOS_RF),
        rig.ccu.xmlrpc_url(InterfaceName.HMIP_RF),
    ):
        assert await rig.bridge.register(url)
    await rig.bridge.check()  # both answer PONG: nothing to do
    assert rig.bridge.registrations == 2
    await rig.ccu.restart()  # registrations are lost
    await rig.bridge.check()
    assert rig.bridge.registrations == 4
    rig.ccu.set_value("000A18A9A64DAD:1", "ACTUAL_TEMPERATURE", 22.0)
    assert (await rig.collected.next("ACTUAL_TEMPERATURE")).value == 22.0


async def test_a_down_ccu_is_survived(rig: Rig) -> None:
    await rig.ccu.stop()
    assert not await rig.bridge.register(rig.ccu.xmlrpc_url(InterfaceName.HMIP_RF))
    await rig.bridge.check()
    assert rig.bridge.registrations == 0
