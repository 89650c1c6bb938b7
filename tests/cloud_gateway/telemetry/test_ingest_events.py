"""SunSpec event history on ingest: every reading's ``evt`` bits in time order, per inverter."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa

from cloud_gateway.devices.model import Device
from cloud_gateway.monitoring.repository import MonitoringRepository
from cloud_gateway.plants.access import TrialPolicy
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.plants.schema import inverter_live
from cloud_gateway.store import Store
from cloud_gateway.telemetry.ingest import IngestResult, TelemetryIngest
from tests.cloud_gateway.plants.helpers import account, agent, plant
from tunnel.clock import ManualClock

OVER_TEMPERATURE, GROUND_FAULT = 7, 0


def batch(
    serial: str, readings: Sequence[tuple[datetime, int | None]], *, tmp: float = 40.0
) -> bytes:
    """One payload of several readings (an agent's backlog), each with its ``evt`` bits."""
    bodies: list[dict[str, object]] = []
    for at, evt in readings:
        body: dict[str, object] = {
            "v": 1,
            "k": "reading",
            "sn": serial,
            "unit": 1,
            "ts": int(at.timestamp() * 1000),
            "w": 100.0,
            "tmp": tmp,
        }
        if evt is not None:
            body["evt"] = evt
        bodies.append(body)
    return json.dumps(bodies).encode()


async def setup(store: Store, clock: ManualClock) -> tuple[Device, int]:
    anna = await account(store, clock, "anna")
    mine = await plant(store, clock, anna)
    inv = await store.repo(InverterRepository).add(
        plant_id=mine.id, account_id=anna.id, serial="SN-1", name="", now=clock.now()
    )
    return await agent(store, clock, anna), inv.id


async def history(store: Store, inverter_id: int) -> list[tuple[datetime, int, bool]]:
    """The stored events, oldest first."""
    _at, _details, events = await store.repo(MonitoringRepository).live_details(
        inverter_id, events=100
    )
    return events[::-1]


async def test_an_event_raised_and_cleared_inside_one_backlog_has_both_instants(
    store: Store, clock: ManualClock
) -> None:
    device, inv = await setup(store, clock)
    ingest = TelemetryIngest(store, clock, access=TrialPolicy(), topic_prefix=None)
    t = [clock.now() + timedelta(minutes=m) for m in range(8)]
    over, ground = 1 << OVER_TEMPERATURE, 1 << GROUND_FAULT
    # the backlog after an outage: over-temperature rose at t1 and fell at t3, all in one batch
    backlog = [(t[0], 0), (t[1], over), (t[2], over), (t[3], 0), (t[4], ground)]
    assert await ingest.ingest(device, 1, batch("SN-1", backlog)) == IngestResult(5)
    assert await history(store, inv) == [
        (t[1], OVER_TEMPERATURE, True),
        (t[3], OVER_TEMPERATURE, False),
        (t[4], GROUND_FAULT, True),
    ]

    # two payloads in one group, the later one first: taken in time order all the same
    clock.advance(timedelta(minutes=10))
    results = await asyncio.gather(
        ingest.ingest(device, 3, batch("SN-1", [(t[6], ground | over)])),
        ingest.ingest(device, 2, batch("SN-1", [(t[5], 0)])),
    )
    assert list(results) == [IngestResult(1), IngestResult(1)]
    assert (await history(store, inv))[3:] == [
        (t[5], GROUND_FAULT, False),
        (t[6], GROUND_FAULT, True),
        (t[6], OVER_TEMPERATURE, True),
    ]


async def test_a_restarted_ingest_continues_the_stored_history(
    store: Store, clock: ManualClock
) -> None:
    device, inv = await setup(store, clock)
    t = [clock.now() + timedelta(minutes=m) for m in range(6)]
    over = 1 << OVER_TEMPERATURE
    first = TelemetryIngest(store, clock, access=TrialPolicy(), topic_prefix=None)
    await first.ingest(device, 1, batch("SN-1", [(t[1], over), (t[2], over)]))
    # a reading without event bits keeps the stored ones
    await first.ingest(device, 2, batch("SN-1", [(t[3], None)]))

    # a new ingest (gateway restart) reads where the history ends: the bits still set raise
    # nothing again, a straggler older than the stored end changes nothing, a clear counts
    again = TelemetryIngest(store, clock, access=TrialPolicy(), topic_prefix=None)
    await again.ingest(device, 3, batch("SN-1", [(t[0], 0), (t[4], over), (t[5], 0)]))
    assert await history(store, inv) == [
        (t[1], OVER_TEMPERATURE, True),
        (t[5], OVER_TEMPERATURE, False),
    ]
    at, details, _events = await store.repo(MonitoringRepository).live_details(inv)
    assert (at, details["events"]) == (t[5], 0)


async def test_a_late_reading_keeps_the_newest_details_and_no_bits_keep_the_stored_ones(
    store: Store, clock: ManualClock
) -> None:
    device, inv = await setup(store, clock)
    ingest = TelemetryIngest(store, clock, access=TrialPolicy(), topic_prefix=None)
    t = [clock.now() + timedelta(minutes=m) for m in range(4)]
    over = 1 << OVER_TEMPERATURE
    await ingest.ingest(device, 1, batch("SN-1", [(t[2], over)], tmp=40.0))
    # a straggler in a later commit: older than the stored details, it replaces nothing
    await ingest.ingest(device, 2, batch("SN-1", [(t[1], 0)], tmp=30.0))
    at, details, _events = await store.repo(MonitoringRepository).live_details(inv)
    assert (at, details["temperature_cabinet_c"], details["events"]) == (t[2], 40.0, over)

    # a newer reading without event bits: its details count, the stored bits stay
    await ingest.ingest(device, 3, batch("SN-1", [(t[3], None)], tmp=50.0))
    at, details, events = await store.repo(MonitoringRepository).live_details(inv)
    assert (at, details["temperature_cabinet_c"], details["events"]) == (t[3], 50.0, None)
    async with store.engine.connect() as conn:
        stored = await conn.scalar(
            sa.select(inverter_live.c.events).where(inverter_live.c.inverter_id == inv)
        )
    assert stored == over
    assert events == [(t[2], OVER_TEMPERATURE, True)]
