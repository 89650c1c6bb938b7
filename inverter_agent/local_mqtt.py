"""Readings for the owner's own MQTT broker, with Home Assistant discovery; optional.

Published only after the readings are committed to the outbox; best effort (QoS 1 while
connected, at most :data:`MAX_QUEUED` messages queued while the broker is away). Topics, with
``<node>`` the inverter's serial number in lower case with ``[^a-z0-9_-]`` replaced by ``_``::

    <topic_prefix>/v1/status                    "online" / "offline" (retained, last will)
    <topic_prefix>/v1/<node>/state              the reading payload (docs/telemetry.md)
    <topic_prefix>/v1/<node>/info               the info payload (retained)
    <discovery_prefix>/sensor/<node>/<object>/config   Home Assistant discovery (retained)

``<object>`` is ``power`` (W, measurement), ``energy`` (Wh, total_increasing) or ``state``.
paho-mqtt runs its network loop in its own thread and reconnects by itself; this class only
hands it messages and waits for its connect callback through the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from typing import Any, Final

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from inverter_agent.config import LocalMqttConfig
from inverter_agent.readings import InverterInfo, Reading, encode_payload

__all__ = ["MAX_QUEUED", "LocalMqtt", "discovery_messages", "node_id"]

_LOGGER = logging.getLogger(__name__)

MAX_QUEUED: Final = 1000
"""Messages paho keeps while the broker is unreachable; newer ones are dropped beyond."""
_SENSORS: Final[tuple[tuple[str, str, str, dict[str, str]], ...]] = (
    ("power", "Leistung", "{{ value_json.w }}", {"device_class": "power", "unit": "W"}),
    ("energy", "Energie", "{{ value_json.wh }}", {"device_class": "energy", "unit": "Wh"}),
    ("state", "Status", "{{ value_json.st }}", {}),
)
"""Home Assistant sensors per inverter: object id, name (German first), template, class."""


def node_id(serial: str) -> str:
    """The topic-safe id of an inverter."""
    return re.sub(r"[^a-z0-9_-]", "_", serial.lower())


def discovery_messages(config: LocalMqttConfig, info: InverterInfo) -> list[tuple[str, bytes]]:
    """Home Assistant discovery ``(topic, payload)`` pairs for one inverter."""
    node = node_id(info.sn)
    device: dict[str, Any] = {
        "identifiers": [f"inverter-agent-{node}"],
        "name": " ".join(p for p in (info.mn, info.md, info.sn) if p),
        "manufacturer": info.mn,
        "model": info.md,
        "serial_number": info.sn,
        "sw_version": info.vr,
    }
    messages = []
    for obj, name, template, extra in _SENSORS:
        body: dict[str, Any] = {
            "name": name,
            "unique_id": f"inverter-agent-{node}-{obj}",
            "state_topic": f"{config.topic_prefix}/v1/{node}/state",
            "value_template": template,
            "availability_topic": f"{config.topic_prefix}/v1/status",
            "device": {k: v for k, v in device.items() if v is not None},
        }
        if extra:
            body["device_class"] = extra["device_class"]
            body["unit_of_measurement"] = extra["unit"]
            body["state_class"] = "measurement" if obj == "power" else "total_increasing"
        topic = f"{config.discovery_prefix}/sensor/{node}/{obj}/config"
        messages.append((topic, json.dumps(body, separators=(",", ":")).encode()))
    return messages


class LocalMqtt:
    """A paho-mqtt client towards the owner's broker."""

    def __init__(self, config: LocalMqttConfig) -> None:
        self._config = config
        self._status_topic = f"{config.topic_prefix}/v1/status"
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=config.client_id)
        if config.username is not None:
            client.username_pw_set(config.username, config.password)
        client.max_queued_messages_set(MAX_QUEUED)
        client.reconnect_delay_set(1, 60)
        client.will_set(self._status_topic, b"offline", qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        self._client = client
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connected = asyncio.Event()
        self._started = False

    async def start(self) -> None:
        """Start connecting in paho's thread; returns at once (the broker may be away)."""
        self._loop = asyncio.get_running_loop()
        self._client.connect_async(self._config.host, self._config.port, self._config.keepalive_s)
        self._client.loop_start()
        self._started = True
        _LOGGER.info("local MQTT: connecting to %s:%d", self._config.host, self._config.port)

    async def wait_connected(self) -> None:
        """Wait until the broker accepted the connection."""
        await self._connected.wait()

    async def close(self) -> None:
        """Say ``offline``, disconnect and stop paho's thread."""
        if not self._started:
            return
        self._started = False
        if self._client.is_connected():
            info = self._client.publish(self._status_topic, b"offline", qos=1, retain=True)
            await asyncio.to_thread(info.wait_for_publish, 2.0)
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)

    def publish(self, payloads: Sequence[Reading | InverterInfo]) -> None:
        """Queue discovery, info and state messages for ``payloads``."""
        for payload in payloads:
            node = node_id(payload.sn)
            if isinstance(payload, InverterInfo):
                for topic, body in discovery_messages(self._config, payload):
                    self._send(topic, body, retain=True)
                self._send(f"{self._config.topic_prefix}/v1/{node}/info", encode_payload(payload))
            else:
                topic = f"{self._config.topic_prefix}/v1/{node}/state"
                self._send(topic, encode_payload(payload), retain=False)

    def _send(self, topic: str, body: bytes, *, retain: bool = True) -> None:
        result = self._client.publish(topic, body, qos=1, retain=retain)
        if result.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            _LOGGER.debug("local MQTT: %s not queued: %s", topic, mqtt.error_string(result.rc))

    # --- paho's thread --------------------------------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: object,
        reason: ReasonCode,
        _properties: object,
    ) -> None:
        if reason.is_failure:
            _LOGGER.warning("local MQTT: broker refused the connection: %s", reason)
            return
        client.publish(self._status_topic, b"online", qos=1, retain=True)
        _LOGGER.info("local MQTT: connected to %s:%d", self._config.host, self._config.port)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._connected.set)

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: object,
        reason: ReasonCode,
        _properties: object,
    ) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._connected.clear)
        level = logging.INFO if not reason.is_failure else logging.WARNING
        _LOGGER.log(level, "local MQTT: disconnected: %s", reason)
