"""Local MQTT with Home Assistant discovery, against the real Mosquitto."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from inverter_agent.agent import Agent
from inverter_agent.config import AgentConfig, GatewayLink, LocalMqttConfig
from inverter_agent.local_mqtt import node_id
from tests.inverter_agent.simulated import inverters, tcp_inverters
from tests.support.mqtt import BROKER_HOST, BROKER_PORT, MqttProbe, ReceivedMessage
from tunnel.clock import ManualClock

TIMEOUT = 10.0


async def collect(probe: MqttProbe, wanted: set[str]) -> dict[str, ReceivedMessage]:
    """Messages on the ``wanted`` topics (the latest of each), until all arrived."""
    seen: dict[str, ReceivedMessage] = {}
    async with asyncio.timeout(TIMEOUT):
        while not wanted <= seen.keys():
            message = await probe.next()
            seen[message.topic] = message
    return seen


def clear_retained(topics: list[str]) -> None:
    """Leave the shared broker without our retained messages."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(BROKER_HOST, BROKER_PORT)
    client.loop_start()
    try:
        for topic in topics:
            client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()


async def test_readings_and_home_assistant_discovery(
    tmp_path: Path, clock: ManualClock, mqtt_probe: MqttProbe
) -> None:
    sim = inverters(1)
    serial = sim[1].identity.serial
    node = node_id(serial)
    local = LocalMqttConfig(
        enabled=True,
        host=BROKER_HOST,
        port=BROKER_PORT,
        client_id=f"agent-{mqtt_probe.prefix[5:]}",
        topic_prefix=f"{mqtt_probe.prefix}/agent",
        discovery_prefix=f"{mqtt_probe.prefix}/ha",
    )
    power = f"{local.discovery_prefix}/sensor/{node}/power/config"
    energy = f"{local.discovery_prefix}/sensor/{node}/energy/config"
    state = f"{local.topic_prefix}/v1/{node}/state"
    status = f"{local.topic_prefix}/v1/status"
    retained = [power, energy, f"{local.discovery_prefix}/sensor/{node}/state/config", status]
    retained.append(f"{local.topic_prefix}/v1/{node}/info")
    async with tcp_inverters(sim) as (_, bus):
        config = AgentConfig(
            state_dir=tmp_path, buses=(bus,), gateway=GatewayLink(enabled=False), local_mqtt=local
        )
        agent = Agent(config, clock=clock)
        stop = asyncio.Event()
        task = asyncio.create_task(agent.run(stop), name="agent")
        try:
            seen = await collect(mqtt_probe, {power, energy, state, status, retained[-1]})
            assert agent.outbox is not None
            assert (await agent.outbox.stats()).pending == 1  # in the outbox before MQTT
        finally:
            stop.set()
            async with asyncio.timeout(TIMEOUT):
                await task
        offline = await collect(mqtt_probe, {status})
    with contextlib.suppress(OSError):
        await asyncio.to_thread(clear_retained, retained)

    power_config = json.loads(seen[power].payload)
    assert power_config["device_class"] == "power"
    assert power_config["state_class"] == "measurement"
    assert power_config["unit_of_measurement"] == "W"
    assert power_config["state_topic"] == state
    assert power_config["unique_id"] == f"inverter-agent-{node}-power"
    assert power_config["device"]["identifiers"] == [f"inverter-agent-{node}"]
    assert power_config["device"]["manufacturer"] == sim[1].identity.manufacturer
    assert power_config["device"]["model"] == sim[1].identity.model
    assert power_config["device"]["serial_number"] == serial
    energy_config = json.loads(seen[energy].payload)
    assert (energy_config["device_class"], energy_config["state_class"]) == (
        "energy",
        "total_increasing",
    )
    assert energy_config["unit_of_measurement"] == "Wh"
    reading = json.loads(seen[state].payload)
    assert reading["k"] == "reading"
    assert reading["sn"] == serial
    assert reading["w"] > 0
    assert seen[state].qos == 1
    assert offline[status].payload == b"offline"
