"""The device connector against a real aiohttp gateway over TLS on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import trustme

from tests.support.sleeps import InjectedSleep
from tests.tunnel.gateway_stub import FreezableProxy, StubGateway, device_ssl_context
from tests.tunnel.sessions import echo
from tunnel.backoff import Backoff, BackoffPolicy
from tunnel.clock import ManualClock
from tunnel.connector import ConnectorState, TunnelConnector
from tunnel.frames import PROTOCOL_VERSIONS, Hello, RefusalReason
from tunnel.session import DisconnectReason
from tunnel.stream_table import PIPELINED_OPEN as PIPELINED

HELLO = Hello(
    versions=PROTOCOL_VERSIONS, capabilities=("telemetry",), software="1.0", device_kind="ccu"
)


@pytest.fixture
async def gateway(ca: trustme.CA) -> AsyncIterator[StubGateway]:
    stub = StubGateway(ca)
    await stub.start()
    try:
        yield stub
    finally:
        await stub.stop()


Factory = Callable[..., TunnelConnector]


@pytest.fixture
async def make_connector(
    ca: trustme.CA, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Factory]:
    runners: list[tuple[TunnelConnector, asyncio.Task[None]]] = []
    context = device_ssl_context(ca, tmp_path)

    def make(url: str, sleep: InjectedSleep | None = None, **kwargs: object) -> TunnelConnector:
        connector = TunnelConnector(
            url=url,
            ssl_context=context,
            hello=HELLO,
            clock=clock,
            on_open=echo,
            sleep=sleep or InjectedSleep(),
            backoff=Backoff(BackoffPolicy(base=1.0, cap=30.0), rand=lambda: 0.5),
            connect_timeout=5.0,
            **kwargs,  # type: ignore[arg-type]
        )
        runners.append((connector, asyncio.create_task(connector.run(), name="connector")))
        return connector

    yield make
    for connector, task in runners:
        await connector.stop()
        await task


async def test_connects_and_serves_streams_over_tls(
    gateway: StubGateway, make_connector: Factory, clock: ManualClock
) -> None:
    connector = make_connector(gateway.url)
    device_session = await connector.wait_connected()
    server_session = await gateway.sessions.get()
    # The session adds the tunnel's own capability to the HELLO the connector was given.
    assert gateway.hellos == [dataclasses.replace(HELLO, capabilities=("telemetry", PIPELINED))]
    assert "device-1.devices.test" in gateway.peer_names[0]
    stream = await server_session.open_stream("http://127.0.0.1/")
    await stream.write(b"GET / HTTP/1.1\r\n\r\n")
    await stream.write_eof()
    assert await stream.read() == b"GET / HTTP/1.1\r\n\r\n"
    status = connector.status()
    assert status.state == "connected"
    assert status.connected_since == clock.now()
    assert status.session_id == "s1"
    assert status.bytes_received > 0
    assert device_session.welcome is not None
    assert device_session.welcome.capabilities == ("telemetry", PIPELINED)


async def test_refusal_retry_after_is_honoured(
    gateway: StubGateway, make_connector: Factory
) -> None:
    gateway.plan.append((RefusalReason.OVERLOADED, 42.0))
    sleep = InjectedSleep()
    connector = make_connector(gateway.url, sleep)
    await connector.wait_connected()
    assert sleep.delays == [42.0]
    status = connector.status()
    assert status.last_refusal is not None
    assert status.last_refusal.reason == RefusalReason.OVERLOADED
    assert connector.disconnects[0].reason == DisconnectReason.REFUSED


async def test_reconnects_after_the_gateway_restarts(
    gateway: StubGateway, make_connector: Factory
) -> None:
    sleep = InjectedSleep(gated=True)
    connector = make_connector(gateway.url, sleep)
    first = await connector.wait_connected()
    await gateway.stop()
    await sleep.called.wait()
    assert connector.state == ConnectorState.WAITING
    assert connector.disconnects[-1].reason in {DisconnectReason.CLEAN, DisconnectReason.NETWORK}
    await gateway.start()
    sleep.resume.set()
    second = await connector.wait_connected()
    assert second is not first
    assert len(gateway.hellos) == 2


async def test_silent_drop_is_detected_by_heartbeat(
    gateway: StubGateway, make_connector: Factory
) -> None:
    gateway.heartbeat = 0.05
    proxy = FreezableProxy(gateway.port)
    await proxy.start()
    try:
        connector = make_connector(f"wss://127.0.0.1:{proxy.port}/tunnel/v1")
        first = await connector.wait_connected()
        proxy.freeze()
        assert await first.wait_closed() == DisconnectReason.HEARTBEAT_TIMEOUT
        second = await connector.wait_connected()
        assert second is not first
        assert DisconnectReason.HEARTBEAT_TIMEOUT in [d.reason for d in connector.disconnects]
        await connector.stop()
    finally:
        await proxy.stop()


async def test_expired_stays_down_until_reenabled(
    gateway: StubGateway, make_connector: Factory
) -> None:
    gateway.plan.append((RefusalReason.EXPIRED, 3600.0))
    sleep = InjectedSleep()
    connector = make_connector(gateway.url, sleep, stop_on_expired=True)
    await connector.wait_state(ConnectorState.DISABLED)
    assert len(gateway.hellos) == 1
    assert sleep.delays == []
    connector.reenable()
    await connector.wait_connected()
    assert len(gateway.hellos) == 2


async def test_expired_without_stop_on_expired_keeps_trying(
    gateway: StubGateway, make_connector: Factory
) -> None:
    gateway.plan.append((RefusalReason.EXPIRED, 3600.0))
    sleep = InjectedSleep()
    connector = make_connector(gateway.url, sleep)
    await connector.wait_connected()
    assert sleep.delays == [3600.0]


async def test_first_connect_failure_does_not_end_the_connector(make_connector: Factory) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleep = InjectedSleep(gated=True)
    connector = make_connector(f"wss://127.0.0.1:{port}/tunnel/v1", sleep)
    await sleep.called.wait()
    assert connector.disconnects[0].reason == DisconnectReason.NETWORK
    assert sleep.delays == [0.5]  # rand 0.5 * base 1.0
    assert connector.state == ConnectorState.WAITING


async def test_untrusted_gateway_is_a_tls_error(
    gateway: StubGateway, tmp_path: Path, clock: ManualClock
) -> None:
    stranger = trustme.CA()
    sleep = InjectedSleep(gated=True)
    connector = TunnelConnector(
        url=gateway.url,
        ssl_context=device_ssl_context(stranger, tmp_path),
        hello=HELLO,
        clock=clock,
        sleep=sleep,
    )
    runner = asyncio.create_task(connector.run())
    await sleep.called.wait()
    await connector.stop()
    await runner
    assert connector.disconnects[0].reason == DisconnectReason.TLS_ERROR
    assert connector.state == ConnectorState.STOPPED


async def test_refused_upgrade_is_recorded_with_its_status(
    gateway: StubGateway, make_connector: Factory
) -> None:
    sleep = InjectedSleep(gated=True)
    connector = make_connector(f"wss://127.0.0.1:{gateway.port}/not-the-tunnel", sleep)
    await sleep.called.wait()
    record = connector.disconnects[0]
    assert record.reason == DisconnectReason.NETWORK
    assert "upgrade was refused with HTTP 404" in record.detail
    assert connector.state == ConnectorState.WAITING
