"""A gateway with ``[http] proxy_protocol``: the PROXY v2 header names the client.

The client here plays HAProxy: it sends the header and the TLS ClientHello in one write (so
the node must not read past the header) and then an HTTP/1.1 request over TLS.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec

from cloud_gateway.config import (
    DatabaseConfig,
    EnrolmentConfig,
    GatewayConfig,
    HttpConfig,
    PlantsConfig,
)
from cloud_gateway.proxy_site import ProxyProtocolSite
from cloud_gateway.server import RunningGateway, start_gateway
from cloud_gateway.tls import ensure_server_tls, server_ssl_context
from tests.support.tls_client import RawTls, closed_after_silence, dropped_before_hello
from tests.support.tunnel_device import make_csr
from tunnel.clock import ManualClock

SIG = b"\r\n\r\n\x00\r\nQUIT\n"
LOCAL = SIG + b"\x20\x00\x00\x00"
CLOSE_TIMEOUT_S = 0.5


def proxy_v4(source: str, port: int = 40000) -> bytes:
    """A PROXY v2 header for a TCP client at ``source`` (built here, not by the code tested)."""
    dst = ipaddress.IPv4Address("10.0.0.11").packed
    block = ipaddress.IPv4Address(source).packed + dst + port.to_bytes(2, "big") + b"\x20\xfb"
    return SIG + b"\x21\x11" + len(block).to_bytes(2, "big") + block


async def https_request(
    port: int, header: bytes, ctx: ssl.SSLContext, method: str, path: str, body: bytes = b""
) -> tuple[int, bytes]:
    """``header`` + ClientHello in one segment, then one request; the status and the body."""
    raw = await RawTls.connect(port, ctx, header)
    try:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        raw.send(head.encode() + body)
        response = bytearray()
        while not _complete(response):
            data = await raw.receive()
            if data is None:
                raise ConnectionResetError("closed before the whole response")
            response += data
    finally:
        raw.writer.close()
    status_line, _, rest = bytes(response).partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def _complete(response: bytearray) -> bool:
    head, sep, body = bytes(response).partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    raise AssertionError("responses here have a Content-Length")


@pytest.fixture
async def gateway(tmp_path: Path, db_url: str) -> AsyncIterator[RunningGateway]:
    config = GatewayConfig(
        state_dir=tmp_path / "gw",
        http=HttpConfig(port=0, proxy_protocol=True),
        database=DatabaseConfig(url=db_url),
        enrolment=EnrolmentConfig(max_enrolments_per_source=2),
        plants=PlantsConfig(demo_activation_key=True),  # the public demo key
    )
    running = await start_gateway(config, ManualClock())
    yield running
    await running.stop()


def _ctx(gateway: RunningGateway) -> ssl.SSLContext:
    assert gateway.tls.ca_cert is not None
    return ssl.create_default_context(cafile=str(gateway.tls.ca_cert))


async def test_per_source_limit_counts_the_header_address(gateway: RunningGateway) -> None:
    ctx = _ctx(gateway)
    body = json.dumps(
        {"csr": make_csr(ec.generate_private_key(ec.SECP256R1())), "kind": "ccu", "name": "K"}
    ).encode()

    async def enrol(source: str) -> int:
        status, _ = await https_request(
            gateway.port, proxy_v4(source), ctx, "POST", "/api/v1/enrol", body
        )
        return status

    # one TCP peer (this test, like HAProxy), two clients: each has its own two requests
    assert [await enrol("203.0.113.7") for _ in range(3)] == [201, 201, 429]
    assert [await enrol("198.51.100.9") for _ in range(3)] == [201, 201, 429]


async def test_local_command_is_served(gateway: RunningGateway) -> None:
    status, body = await https_request(gateway.port, LOCAL, _ctx(gateway), "GET", "/healthz")
    assert status == 200
    assert json.loads(body)["status"] == "ok"


async def test_connection_without_header_is_closed(gateway: RunningGateway) -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientError):
            await http.get(gateway.url + "healthz", ssl=_ctx(gateway))
    # a v1 text header is refused as well
    v1 = b"PROXY TCP4 203.0.113.7 10.0.0.11 51000 8443\r\n"
    with pytest.raises(ConnectionError):
        await https_request(gateway.port, v1, _ctx(gateway), "GET", "/healthz")
    # and the listener still serves the next proper connection
    status, _ = await https_request(gateway.port, LOCAL, _ctx(gateway), "GET", "/healthz")
    assert status == 200


@pytest.fixture
async def echo_site(tmp_path: Path) -> AsyncIterator[tuple[int, ssl.SSLContext]]:
    """A bare app answering ``request.remote`` behind a ProxyProtocolSite (0.3 s header
    timeout, :data:`CLOSE_TIMEOUT_S` for the TLS handshake and the client's close_notify)."""

    async def remote(request: web.Request) -> web.Response:
        return web.Response(text=str(request.remote))

    tls = ensure_server_tls(tmp_path, "localhost", datetime.now(UTC))
    app = web.Application()
    app.router.add_get("/", remote)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.create_server(("127.0.0.1", 0))
    site = ProxyProtocolSite(
        runner,
        sock,
        ssl_context=server_ssl_context(tls),
        tls_close_timeout_s=CLOSE_TIMEOUT_S,
        tls_handshake_timeout_s=CLOSE_TIMEOUT_S,
        header_timeout_s=0.3,
    )
    await site.start()
    assert tls.ca_cert is not None
    try:
        yield sock.getsockname()[1], ssl.create_default_context(cafile=str(tls.ca_cert))
    finally:
        await runner.cleanup()


async def test_ipv6_source_is_the_remote(echo_site: tuple[int, ssl.SSLContext]) -> None:
    port, ctx = echo_site
    block = (
        ipaddress.IPv6Address("2001:db8::7").packed
        + ipaddress.IPv6Address("2001:db8::1").packed
        + b"\xc3\x50\x20\xfb"
    )
    header = SIG + b"\x21\x21" + len(block).to_bytes(2, "big") + block
    assert await https_request(port, header, ctx, "GET", "/") == (200, b"2001:db8::7")
    assert await https_request(port, proxy_v4("192.0.2.1"), ctx, "GET", "/") == (
        200,
        b"192.0.2.1",
    )
    assert await https_request(port, LOCAL, ctx, "GET", "/") == (200, b"127.0.0.1")


async def test_a_silent_or_incomplete_header_times_out(
    echo_site: tuple[int, ssl.SSLContext],
) -> None:
    port, _ = echo_site
    for partial in (b"", proxy_v4("192.0.2.1")[:20]):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(partial)
        try:
            assert await reader.read() == b""  # closed by the node after 0.3 s
        except ConnectionResetError:
            pass  # aborted: a reset is the same answer
        finally:
            writer.close()


async def test_silent_clients_are_dropped_after_the_tls_timeouts(
    echo_site: tuple[int, ssl.SSLContext],
) -> None:
    port, ctx = echo_site
    # after start_tls as on the plain listener: not asyncio's 30 s
    assert await closed_after_silence(port, ctx, LOCAL) < CLOSE_TIMEOUT_S + 4.5
    # a header, then no ClientHello: dropped after the handshake timeout, not asyncio's 60 s
    assert await dropped_before_hello(port, LOCAL) < CLOSE_TIMEOUT_S + 4.5
