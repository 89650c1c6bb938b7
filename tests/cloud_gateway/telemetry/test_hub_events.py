"""CCU hub events: parsed, deduplicated on (device, seq), fanned out over MQTT after commit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloud_gateway.config import GatewayConfig, MqttConfig
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.store import Store
from cloud_gateway.telemetry.hub_events import HubEventError, HubEventSink, hub_event_messages
from cloud_gateway.telemetry.repository_outbox import MqttOutboxRepository
from tests.support.gateway import gateway_harness
from tests.support.mqtt import MqttProbe
from tests.support.tunnel_device import TestDevice, enrol_device, open_tunnel
from tunnel.clock import ManualClock

BATCH = json.dumps(
    {
        "kind": "ccu_events",
        "events": [
            {
                "interface": "http://127.0.0.1:2010/",
                "address": "000A18A9A64DAD:1",
                "key": "ACTUAL_TEMPERATURE",
                "value": 19.5,
                "at": "2026-01-15T09:00:00+00:00",
            }
        ],
    }
).encode()


def test_messages_have_one_topic_level_per_part() -> None:
    ((topic, payload),) = hub_event_messages("cc", "ccu-1a2b", BATCH)
    assert topic == "cc/v1/hubs/ccu-1a2b/devices/000A18A9A64DAD:1/ACTUAL_TEMPERATURE"
    assert json.loads(payload) == {
        "v": 1,
        "value": 19.5,
        "at": "2026-01-15T09:00:00+00:00",
        "interface": "http://127.0.0.1:2010/",
    }
    odd = json.dumps({"kind": "ccu_events", "events": [{"address": "a/b#", "key": "K+"}]})
    ((topic, _),) = hub_event_messages("cc", "hub", odd.encode())
    assert topic == "cc/v1/hubs/hub/devices/a%2Fb%23/K%2B"


@pytest.mark.parametrize(
    "payload",
    [b"\xff", b"[]", b'{"kind": "other"}', b'{"kind": "ccu_events", "events": [{"key": "K"}]}'],
)
def test_malformed_batches_are_refused(payload: bytes) -> None:
    with pytest.raises(HubEventError):
        hub_event_messages("cc", "hub", payload)


async def test_a_resent_batch_writes_nothing_new(store: Store, clock: ManualClock) -> None:
    device = await store.repo(DeviceRepository).create(
        slug="ccu-x", kind=DeviceKind.CCU, created_at=clock.now()
    )
    sink = HubEventSink(store, clock, topic_prefix="cc")
    await sink.ingest(device, 7, BATCH)
    await sink.ingest(device, 7, BATCH)
    assert await store.repo(MqttOutboxRepository).count() == 1
    await sink.ingest(device, 8, b"not json")
    assert sink.rejected == 1
    assert await store.repo(MqttOutboxRepository).count() == 1


async def test_events_from_a_hub_reach_the_broker(
    tmp_path: Path, clock: ManualClock, mqtt_probe: MqttProbe
) -> None:
    config = GatewayConfig(mqtt=MqttConfig(enabled=True, topic_prefix=mqtt_probe.prefix))
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db, clock, config) as gw:
        await gw.create_account("anna")
        device = TestDevice(tmp_path / "device", gw.gateway.tls.ca_cert or Path())
        slug = await enrol_device(gw, device, "anna")
        client = await open_tunnel(gw.url, device.client_ssl())
        try:
            ack = await client.session.send_telemetry(1, BATCH)
            await ack
            message = await mqtt_probe.next()
        finally:
            await client.stop()
    assert message.topic == (
        f"{mqtt_probe.prefix}/v1/hubs/{slug}/devices/000A18A9A64DAD:1/ACTUAL_TEMPERATURE"
    )
    assert json.loads(message.payload)["value"] == 19.5
    assert message.qos == 1
