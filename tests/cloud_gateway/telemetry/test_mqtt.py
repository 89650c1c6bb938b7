"""MQTT fan-out on the real Mosquitto: documented topic and payload, outbox survives restarts."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import pytest

from cloud_gateway.config import GatewayConfig, MqttConfig
from cloud_gateway.http.keys import TELEMETRY_INGEST
from cloud_gateway.plants.access import TrialPolicy
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.store import Store
from cloud_gateway.telemetry import mqtt_wire
from cloud_gateway.telemetry.ingest import IngestResult, TelemetryIngest
from cloud_gateway.telemetry.mqtt_wire import encode_publish
from cloud_gateway.telemetry.publisher import MqttOutboxPublisher
from cloud_gateway.telemetry.repository_outbox import MqttOutboxRepository
from cloud_gateway.telemetry.schema import mqtt_outbox
from tests.cloud_gateway.plants.helpers import account, agent, plant, reading
from tests.support.databases import fresh_database_url
from tests.support.gateway import gateway_harness
from tests.support.mqtt import BROKER_HOST, BROKER_PORT, MqttProbe
from tests.support.tcp_proxy import TcpProxy
from tunnel.clock import ManualClock


async def test_telemetry_reaches_a_subscriber_in_the_documented_shape(
    tmp_path: Path, db_url: str, clock: ManualClock, mqtt_probe: MqttProbe
) -> None:
    config = replace(GatewayConfig(), mqtt=MqttConfig(enabled=True, topic_prefix=mqtt_probe.prefix))
    async with gateway_harness(tmp_path, db_url, clock, config) as gw:
        store = gw.gateway.store
        anna = await account(store, clock, "anna")
        mine = await plant(store, clock, anna)
        await store.repo(InverterRepository).add(
            plant_id=mine.id, account_id=anna.id, serial="SN-0042", name="", now=clock.now()
        )
        device = await agent(store, clock, anna)
        ingest = gw.gateway.runner.app[TELEMETRY_INGEST]
        result = await ingest.ingest(
            device, 1, reading("SN-0042", clock.now(), 5000.0, 1_234_560.0)
        )
        assert result == IngestResult(1)
        message = await mqtt_probe.next()
    assert message.topic == f"{mqtt_probe.prefix}/v1/plants/{mine.id}/inverters/SN-0042/state"
    assert message.qos == 1
    assert json.loads(message.payload) == {
        "v": 1,
        "plant_id": mine.id,
        "inverter_id": 1,
        "serial": "SN-0042",
        "at": "2026-01-15T09:00:00.000Z",
        "power_w": 5000.0,
        "dc_power_w": None,
        "energy_total_wh": 1_234_560.0,
        "energy_today_wh": 0.0,
        "state": None,
    }


async def test_a_restart_loses_no_message_and_sends_none_twice(
    store: Store, clock: ManualClock, mqtt_probe: MqttProbe
) -> None:
    anna = await account(store, clock, "anna")
    mine = await plant(store, clock, anna)
    for n in range(3):
        await store.repo(InverterRepository).add(
            plant_id=mine.id, account_id=anna.id, serial=f"SN-{n}", name="", now=clock.now()
        )
    device = await agent(store, clock, anna)
    # The gateway committed the readings but stopped before publishing them.
    ingest = TelemetryIngest(store, clock, access=TrialPolicy(), topic_prefix=mqtt_probe.prefix)
    for n in range(3):
        await ingest.ingest(device, n, reading(f"SN-{n}", clock.now(), 100.0 * n, 1000.0))
    assert await store.repo(MqttOutboxRepository).count() == 3
    # After the restart the publisher sends what waits, in order, and deletes it after PUBACK.
    publisher = MqttOutboxPublisher(
        store.repo(MqttOutboxRepository), host=BROKER_HOST, port=BROKER_PORT
    )
    task = asyncio.create_task(publisher.run())
    try:
        received = [await mqtt_probe.next() for _ in range(3)]
        await publisher.drained.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [m.topic.split("/")[-2] for m in received] == ["SN-0", "SN-1", "SN-2"]
    assert await store.repo(MqttOutboxRepository).count() == 0
    # A second start has nothing to send: the next message on the prefix is our marker.
    again = MqttOutboxPublisher(
        store.repo(MqttOutboxRepository), host=BROKER_HOST, port=BROKER_PORT
    )
    task = asyncio.create_task(again.run())
    try:
        await again.drained.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    mqtt_probe.publish("marker", b"end")
    assert (await mqtt_probe.next()).topic == f"{mqtt_probe.prefix}/marker"


async def test_many_batches_in_flight_are_each_sent_once(
    store: Store, clock: ManualClock, mqtt_probe: MqttProbe
) -> None:
    """Several batches in flight at once: none lost, none sent twice.

    (Below 1,000 messages: Mosquitto's default queue for one QoS 1 subscriber, the probe.)
    """
    total = 950
    await _fill_outbox(store, clock, mqtt_probe.prefix, total)
    publisher = MqttOutboxPublisher(
        store.repo(MqttOutboxRepository),
        host=BROKER_HOST,
        port=BROKER_PORT,
        batch=100,
        max_in_flight=300,
    )
    task = asyncio.create_task(publisher.run())
    try:
        received = [await mqtt_probe.next() for _ in range(total)]
        await publisher.drained.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert sorted(int(m.payload) for m in received) == list(range(total))
    assert await store.repo(MqttOutboxRepository).count() == 0
    mqtt_probe.publish("marker", b"end")
    assert (await mqtt_probe.next()).topic == f"{mqtt_probe.prefix}/marker"


async def test_messages_in_flight_when_the_link_dies_are_sent_again(
    store: Store, clock: ManualClock, mqtt_probe: MqttProbe
) -> None:
    """The connection to the broker is cut before its PUBACKs arrive: the next connection
    sends every unacknowledged message again, none is lost, the outbox ends empty."""
    total = 300
    await _fill_outbox(store, clock, mqtt_probe.prefix, total)
    # PUBACKs (broker -> publisher) take half a second through the proxy.
    async with TcpProxy((BROKER_HOST, BROKER_PORT), downstream_delay_s=0.5) as proxy:
        publisher = MqttOutboxPublisher(
            store.repo(MqttOutboxRepository),
            host="127.0.0.1",
            port=proxy.port,
            batch=100,
            max_in_flight=300,
        )
        task = asyncio.create_task(publisher.run())
        try:
            received = [await mqtt_probe.next()]  # the broker has the messages, we no PUBACK
            assert proxy.cut() == 1
            await publisher.drained.wait()
            mqtt_probe.publish("marker", b"end")
            while (message := await mqtt_probe.next()).topic != f"{mqtt_probe.prefix}/marker":
                received.append(message)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert publisher.connections == 2
    assert {int(m.payload) for m in received} == set(range(total))
    assert len(received) > total  # at least once: some went out on both connections
    assert await store.repo(MqttOutboxRepository).count() == 0


@pytest.mark.postgresql
async def test_a_row_that_commits_after_higher_ids_is_still_sent(
    tmp_path: Path, clock: ManualClock, mqtt_probe: MqttProbe
) -> None:
    """PostgreSQL hands out ids at insert: a slow transaction's row can commit after rows with
    higher ids were sent. (SQLite writers are serialised, so this cannot happen there.)"""
    async with fresh_database_url("postgresql", tmp_path) as url:
        store = await Store.open(url)
        try:
            async with store.engine.connect() as slow:
                late = await slow.begin()
                await slow.execute(
                    mqtt_outbox.insert(),
                    {
                        "topic": f"{mqtt_probe.prefix}/late",
                        "payload": b"-1",
                        "created_at": clock.now(),
                    },
                )
                await _fill_outbox(store, clock, mqtt_probe.prefix, 2)  # higher ids, committed
                publisher = MqttOutboxPublisher(
                    store.repo(MqttOutboxRepository), host=BROKER_HOST, port=BROKER_PORT
                )
                task = asyncio.create_task(publisher.run())
                try:
                    first = [await mqtt_probe.next() for _ in range(2)]
                    await late.commit()
                    publisher.wake()
                    last = await mqtt_probe.next()
                finally:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
        finally:
            await store.close()
    assert sorted(m.payload for m in first) == [b"0", b"1"]
    assert last.payload == b"-1"


async def _fill_outbox(store: Store, clock: ManualClock, prefix: str, total: int) -> None:
    """``total`` messages ``<prefix>/m/<n>`` with payload ``n`` in the outbox."""
    async with store.engine.begin() as conn:
        await conn.execute(
            mqtt_outbox.insert(),
            [
                {"topic": f"{prefix}/m/{n}", "payload": b"%d" % n, "created_at": clock.now()}
                for n in range(total)
            ],
        )


@pytest.mark.mqtt
def test_the_wire_client_publishes_on_uvloops_loop_too() -> None:
    """uvloop's transports do not subclass asyncio.Transport: the client recognises them by
    their methods (ADR 0027) instead of refusing the connection and retrying for ever."""
    uvloop = pytest.importorskip("uvloop")

    async def publish_once() -> list[int]:
        acked: asyncio.Queue[list[int]] = asyncio.Queue()
        connection = await mqtt_wire.connect(
            BROKER_HOST, BROKER_PORT, client_id="uvloop-check", on_puback=acked.put_nowait
        )
        try:
            connection.publish([encode_publish(b"test/uvloop-check", 7, b"1")])
            async with asyncio.timeout(10):
                return await acked.get()
        finally:
            connection.close()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.get_loop().__class__.__module__.startswith("uvloop")
        assert runner.run(publish_once()) == [7]
