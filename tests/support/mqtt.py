"""A paho-mqtt subscriber on the local Mosquitto with a unique topic prefix per test."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

__all__ = ["MqttProbe", "ReceivedMessage"]

BROKER_HOST = "127.0.0.1"
BROKER_PORT = 1883


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One message the probe saw."""

    topic: str
    payload: bytes
    qos: int
    retain: bool


class MqttProbe:
    """Connects to the broker, subscribes below :attr:`prefix`, queues what arrives."""

    def __init__(self, host: str = BROKER_HOST, port: int = BROKER_PORT) -> None:
        self.host = host
        self.port = port
        self.prefix = f"test/{uuid.uuid4().hex[:12]}"
        self._queue: asyncio.Queue[ReceivedMessage] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"probe-{self.prefix[5:]}"
        )
        self._client.on_message = self._on_message

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        assert self._loop is not None
        item = ReceivedMessage(msg.topic, bytes(msg.payload), msg.qos, bool(msg.retain))
        self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        subscribed = asyncio.Event()

        def on_subscribe(*_args: object) -> None:
            assert self._loop is not None
            self._loop.call_soon_threadsafe(subscribed.set)

        def on_connect(client: mqtt.Client, *_args: object) -> None:
            client.subscribe(f"{self.prefix}/#", qos=1)

        self._client.on_connect = on_connect
        self._client.on_subscribe = on_subscribe
        await asyncio.to_thread(self._client.connect, self.host, self.port)
        self._client.loop_start()
        async with asyncio.timeout(10):
            await subscribed.wait()

    def publish(self, subtopic: str, payload: bytes, qos: int = 1) -> None:
        """Publish below the prefix (for tests of subscribers)."""
        self._client.publish(f"{self.prefix}/{subtopic}", payload, qos=qos)

    async def next(self, timeout: float = 10.0) -> ReceivedMessage:
        """The next message below the prefix."""
        async with asyncio.timeout(timeout):
            return await self._queue.get()

    async def stop(self) -> None:
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)
