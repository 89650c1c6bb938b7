"""``/tunnel/v1`` admission control over real TLS: a full gate queues, an overfull one refuses.

The TLS handshake and the WebSocket upgrade are paid before the gate, so a device that
finds it full waits for a place rather than being sent away; only when the queue would
take longer than ``max_wait`` is it refused ``overloaded``, with a return slot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cloud_gateway.http.keys import TUNNELS
from tests.support.gateway import GatewayHarness, gateway_harness
from tests.support.tunnel_device import TestDevice, enrol_device, open_tunnel
from tunnel.admission import HandshakeGate, HandshakeTicket
from tunnel.clock import ManualClock
from tunnel.connector import TunnelConnector
from tunnel.errors import RefusedError
from tunnel.frames import PROTOCOL_VERSIONS, Hello, RefusalReason
from tunnel.session import DisconnectReason


@dataclass
class Env:
    gw: GatewayHarness
    device: TestDevice


@asynccontextmanager
async def enrolled(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Env]:
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db, clock) as gw:
        await gw.create_account("anna")
        device = TestDevice(tmp_path / "device", gw.gateway.tls.ca_cert or Path())
        await enrol_device(gw, device, "anna")
        yield Env(gw, device)


class ObservedGate(HandshakeGate):
    """The product's gate, telling the test when a handshake asks to enter."""

    def __init__(self, limit: int, **kwargs: Any) -> None:
        super().__init__(limit, **kwargs)
        self.asked = asyncio.Event()

    async def enter(self) -> HandshakeTicket | None:
        self.asked.set()  # the queueing below runs before the test resumes
        return await super().enter()


async def test_a_device_finding_the_gate_full_waits_and_gets_in(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with enrolled(tmp_path, clock) as env:
        gate = ObservedGate(1, max_wait=4.0, now=clock.monotonic)
        env.gw.gateway.runner.app[TUNNELS].handshakes = gate
        busy = gate.try_enter()  # another device's handshake holds the only place
        assert busy is not None
        connecting = asyncio.create_task(open_tunnel(env.gw.url, env.device.client_ssl()))
        async with asyncio.timeout(10):
            await gate.asked.wait()
        assert gate.waiting == 1
        assert not connecting.done()
        busy.leave()
        async with asyncio.timeout(10):
            client = await connecting
        try:
            assert (gate.queued_total, gate.refused_total) == (1, 0)
        finally:
            await client.stop()


async def test_a_device_is_refused_overloaded_when_the_queue_is_too_long(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with enrolled(tmp_path, clock) as env:
        gate = HandshakeGate(1, max_wait=0.0, min_retry=7.0, now=clock.monotonic)
        env.gw.gateway.runner.app[TUNNELS].handshakes = gate
        busy = gate.try_enter()
        assert busy is not None
        with pytest.raises(RefusedError) as caught:
            await open_tunnel(env.gw.url, env.device.client_ssl())
        busy.leave()
        refusal = caught.value
        assert refusal.reason == RefusalReason.OVERLOADED
        assert 7.0 <= refusal.retry_after <= 7.0 + 1 / (gate.min_rate * gate.return_share)
        assert gate.refused_total == 1


async def test_the_connector_hears_the_overloaded_refusal_and_its_retry_after(
    tmp_path: Path, clock: ManualClock
) -> None:
    """REFUSE answers the HELLO: the device's HELLO never meets a closed WebSocket."""
    async with enrolled(tmp_path, clock) as env:
        gate = HandshakeGate(1, max_wait=0.0, min_retry=30.0, now=clock.monotonic)
        env.gw.gateway.runner.app[TUNNELS].handshakes = gate
        busy = gate.try_enter()
        assert busy is not None
        waits: list[float] = []
        waited = asyncio.Event()

        async def sleep(delay: float) -> None:
            waits.append(delay)
            waited.set()
            await asyncio.Event().wait()  # until stopped

        connector = TunnelConnector(
            url=env.gw.url.replace("https://", "wss://", 1).rstrip("/") + "/tunnel/v1",
            ssl_context=env.device.client_ssl(),
            hello=Hello(
                versions=PROTOCOL_VERSIONS, capabilities=(), software="t", device_kind="ccu"
            ),
            clock=clock,
            sleep=sleep,
        )
        running = asyncio.create_task(connector.run())
        try:
            async with asyncio.timeout(10):
                await waited.wait()
            status = connector.status()
            assert status.last_disconnect is not None
            assert status.last_disconnect.reason is DisconnectReason.REFUSED
            assert status.last_refusal is not None
            assert status.last_refusal.reason is RefusalReason.OVERLOADED
            assert waits[0] >= 30.0  # the return slot, not the connector's own backoff
        finally:
            await connector.stop()
            await running
            busy.leave()
