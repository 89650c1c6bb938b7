"""The MQTT outbox worker: publishes committed outbox rows with QoS 1, deletes them on PUBACK.

It speaks MQTT through :mod:`cloud_gateway.telemetry.mqtt_wire` on the event loop (ADR 0011):
each pass reads up to ``batch`` rows after the last one sent and writes their PUBLISH packets
in one go; PUBACKs arrive by callback and name the rows to delete, which are deleted a batch at
a time. Up to ``max_in_flight`` messages are unacknowledged at once, so the broker's round trip
does not pace the fan-out.

A row is deleted only after the broker acknowledged it, so a restart loses nothing. When a
connection ends, what it left unacknowledged is sent again on the next one (a new clean
session, from the oldest row still in the outbox): delivery is at least once, and in normal
operation nothing is sent twice. Rows are read in id order after the last one sent; whenever
nothing is in flight the next read starts from the oldest row again, which also finds a row
that committed after rows with higher ids (concurrent writers on PostgreSQL).

A broker that stops answering (no PUBACK for ``ack_timeout_s`` while messages wait, or no
answer to the keep-alive ping) is treated as a lost connection. Reconnects back off from 1 s
to 30 s with jitter.

With several gateway nodes on one database, run the publisher on one node only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import uuid

from cloud_gateway.config import MqttConfig
from cloud_gateway.telemetry import mqtt_wire
from cloud_gateway.telemetry.mqtt_wire import MAX_PACKET_ID, MqttConnection, encode_publish
from cloud_gateway.telemetry.repository_outbox import MqttOutboxRepository

__all__ = ["MqttOutboxPublisher", "broker_tls"]

_LOGGER = logging.getLogger(__name__)
_RETRY_MIN_S = 1.0
_RETRY_MAX_S = 30.0


def broker_tls(config: MqttConfig) -> ssl.SSLContext | None:
    """The TLS context for the broker (``[mqtt] tls``): its certificate verified against
    ``ca_file`` (or the system's CAs), ours presented when configured; None without TLS."""
    if not config.tls:
        return None
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=str(config.ca_file) if config.ca_file else None
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if config.cert_file is not None and config.key_file is not None:
        context.load_cert_chain(config.cert_file, config.key_file)
    return context


class MqttOutboxPublisher:
    """Drains the MQTT outbox to a broker until cancelled."""

    def __init__(
        self,
        outbox: MqttOutboxRepository,
        *,
        host: str,
        port: int,
        batch: int = 500,
        max_in_flight: int = 4000,
        ack_timeout_s: float = 60.0,
        poll_s: float = 5.0,
        keepalive_s: int = 30,
        client_id: str | None = None,
        tls: ssl.SSLContext | None = None,
        username: str = "",
        password: str = "",
    ) -> None:
        if not 0 < batch <= max_in_flight < MAX_PACKET_ID:
            raise ValueError(f"need 0 < batch <= max_in_flight < {MAX_PACKET_ID}")
        self._outbox = outbox
        self._host = host
        self._port = port
        self._batch = batch
        self._max_in_flight = max_in_flight
        self._ack_timeout = ack_timeout_s
        self._poll = poll_s
        self._keepalive = keepalive_s
        self._client_id = client_id or f"cloud-gateway-{uuid.uuid4().hex[:12]}"
        self._tls = tls
        self._username = username
        self._password = password
        self.drained = asyncio.Event()
        """Set whenever the outbox was found empty with nothing in flight (tests, health)."""
        self.connections = 0
        """Connections the broker accepted so far."""
        self._signal = asyncio.Event()  # new rows, PUBACKs, or the connection ended
        self._inflight: dict[int, int] = {}
        """Packet id -> outbox row id, sent on the current connection and not acknowledged."""
        self._acked: list[int] = []
        """Outbox row ids acknowledged by the broker, not yet deleted."""
        self._last_packet_id = 0

    def wake(self) -> None:
        """Something was committed to the outbox: publish it now."""
        self._signal.set()

    def _on_puback(self, packet_ids: list[int]) -> None:
        inflight, acked = self._inflight, self._acked
        for packet_id in packet_ids:
            row = inflight.pop(packet_id, None)
            if row is not None:
                acked.append(row)
        self._signal.set()

    async def run(self) -> None:
        """Connect (again, with backoff) and publish until cancelled."""
        _LOGGER.info("MQTT outbox publisher for %s:%d started", self._host, self._port)
        delay = _RETRY_MIN_S
        try:
            while True:
                try:
                    connection = await mqtt_wire.connect(
                        self._host,
                        self._port,
                        client_id=self._client_id,
                        on_puback=self._on_puback,
                        keepalive_s=self._keepalive,
                        tls=self._tls,
                        username=self._username,
                        password=self._password,
                    )
                except (OSError, TimeoutError, mqtt_wire.MqttError) as exc:
                    _LOGGER.warning(
                        "MQTT broker %s:%d unavailable: %s", self._host, self._port, exc
                    )
                    await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311
                    delay = min(delay * 2, _RETRY_MAX_S)
                    continue
                self.connections += 1
                delay = _RETRY_MIN_S
                try:
                    await self._serve(connection)
                except Exception as exc:  # noqa: BLE001 - the worker must outlive any one failure
                    _LOGGER.warning("MQTT outbox publisher: %s; reconnecting", exc)
                finally:
                    connection.close()
                    self._inflight.clear()  # sent again on the next connection
                    try:
                        await self._delete_acked()
                    except Exception as exc:  # noqa: BLE001 - logged; the rows go again
                        _LOGGER.warning("MQTT outbox publisher: deleting acked rows: %s", exc)
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311
        finally:
            _LOGGER.info("MQTT outbox publisher stopped")

    async def _serve(self, connection: MqttConnection) -> None:
        """Publish on one connection until it ends (raises why)."""
        connection.closed.add_done_callback(lambda _f: self._signal.set())
        after_id = 0
        while True:
            self._signal.clear()
            if connection.closed.done():
                raise connection.closed.result() or ConnectionResetError("connection closed")
            if not self._inflight:
                # Nothing in flight and the acknowledged rows deleted: every row left is
                # unsent, including one a concurrent transaction committed after rows with
                # higher ids (PostgreSQL hands out ids at insert, not at commit).
                await self._delete_acked()
                after_id = 0
            sent = 0
            room = self._max_in_flight - len(self._inflight)
            if room >= self._batch:
                rows = await self._outbox.pending(self._batch, after_id=after_id)
                if rows:
                    after_id = rows[-1].id
                    self.drained.clear()
                    packets = []
                    for row in rows:
                        packet_id = self._packet_id()
                        self._inflight[packet_id] = row.id
                        packets.append(
                            encode_publish(
                                row.topic.encode(), packet_id, row.payload, retain=row.retain
                            )
                        )
                    connection.publish(packets)
                    sent = len(rows)
                    await connection.drain()
            if self._acked and (sent == 0 or len(self._acked) >= self._batch):
                await self._delete_acked()
            if sent:
                continue  # more may wait
            if not self._inflight and not self._acked:
                self.drained.set()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll):
                        await self._signal.wait()
            elif not self._signal.is_set():
                try:
                    async with asyncio.timeout(self._ack_timeout):
                        await self._signal.wait()
                except TimeoutError:
                    waiting = len(self._inflight)
                    raise TimeoutError(
                        f"no PUBACK for {self._ack_timeout:.0f} s, {waiting} messages waiting"
                    ) from None

    def _packet_id(self) -> int:
        packet_id = self._last_packet_id
        while True:
            packet_id = packet_id % MAX_PACKET_ID + 1
            if packet_id not in self._inflight:
                self._last_packet_id = packet_id
                return packet_id

    async def _delete_acked(self) -> None:
        if self._acked:
            ids, self._acked = self._acked, []
            try:
                await self._outbox.delete(ids)
            except BaseException:
                self._acked = ids + self._acked
                raise
