"""The MQTT outbox worker: publishes committed outbox rows with QoS 1, deletes them on PUBACK.

paho-mqtt speaks MQTT on its own network thread (``loop_start``); this class owns the asyncio
side: PUBACKs come back through ``call_soon_threadsafe`` and resolve futures keyed by message
id. A row is deleted only after the broker acknowledged it, so a restart loses nothing; it is
published only while connected, and paho resends its in-flight messages itself after a
reconnect, so in normal operation nothing is sent twice. (A crash between PUBACK and the delete
sends that message again: at least once, never lost.)

PUBACKs reach the loop in bursts: the network thread queues message ids and wakes the loop once
per burst (not once per PUBACK), and a batch waits on one event, not on a future per message.

With several gateway nodes on one database, run the publisher on one node only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from cloud_gateway.store.mqtt_outbox import MqttOutboxRepository

__all__ = ["MqttOutboxPublisher"]

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class _Batch:
    """Outbox rows published together; ``done`` once the broker acknowledged all of them."""

    expected: int
    acked: list[int] = field(default_factory=list)
    """Outbox row ids acknowledged so far."""
    done: asyncio.Event = field(default_factory=asyncio.Event)


class MqttOutboxPublisher:
    """Drains the MQTT outbox to a broker until cancelled."""

    def __init__(
        self,
        outbox: MqttOutboxRepository,
        *,
        host: str,
        port: int,
        batch: int = 500,
        ack_timeout_s: float = 60.0,
        poll_s: float = 5.0,
        client_id: str | None = None,
    ) -> None:
        self._outbox = outbox
        self._host = host
        self._port = port
        self._batch = batch
        self._ack_timeout = ack_timeout_s
        self._poll = poll_s
        self._wake = asyncio.Event()
        self.drained = asyncio.Event()
        """Set whenever a pass found the outbox empty (for tests and health checks)."""
        self._connected = asyncio.Event()
        self._inflight: dict[int, tuple[_Batch, int]] = {}
        """Message id -> (its batch, its outbox row id)."""
        self._pubacks: deque[int] = deque()
        """Message ids acknowledged by the broker, not yet seen by the loop."""
        self._pubacks_scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"cloud-gateway-{uuid.uuid4().hex[:12]}",
        )
        # No paho limit (0): the batch bounds what is in flight. paho then sends each message
        # from publish() at once, and skips its walk over every in-flight message on each
        # PUBACK (``_update_inflight``), which with a whole batch in flight was quadratic in
        # the batch and took a large share of the gateway's CPU during ingest.
        self._client.max_inflight_messages_set(0)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish

    def wake(self) -> None:
        """Something was committed to the outbox: publish it now."""
        self._wake.set()

    # paho's network thread -> the event loop
    def _on_connect(self, _c: mqtt.Client, _u: object, _f: object, rc: Any, _p: object) -> None:
        if self._loop is not None and not rc.is_failure:
            self._loop.call_soon_threadsafe(self._connected.set)

    def _on_disconnect(self, *_args: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._connected.clear)

    def _on_publish(self, _c: mqtt.Client, _u: object, mid: int, _rc: object, _p: object) -> None:
        # Append first, then look at the flag: the loop clears the flag before it drains, so
        # every id appended here is drained by a callback already due or by the one we add.
        self._pubacks.append(mid)
        if not self._pubacks_scheduled and self._loop is not None:
            self._pubacks_scheduled = True
            self._loop.call_soon_threadsafe(self._drain_pubacks)

    def _drain_pubacks(self) -> None:
        self._pubacks_scheduled = False
        pubacks, inflight = self._pubacks, self._inflight
        while pubacks:
            entry = inflight.pop(pubacks.popleft(), None)
            if entry is not None:
                batch, row_id = entry
                batch.acked.append(row_id)
                if len(batch.acked) == batch.expected:
                    batch.done.set()

    async def run(self) -> None:
        """Connect (retrying in the background) and publish until cancelled."""
        self._loop = asyncio.get_running_loop()
        self._client.connect_async(self._host, self._port, keepalive=30)
        self._client.loop_start()
        _LOGGER.info("MQTT outbox publisher for %s:%d started", self._host, self._port)
        try:
            while True:
                self._wake.clear()
                await self._connected.wait()
                if await self.publish_pending() == 0:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._poll):
                            await self._wake.wait()
        finally:
            self._client.disconnect()
            await asyncio.to_thread(self._client.loop_stop)
            self._inflight.clear()
            _LOGGER.info("MQTT outbox publisher stopped")

    async def publish_pending(self) -> int:
        """Publish one batch of outbox rows; delete those the broker acknowledged."""
        messages = await self._outbox.pending(self._batch)
        if not messages:
            self.drained.set()
            return 0
        self.drained.clear()
        self._loop_or_fail()
        batch = _Batch(len(messages))
        mids: list[int] = []
        for message in messages:
            mid = self._client.publish(message.topic, message.payload, qos=1).mid
            self._inflight[mid] = (batch, message.id)
            mids.append(mid)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._ack_timeout):
                await batch.done.wait()
        acked = list(batch.acked)
        if len(acked) < batch.expected:
            _LOGGER.warning(
                "MQTT: %d messages not acknowledged in time", batch.expected - len(acked)
            )
            for mid in mids:
                self._inflight.pop(mid, None)
        await self._outbox.delete(acked)
        return len(acked)

    def _loop_or_fail(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("MqttOutboxPublisher.run() is not running")
        return self._loop
