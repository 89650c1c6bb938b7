"""The listeners' TLS handshake budget, decided before any TLS work (ADR 0032).

A real :class:`TlsSite` / :class:`ProxyProtocolSite` on port 0 with small literal budgets;
"silent" connections connect and send nothing, so each holds a handshake place until the
test closes it (the handshake timeout, 5 s, is far beyond every wait here).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme
from aiohttp import web

from cloud_gateway.proxy_site import ProxyProtocolSite
from cloud_gateway.tls import ServerTls, ensure_server_tls, server_ssl_context
from cloud_gateway.tls_budget import TlsBudget, TlsBudgetLimits
from cloud_gateway.tls_site import TlsSite
from cloud_gateway.tls_stage import PreTlsConnection, TlsStage
from tests.cloud_gateway.test_proxy_site import proxy_v4
from tests.support.sleeps import InjectedSleep
from tests.support.tls_client import RawTls
from tests.tunnel.gateway_stub import device_ssl_context
from tunnel.backoff import Backoff, BackoffPolicy
from tunnel.clock import ManualClock
from tunnel.connector import TunnelConnector
from tunnel.frames import PROTOCOL_VERSIONS, Hello
from tunnel.session import DisconnectReason

HANDSHAKE_TIMEOUT_S = 5.0
ONE_AND_A_QUEUE = TlsBudgetLimits(handshakes=1, queue=4, queue_wait_s=5.0)
"""One handshake at a time, four may wait for it."""

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait (bounded) for a condition on the node's counters."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - the budget's counters, no event to await
            await asyncio.sleep(0.005)


class Node:
    """One listener with a budget of its own; connections opened through it are closed."""

    def __init__(self, port: int, ctx: ssl.SSLContext, budget: TlsBudget) -> None:
        self.port = port
        self.ctx = ctx
        self.budget = budget
        self.opened: list[asyncio.StreamWriter] = []

    async def silent(self, source: str = "127.0.0.1", header: bytes = b"") -> Streams:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", self.port, local_addr=(source, 0)
        )
        writer.write(header)
        self.opened.append(writer)
        return reader, writer

    def close(self) -> None:
        for writer in self.opened:
            writer.close()


async def closed_at_once(reader: asyncio.StreamReader) -> bool:
    """The node closed (or reset) the connection without answering a byte."""
    try:
        async with asyncio.timeout(2.0):
            return await reader.read(65536) == b""
    except ConnectionResetError:
        return True


NodeFactory = Callable[..., Awaitable[Node]]


async def hello_site(
    tls: ServerTls, budget: TlsBudget, *, proxy: bool = False
) -> tuple[web.AppRunner, int]:
    """A listener (behind HAProxy with ``proxy``) whose ``GET /`` answers the client's
    address; its runner and port."""

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=str(request.remote))

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.create_server(("127.0.0.1", 0))
    site_type = ProxyProtocolSite if proxy else TlsSite
    site = site_type(
        runner,
        sock,
        ssl_context=server_ssl_context(tls),
        tls_close_timeout_s=0.5,
        tls_handshake_timeout_s=HANDSHAKE_TIMEOUT_S,
        budget=budget,
    )
    await site.start()
    return runner, sock.getsockname()[1]


@pytest.fixture
async def make_node(tmp_path: Path) -> AsyncIterator[NodeFactory]:
    tls = ensure_server_tls(tmp_path, "localhost", datetime.now(UTC))
    assert tls.ca_cert is not None
    client_ctx = ssl.create_default_context(cafile=str(tls.ca_cert))
    runners: list[tuple[web.AppRunner, Node]] = []

    async def make(limits: TlsBudgetLimits, *, proxy: bool = False) -> Node:
        budget = TlsBudget(limits)
        runner, port = await hello_site(tls, budget, proxy=proxy)
        node = Node(port, client_ctx, budget)
        runners.append((runner, node))
        return node

    yield make
    for runner, node in runners:
        node.close()
        await runner.cleanup()


async def get(node: Node, header: bytes = b"") -> bytes:
    """One HTTPS GET /, the body."""
    raw = await RawTls.connect(node.port, node.ctx, header)
    try:
        raw.send(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        response = bytearray()
        while (data := await raw.receive()) is not None:
            response += data
    finally:
        raw.writer.close()
    return bytes(response).partition(b"\r\n\r\n")[2]


async def one_place_held(
    make_node: NodeFactory, limits: TlsBudgetLimits
) -> tuple[Node, asyncio.StreamWriter]:
    """A node whose first handshake place a silent connection holds (closing it frees it)."""
    node = await make_node(limits)
    _, holder = await node.silent()
    await until(lambda: node.budget.in_progress == 1)
    return node, holder


async def test_over_budget_the_connection_is_closed_before_its_client_hello(
    make_node: NodeFactory,
) -> None:
    node = await make_node(TlsBudgetLimits(handshakes=1, queue=0, per_source=16))
    await node.silent()  # holds the one place
    await until(lambda: node.budget.in_progress == 1)
    reader, writer = await node.silent()
    assert await closed_at_once(reader)
    writer.close()
    with pytest.raises((OSError, ssl.SSLError)):  # a real TLS client: a failed attempt
        await RawTls.connect(node.port, node.ctx)
    assert node.budget.refused_full == 2
    assert node.budget.started_total == 1  # no TLS work for either
    assert node.budget.in_progress == 1


async def test_a_queued_connection_gets_its_handshake_when_a_place_is_free(
    make_node: NodeFactory,
) -> None:
    node, holder = await one_place_held(make_node, ONE_AND_A_QUEUE)
    request = asyncio.create_task(get(node))
    await until(lambda: node.budget.waiting == 1)
    holder.close()  # its handshake ends: the place goes to the queue's first
    assert await request == b"127.0.0.1"
    assert (node.budget.started_total, node.budget.queued_total) == (2, 1)
    assert node.budget.waiting == 0


async def test_a_queued_connection_that_closes_gets_no_handshake(
    make_node: NodeFactory,
) -> None:
    node, holder = await one_place_held(make_node, ONE_AND_A_QUEUE)
    # a ClientHello's first bytes, then the device gives up (its connect timeout)
    _, quitter = await node.silent(header=b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    await until(lambda: node.budget.waiting == 1)
    quitter.close()
    await until(lambda: node.budget.gave_up == 1)  # the sweep found the FIN
    assert node.budget.waiting == 0
    holder.close()
    await until(lambda: node.budget.in_progress == 0)
    assert node.budget.started_total == 1  # the holder's only


async def test_the_handover_skips_a_queued_connection_whose_peer_left(
    make_node: NodeFactory,
) -> None:
    node, holder = await one_place_held(make_node, ONE_AND_A_QUEUE)
    _, quitter = await node.silent(header=b"\x16\x03\x01")
    await until(lambda: node.budget.waiting == 1)
    request = asyncio.create_task(get(node))
    await until(lambda: node.budget.waiting == 2)
    quitter.close()
    holder.close()  # whichever sees the quitter first, sweep or handover: no TLS for it
    assert await request == b"127.0.0.1"
    assert node.budget.gave_up == 1
    assert node.budget.started_total == 2  # holder and request


async def test_a_connection_still_queued_after_the_wait_is_closed(
    make_node: NodeFactory,
) -> None:
    node, _ = await one_place_held(
        make_node, TlsBudgetLimits(handshakes=1, queue=4, queue_wait_s=0.3)
    )
    reader, _ = await node.silent()
    await until(lambda: node.budget.waiting == 1)
    assert await closed_at_once(reader)
    assert (node.budget.expired, node.budget.waiting, node.budget.started_total) == (1, 0, 1)


async def test_one_source_holds_at_most_its_share(make_node: NodeFactory) -> None:
    node = await make_node(TlsBudgetLimits(handshakes=8, queue=8, per_source=2))
    await node.silent()
    await node.silent()
    await until(lambda: node.budget.in_progress == 2)
    reader, _ = await node.silent()
    assert await closed_at_once(reader)
    assert node.budget.refused_source == 1
    await node.silent(source="127.0.0.2")  # another address still gets a place
    await until(lambda: node.budget.in_progress == 3)
    assert (node.budget.held_by("127.0.0.1"), node.budget.held_by("127.0.0.2")) == (2, 1)


async def test_behind_haproxy_the_share_counts_the_header_address(
    make_node: NodeFactory,
) -> None:
    node = await make_node(TlsBudgetLimits(handshakes=8, queue=8, per_source=1), proxy=True)
    await node.silent(header=proxy_v4("192.0.2.1"))
    await until(lambda: node.budget.in_progress == 1)
    reader, _ = await node.silent(header=proxy_v4("192.0.2.1", port=40001))
    assert await closed_at_once(reader)
    await node.silent(header=proxy_v4("192.0.2.2"))
    await until(lambda: node.budget.in_progress == 2)
    assert node.budget.refused_source == 1
    assert node.budget.held_by("192.0.2.1") == node.budget.held_by("192.0.2.2") == 1
    assert node.budget.held_by("127.0.0.1") == 0  # HAProxy's own address holds nothing


async def test_a_device_closed_over_budget_backs_off_as_after_any_failed_attempt(
    make_node: NodeFactory, ca: trustme.CA, tmp_path: Path, clock: ManualClock
) -> None:
    """ccu_addon and inverter_agent connect through TunnelConnector: each refused attempt is
    a failed connection, followed by the usual jittered, growing backoff (no hot loop)."""
    node, _ = await one_place_held(make_node, TlsBudgetLimits(handshakes=1, queue=0))
    sleep = InjectedSleep(hold_at=4)
    hello = Hello(versions=PROTOCOL_VERSIONS, capabilities=(), software="1.0", device_kind="ccu")
    connector = TunnelConnector(
        url=f"wss://localhost:{node.port}/tunnel/v1",
        ssl_context=device_ssl_context(ca, tmp_path),
        hello=hello,
        clock=clock,
        sleep=sleep,
        backoff=Backoff(BackoffPolicy(base=1.0, cap=30.0), rand=lambda: 0.5),
        connect_timeout=5.0,
    )
    task = asyncio.create_task(connector.run())
    try:
        async with asyncio.timeout(10):
            await sleep.holding.wait()
    finally:
        await connector.stop()
        await task
    assert sleep.delays == [0.5, 1.0, 2.0, 4.0]  # rand 0.5 x 1, 2, 4, 8 s ceilings
    reasons = {d.reason for d in connector.disconnects}
    assert reasons == {DisconnectReason.GATEWAY_BUSY}, reasons  # closed before TLS
    assert node.budget.refused_full == 4
    assert node.budget.started_total == 1


async def test_a_handshake_cancelled_before_it_began_gives_back_socket_and_place(
    tmp_path: Path,
) -> None:
    """The listener stops in the instant between granting a place and the handshake task's
    first step: the socket is closed and the place returned all the same."""
    tls = ensure_server_tls(tmp_path, "localhost", datetime.now(UTC))
    budget = TlsBudget(TlsBudgetLimits(handshakes=1, queue=0))
    upgrades: set[asyncio.Task[None]] = set()
    stage = TlsStage(
        handler_factory=asyncio.Protocol,
        ssl_context=server_ssl_context(tls),
        budget=budget,
        handshake_timeout_s=HANDSHAKE_TIMEOUT_S,
        close_timeout_s=0.5,
        header_timeout_s=None,
        upgrades=upgrades,
    )
    server_end, client_end = socket.socketpair()
    with client_end:
        server_end.setblocking(False)
        PreTlsConnection(stage, server_end, ("127.0.0.1", 40000)).begin()
        assert budget.in_progress == 1
        (task,) = upgrades
        task.cancel()  # before it ran a single step
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()
        assert server_end.fileno() == -1
        assert budget.in_progress == 0
