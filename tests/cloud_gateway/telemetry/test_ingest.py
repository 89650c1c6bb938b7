"""TelemetryIngest on SQLite and PostgreSQL: commit before return, dedup, days, outbox."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta

import pytest

from cloud_gateway.devices.model import Device, DeviceKind
from cloud_gateway.errors import StoreError
from cloud_gateway.plants.access import TrialPolicy
from cloud_gateway.plants.day_energy import day_bounds, local_day
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.plants.repository_readings import ReadingRepository
from cloud_gateway.store import Store
from cloud_gateway.telemetry.ingest import IngestResult, TelemetryIngest
from cloud_gateway.telemetry.repository_outbox import MqttOutboxRepository
from tests.cloud_gateway.plants.helpers import account, agent, info, plant, reading
from tunnel.clock import ManualClock


def make_ingest(store: Store, clock: ManualClock, prefix: str | None = "cc") -> TelemetryIngest:
    return TelemetryIngest(store, clock, access=TrialPolicy(), topic_prefix=prefix)


async def test_a_resent_batch_stores_nothing_new_and_still_returns(
    store: Store, clock: ManualClock
) -> None:
    anna = await account(store, clock, "anna")
    device = await agent(store, clock, anna)
    ingest = make_ingest(store, clock, None)
    payload = reading("SN-1", clock.now(), 500.0, 1000.0)
    assert await ingest.ingest(device, 7, payload) == IngestResult(1)
    assert await ingest.ingest(device, 7, payload) == IngestResult(0, duplicate=True)
    assert await store.repo(ReadingRepository).count_for_serial("SN-1") == 1
    # the same sequence number of another device is another batch
    other = await agent(store, clock, anna, "agent-2")
    assert await ingest.ingest(other, 7, payload) == IngestResult(1)
    assert await store.repo(ReadingRepository).count_for_serial("SN-1") == 2


async def test_ingest_returns_only_after_commit_and_groups_concurrent_calls(
    db_url: str, store: Store, clock: ManualClock
) -> None:
    anna = await account(store, clock, "anna")
    devices = [await agent(store, clock, anna, f"agent-{n}") for n in range(5)]
    ingest = make_ingest(store, clock, None)
    calls = [
        ingest.ingest(d, seq, reading(f"SN-{d.id}", clock.now() + timedelta(seconds=seq), 1.0, 2.0))
        for d in devices
        for seq in range(20)
    ]
    results = await asyncio.gather(*calls)
    assert all(r == IngestResult(1) for r in results)
    # A separate engine sees every reading: they were committed before ingest returned.
    observer = await Store.open(db_url, run_migrations=False)
    try:
        counts = [
            await observer.repo(ReadingRepository).count_for_serial(f"SN-{d.id}") for d in devices
        ]
    finally:
        await observer.close()
    assert counts == [20] * 5


async def test_a_failed_commit_raises_so_no_ack_is_sent(store: Store, clock: ManualClock) -> None:
    ghost = Device(
        id=999,
        slug="ghost",
        kind=DeviceKind.INVERTER_AGENT,
        name="",
        account_id=None,
        disabled=False,
        created_at=clock.now(),
    )
    ingest = make_ingest(store, clock, None)
    with pytest.raises(StoreError):
        await ingest.ingest(ghost, 1, reading("SN-1", clock.now(), 1.0, 2.0))
    assert await store.repo(ReadingRepository).count_for_serial("SN-1") == 0


async def test_readings_go_to_the_owners_inverter_with_day_energy_and_nameplate(
    store: Store, clock: ManualClock
) -> None:
    anna, bert = await account(store, clock, "anna"), await account(store, clock, "bert")
    mine = await plant(store, clock, anna)
    inv = await store.repo(InverterRepository).add(
        plant_id=mine.id, account_id=anna.id, serial="SN-1", name="", now=clock.now()
    )
    my_agent, their_agent = (
        await agent(store, clock, anna),
        await agent(store, clock, bert, "agent-b"),
    )
    ingest = make_ingest(store, clock, None)
    t0 = clock.now()
    await ingest.ingest(my_agent, 1, info("SN-1", 6000.0))
    for seq, (minutes, w, wh) in enumerate(
        [(0, 100.0, 10_000.0), (30, 900.0, 10_250.0), (60, 1500.0, 11_000.0)], 2
    ):
        await ingest.ingest(my_agent, seq, reading("SN-1", t0 + timedelta(minutes=minutes), w, wh))
    # Another account's agent reporting the same serial is stored, but not as anna's inverter.
    await ingest.ingest(their_agent, 1, reading("SN-1", t0 + timedelta(minutes=61), 99_999.0, 1.0))
    await ingest.ingest(their_agent, 2, info("SN-1", 1.0))
    assert (await store.repo(InverterRepository).get(inv.id, anna.id)).nominal_power_w == 6000
    days = await store.repo(ReadingRepository).day_states([inv.id], local_day(t0))
    [state] = days[inv.id]
    assert (state.energy_wh, state.last_power_w) == (1000.0, 1500.0)
    start, end = day_bounds(local_day(t0))
    rows = await store.repo(ReadingRepository).between([inv.id], start, end)
    assert [r.power_w for r in rows] == [100.0, 900.0, 1500.0]
    assert await store.repo(ReadingRepository).count_for_serial("SN-1") == 4


async def test_unusable_payloads_are_recorded_and_not_resent_forever(
    store: Store, clock: ManualClock
) -> None:
    device = await agent(store, clock, await account(store, clock, "anna"))
    ingest = make_ingest(store, clock, None)
    assert await ingest.ingest(device, 1, b"\xff garbage") == IngestResult(0, rejected=True)
    assert await ingest.ingest(device, 1, b"\xff garbage") == IngestResult(0, duplicate=True)


async def test_outbox_holds_one_state_per_inverter_only_for_served_plants(
    store: Store, clock: ManualClock
) -> None:
    anna = await account(store, clock, "anna")
    mine = await plant(store, clock, anna)
    await store.repo(InverterRepository).add(
        plant_id=mine.id, account_id=anna.id, serial="SN-1", name="", now=clock.now()
    )
    device = await agent(store, clock, anna)
    ingest = make_ingest(store, clock)
    batch = json.dumps(
        [
            json.loads(reading("SN-1", clock.now() + timedelta(minutes=m), 10.0 * m, 100.0 + m))
            for m in range(3)
        ]
    ).encode()
    assert await ingest.ingest(device, 1, batch) == IngestResult(3)
    [message] = await store.repo(MqttOutboxRepository).pending()
    assert message.topic == f"cc/v1/plants/{mine.id}/inverters/SN-1/state"
    body = json.loads(message.payload)
    assert (body["power_w"], body["energy_total_wh"], body["energy_today_wh"]) == (20.0, 102.0, 2.0)
    await store.repo(MqttOutboxRepository).delete([message.id])
    clock.advance(timedelta(days=41))  # the 40-day trial is over: stored, not fanned out
    assert await ingest.ingest(device, 2, reading("SN-1", clock.now(), 5.0, 200.0)) == IngestResult(
        1
    )
    assert await store.repo(MqttOutboxRepository).count() == 0
    assert await store.repo(ReadingRepository).count_for_serial("SN-1") == 4


async def test_a_key_repeated_in_one_group_is_stored_once(store: Store, clock: ManualClock) -> None:
    device = await agent(store, clock, await account(store, clock, "anna"))
    ingest = make_ingest(store, clock, None)
    payload = reading("SN-1", clock.now(), 1.0, 2.0)
    results = await asyncio.gather(*(ingest.ingest(device, 3, payload) for _ in range(3)))
    assert sorted(r.duplicate for r in results) == [False, True, True]
    assert await store.repo(ReadingRepository).count_for_serial("SN-1") == 1


async def test_a_refused_payload_fails_alone_not_its_whole_group(
    store: Store, clock: ManualClock
) -> None:
    anna = await account(store, clock, "anna")
    devices = [await agent(store, clock, anna, f"agent-{n}") for n in range(6)]
    ghost = replace(devices[0], id=999, slug="ghost")  # no such device: foreign key refuses it
    ingest = make_ingest(store, clock, None)
    calls = [ingest.ingest(d, 1, reading(f"SN-{d.id}", clock.now(), 1.0, 2.0)) for d in devices]
    calls.insert(3, ingest.ingest(ghost, 1, reading("SN-X", clock.now(), 1.0, 2.0)))
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(results.pop(3), StoreError)
    assert results == [IngestResult(1)] * 6
    assert [
        await store.repo(ReadingRepository).count_for_serial(f"SN-{d.id}") for d in devices
    ] == [1] * 6


async def test_a_deleted_inverter_is_not_used_from_the_cache(
    store: Store, clock: ManualClock
) -> None:
    anna = await account(store, clock, "anna")
    mine = await plant(store, clock, anna)
    inv = await store.repo(InverterRepository).add(
        plant_id=mine.id, account_id=anna.id, serial="SN-1", name="", now=clock.now()
    )
    device = await agent(store, clock, anna)
    ingest = make_ingest(store, clock, None)
    assert await ingest.ingest(device, 1, reading("SN-1", clock.now(), 1.0, 2.0)) == IngestResult(1)
    await store.repo(InverterRepository).delete(inv.id, anna.id)  # and its readings
    assert await ingest.ingest(device, 2, reading("SN-1", clock.now(), 1.0, 3.0)) == IngestResult(1)
    assert (
        await store.repo(ReadingRepository).count_for_serial("SN-1") == 1
    )  # stored, now unassigned
    again = await store.repo(InverterRepository).add(
        plant_id=mine.id, account_id=anna.id, serial="SN-1", name="", now=clock.now()
    )
    assert await ingest.ingest(device, 3, reading("SN-1", clock.now(), 1.0, 4.0)) == IngestResult(1)
    start, end = day_bounds(local_day(clock.now()))
    assert [
        r.energy_wh for r in await store.repo(ReadingRepository).between([again.id], start, end)
    ] == [4.0]


async def test_day_counters_merge_late_readings_across_commits(
    store: Store, clock: ManualClock
) -> None:
    anna = await account(store, clock, "anna")
    mine = await plant(store, clock, anna)
    inv = await store.repo(InverterRepository).add(
        plant_id=mine.id, account_id=anna.id, serial="SN-1", name="", now=clock.now()
    )
    device = await agent(store, clock, anna)
    ingest = make_ingest(store, clock)
    t0 = clock.now()
    # the newest first, then an agent catching up with older ones (one frame of two)
    await ingest.ingest(device, 1, reading("SN-1", t0 + timedelta(minutes=60), 1500.0, 11_000.0))
    late = json.dumps(
        [
            json.loads(reading("SN-1", t0 + timedelta(minutes=m), w, wh))
            for m, w, wh in [(30, 900.0, 10_250.0), (0, 100.0, 10_000.0)]
        ]
    ).encode()
    assert await ingest.ingest(device, 2, late) == IngestResult(2)
    [state] = (await store.repo(ReadingRepository).day_states([inv.id], local_day(t0)))[inv.id]
    assert (state.first_at, state.first_wh) == (t0, 10_000.0)
    assert (state.last_at, state.last_wh, state.last_power_w) == (
        t0 + timedelta(minutes=60),
        11_000.0,
        1500.0,
    )
    # the second commit's message carries its newest reading and the merged day
    bodies = [json.loads(m.payload) for m in await store.repo(MqttOutboxRepository).pending()]
    assert [(b["power_w"], b["energy_today_wh"]) for b in bodies] == [
        (1500.0, 0.0),
        (900.0, 1000.0),
    ]
