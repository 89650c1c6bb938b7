"""Alert messages on the real Mosquitto: an open alert is retained, its end clears the topic."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cloud_gateway.monitoring.repository import MonitoringRepository
from cloud_gateway.monitoring.service import AlertService
from cloud_gateway.plants.access import TrialPolicy
from cloud_gateway.store import Store
from cloud_gateway.telemetry.publisher import MqttOutboxPublisher
from cloud_gateway.telemetry.repository_outbox import MqttOutboxRepository
from tests.cloud_gateway.monitoring.helpers import local
from tests.cloud_gateway.monitoring.test_service import DAY, SETTINGS, fleet, run
from tests.support.mqtt import BROKER_HOST, BROKER_PORT, MqttProbe, ReceivedMessage
from tunnel.clock import ManualClock


async def _publish_all(store: Store) -> None:
    """Publish what the outbox holds and wait for the broker's PUBACKs."""
    publisher = MqttOutboxPublisher(
        store.repo(MqttOutboxRepository), host=BROKER_HOST, port=BROKER_PORT
    )
    task = asyncio.create_task(publisher.run())
    try:
        async with asyncio.timeout(10):  # a publisher that cannot connect fails, not hangs
            while await store.repo(MqttOutboxRepository).count():
                await publisher.drained.wait()
                publisher.drained.clear()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def next_alert(probe: MqttProbe) -> ReceivedMessage:
    """The probe's next message other than a late subscriber's marker."""
    while (message := await probe.next()).topic.endswith("/marker"):
        pass
    return message


@asynccontextmanager
async def late_subscriber(prefix: str) -> AsyncIterator[list[ReceivedMessage]]:
    """A subscriber that connects now: what the broker retained below ``prefix``, up to a
    marker published after the subscription (retained messages arrive first)."""
    probe = MqttProbe()
    probe.prefix = prefix
    await probe.start()
    try:
        probe.publish("marker", b"end")
        seen: list[ReceivedMessage] = []
        while (message := await probe.next()).topic != f"{prefix}/marker":
            seen.append(message)
        yield seen
    finally:
        await probe.stop()


async def test_an_open_alert_is_retained_and_its_end_clears_it(
    store: Store, mqtt_probe: MqttProbe
) -> None:
    clock = ManualClock(local(DAY, 10))
    f = await fleet(store, clock)
    mine, [inv] = await f.add_plant("Scheune", range(1, 2))
    await store.repo(MonitoringRepository).save_settings(
        mine.id, SETTINGS, muted=False, now=clock.now()
    )
    alerts = AlertService(store, clock, TrialPolicy(), topic_prefix=mqtt_probe.prefix)
    f.devices[inv.serial].set_offline()
    await run(f, alerts, local(DAY, 10, 40))
    await _publish_all(store)
    topic = f"{mqtt_probe.prefix}/v1/plants/{mine.id}/inverters/{inv.serial}/alerts/no_data"

    live = await next_alert(mqtt_probe)
    assert (live.topic, json.loads(live.payload)["event"]) == (topic, "opened")
    async with late_subscriber(mqtt_probe.prefix) as retained:
        assert [(m.topic, m.retain) for m in retained] == [(topic, True)]
        body = json.loads(retained[0].payload)
        assert (body["open"], body["rule"], body["serial"]) == (True, "no_data", inv.serial)

    # the inverter answers again: the alert closes after its clear streak
    f.devices[inv.serial].set_offline(False)
    closing = await run(f, alerts, local(DAY, 11, 10))
    assert len(closing) == 1
    await _publish_all(store)
    closed, cleared = await next_alert(mqtt_probe), await next_alert(mqtt_probe)
    assert (closed.topic, json.loads(closed.payload)["open"]) == (topic, False)
    assert (cleared.topic, cleared.payload) == (topic, b"")
    async with late_subscriber(mqtt_probe.prefix) as retained:
        assert retained == []  # the broker keeps nothing for the ended alert
