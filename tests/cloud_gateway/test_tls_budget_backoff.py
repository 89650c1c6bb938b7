"""A device refused before TLS backs off as from a busy gateway, not a down one (ADR 0032).

The gateway's real listener (:class:`TlsSite` with its :class:`TlsBudget`) in front of the
tunnel endpoint of the connector tests; the device is the real :class:`TunnelConnector`.
Its sleep runs on the injected clock: every wait advances the clock by its delay and returns
at once, so the device's timeline is exact and nothing real is waited for.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
import trustme
from aiohttp import web

from cloud_gateway.tls_budget import TlsBudget, TlsBudgetLimits
from cloud_gateway.tls_site import TlsSite
from tests.cloud_gateway.test_tls_budget import until
from tests.support.sleeps import InjectedSleep
from tests.tunnel.gateway_stub import StubGateway, device_ssl_context
from tunnel.backoff import Backoff, BackoffPolicy
from tunnel.clock import ManualClock
from tunnel.connector import TunnelConnector
from tunnel.frames import PROTOCOL_VERSIONS, Hello
from tunnel.session import DisconnectReason

HELLO = Hello(versions=PROTOCOL_VERSIONS, capabilities=(), software="1.0", device_kind="ccu")


class Listener:
    """The tunnel endpoint behind the gateway's pre-TLS stage, one handshake place."""

    def __init__(self, port: int, budget: TlsBudget) -> None:
        self.port = port
        self.budget = budget

    @property
    def url(self) -> str:
        return f"wss://127.0.0.1:{self.port}/tunnel/v1"


@pytest.fixture
async def listener(ca: trustme.CA) -> AsyncIterator[Listener]:
    stub = StubGateway(ca)
    runner = web.AppRunner(stub.app())
    await runner.setup()
    sock = socket.create_server(("127.0.0.1", 0))
    budget = TlsBudget(TlsBudgetLimits(handshakes=1, queue=0))
    site = TlsSite(
        runner,
        sock,
        ssl_context=stub.ssl_context,
        tls_close_timeout_s=0.5,
        tls_handshake_timeout_s=5.0,
        budget=budget,
    )
    await site.start()
    try:
        yield Listener(sock.getsockname()[1], budget)
    finally:
        await stub.stop()
        await runner.cleanup()


def seconds_since(start: datetime, instants: list[datetime]) -> list[float]:
    return [(at - start).total_seconds() for at in instants]


def device(url: str, sleep: InjectedSleep, ca: trustme.CA, tmp_path: Path) -> TunnelConnector:
    """A device with the product's backoff policy and a fixed draw of 0.5, on the sleep's
    clock."""
    assert sleep.clock is not None
    return TunnelConnector(
        url=url,
        ssl_context=device_ssl_context(ca, tmp_path),
        hello=HELLO,
        clock=sleep.clock,
        sleep=sleep,
        backoff=Backoff(BackoffPolicy(), rand=lambda: 0.5),
        connect_timeout=5.0,
    )


async def test_a_device_refused_before_tls_is_back_within_30_s_of_the_gateway_having_room(
    listener: Listener, ca: trustme.CA, tmp_path: Path, clock: ManualClock
) -> None:
    _, holder = await asyncio.open_connection("127.0.0.1", listener.port)  # holds the place
    await until(lambda: listener.budget.in_progress == 1)
    sleep = InjectedSleep(clock=clock, hold_at=8)
    connector = device(listener.url, sleep, ca, tmp_path)
    start = clock.now()
    task = asyncio.create_task(connector.run())
    try:
        async with asyncio.timeout(10):
            await sleep.holding.wait()  # eight refusals; the device waits its eighth delay
        # rand 0.5 x ceilings 1, 2, 4, 8, 16, then the busy cap 30 (a down node: 32, 64, 128)
        assert sleep.delays == [0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0]
        assert {d.reason for d in connector.disconnects} == {DisconnectReason.GATEWAY_BUSY}
        assert (listener.budget.refused_full, listener.budget.started_total) == (8, 1)
        refused_at = seconds_since(start, [d.at for d in connector.disconnects])
        assert refused_at == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 30.5, 45.5]

        holder.close()  # the gateway has room again, at 45.5 s on the device's clock
        await until(lambda: listener.budget.in_progress == 0)
        sleep.resume.set()
        async with asyncio.timeout(10):
            await connector.wait_connected()
        since = connector.status().connected_since
        assert since is not None
        assert seconds_since(start, [since]) == [60.5]  # its 15 s wait, then connected
        assert listener.budget.started_total == 2
    finally:
        await connector.stop()
        await task


async def test_a_device_whose_gateway_is_down_still_waits_up_to_300_s(
    ca: trustme.CA, tmp_path: Path, clock: ManualClock
) -> None:
    """Nothing listens (a refused connect): not busy, the long cap stays."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    sleep = InjectedSleep(clock=clock, hold_at=9)
    connector = device(f"wss://127.0.0.1:{port}/tunnel/v1", sleep, ca, tmp_path)
    task = asyncio.create_task(connector.run())
    try:
        async with asyncio.timeout(10):
            await sleep.holding.wait()
    finally:
        await connector.stop()
        await task
    assert sleep.delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]
    assert {d.reason for d in connector.disconnects} == {DisconnectReason.NETWORK}
