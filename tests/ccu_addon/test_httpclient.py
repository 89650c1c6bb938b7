"""The add-on's HTTP/1.1 client against servers on loopback; the XML-RPC callback server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import xmlrpc.client
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import trustme

from ccu_addon.errors import (
    HttpClientError,
    HttpConnectionError,
    HttpProtocolError,
    HttpStatusError,
    HttpTimeoutError,
)
from ccu_addon.events import MAX_CALLBACK_BODY, CcuEvent, CcuEventBridge
from ccu_addon.httpserver import HttpServer
from tunnel.clock import ManualClock
from tunnel.httpclient import fetch

Reply = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def raw_server(
    reply: Reply, context: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[int, list[bytes]]]:
    """A server on port 0 that records each request head and answers with ``reply``."""
    heads: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            heads.append(await reader.readuntil(b"\r\n\r\n"))
            await reply(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1], heads
    finally:
        server.close()
        await server.wait_closed()


def answer(data: bytes) -> Reply:
    async def reply(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()

    return reply


async def test_a_chunked_answer_is_read_whole() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nDate: Sat, 21 Nov 2026 22:00:00 GMT"
        b"\r\n\r\n5\r\nHallo\r\n5\r\n Welt\r\n0\r\n\r\n"
    )
    async with raw_server(answer(chunked)) as (port, heads):
        resp = await fetch("GET", f"http://127.0.0.1:{port}/healthz?x=1", timeout=5)
    assert (resp.status, resp.body) == (200, b"Hallo Welt")
    assert resp.header("DATE") == "Sat, 21 Nov 2026 22:00:00 GMT"
    head = heads[0].decode()
    assert head.startswith("GET /healthz?x=1 HTTP/1.1\r\n")
    assert f"host: 127.0.0.1:{port}\r\n" in head.lower()
    assert "connection: close\r\n" in head.lower()


async def test_a_post_sends_its_body_and_an_error_status_raises() -> None:
    received: list[bytes] = []

    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readexactly(4))
        writer.write(b"HTTP/1.1 500 Kaputt\r\nContent-Length: 0\r\n\r\n")

    async with raw_server(reply) as (port, heads):
        resp = await fetch(
            "POST", f"http://127.0.0.1:{port}/", body=b"ping", content_type="text/xml", timeout=5
        )
    assert received == [b"ping"]
    assert b"Content-Type: text/xml\r\n" in heads[0]
    assert b"Content-Length: 4\r\n" in heads[0]
    with pytest.raises(HttpStatusError) as raised:
        resp.raise_for_status()
    assert raised.value.status == 500


async def test_no_answer_in_time_is_a_timeout() -> None:
    never = asyncio.Event()

    async def silent(_reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
        await never.wait()

    async with raw_server(silent) as (port, _):
        with pytest.raises(HttpTimeoutError) as raised:
            await fetch("GET", f"http://127.0.0.1:{port}/", timeout=0.1)
        never.set()
    assert isinstance(raised.value, TimeoutError)  # callers may catch the builtin
    assert isinstance(raised.value, HttpClientError)


async def test_a_refused_connection_is_a_connection_error() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(HttpConnectionError) as raised:
        await fetch("GET", f"http://127.0.0.1:{port}/", timeout=5)
    assert isinstance(raised.value, OSError)


async def test_garbage_and_oversized_answers_are_protocol_errors() -> None:
    async with raw_server(answer(b"SSH-2.0-OpenSSH\r\n\r\n")) as (port, _):
        with pytest.raises(HttpProtocolError):
            await fetch("GET", f"http://127.0.0.1:{port}/", timeout=5)
    big = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"a" * 100
    async with raw_server(answer(big)) as (port, _):
        with pytest.raises(HttpProtocolError):
            await fetch("GET", f"http://127.0.0.1:{port}/", timeout=5, max_answer=99)


async def test_https_with_the_given_trust() -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    trust = ssl.create_default_context()
    ca.configure_trust(trust)
    ok = b"HTTP/1.1 204 No Content\r\nDate: Sat, 21 Nov 2026 22:00:00 GMT\r\n\r\n"
    async with raw_server(answer(ok), server_context) as (port, _):
        resp = await fetch("GET", f"https://127.0.0.1:{port}/healthz", ssl_context=trust, timeout=5)
        assert resp.status == 204
        with pytest.raises(HttpConnectionError) as raised:  # the system store knows no trustme
            await fetch(
                "GET",
                f"https://127.0.0.1:{port}/",
                ssl_context=ssl.create_default_context(),
                timeout=5,
            )
    assert isinstance(raised.value.__cause__, ssl.SSLCertVerificationError)


async def test_urls_it_cannot_serve_are_refused_early() -> None:
    with pytest.raises(ValueError, match="http"):
        await fetch("GET", "ftp://127.0.0.1/", timeout=1)
    with pytest.raises(ValueError, match="SSL context"):
        await fetch("GET", "https://127.0.0.1/", timeout=1)


async def test_the_xmlrpc_callback_server_takes_real_xmlrpc_posts(clock: ManualClock) -> None:
    """What the CCU sends, encoded by the standard library, through the add-on's own HTTP."""
    events: list[CcuEvent] = []
    interface = "http://127.0.0.1:2010/"
    bridge = CcuEventBridge(interfaces=[interface], clock=clock, sink=events.extend)
    server = HttpServer(bridge.routes(), max_body=MAX_CALLBACK_BODY)
    url = f"http://127.0.0.1:{await server.start('127.0.0.1', 0)}/RPC2"

    async def call(method: str, *params: Any) -> Any:
        body = xmlrpc.client.dumps(params, methodname=method, allow_none=True).encode()
        resp = await fetch("POST", url, body=body, content_type="text/xml", timeout=5)
        resp.raise_for_status()
        assert resp.header("content-type") == "text/xml"
        result, _ = xmlrpc.client.loads(resp.body, use_builtin_types=True)
        return result[0]

    try:
        ident = "cloudconnector-0"
        assert await call("event", ident, "000A18A9A64DAD:1", "ACTUAL_TEMPERATURE", 19.5) == ""
        calls = [
            {"methodName": "event", "params": [ident, "LEQ1234501:1", "STATE", True]},
            {"methodName": "event", "params": [ident, "LEQ1234501:1", "WORKING", False]},
            {"methodName": "nope", "params": []},
        ]
        assert await call("system.multicall", calls) == [
            [""],
            [""],
            {"faultCode": -1, "faultString": "unknown method"},
        ]
        assert await call("newDevices", ident, [{"ADDRESS": "LEQ1234501"}]) == ""
        assert await call("listDevices", ident) == [{"ADDRESS": "LEQ1234501", "VERSION": 1}]
        with pytest.raises(xmlrpc.client.Fault, match="unknown method"):
            await call("getParamset", "x")
        resp = await fetch("POST", url, body=b"<kein xml", timeout=5)
        with pytest.raises(xmlrpc.client.Fault, match="bad call"):
            xmlrpc.client.loads(resp.body)
    finally:
        await server.close()
    assert [(e.address, e.key, e.value, e.interface) for e in events] == [
        ("000A18A9A64DAD:1", "ACTUAL_TEMPERATURE", 19.5, interface),
        ("LEQ1234501:1", "STATE", True, interface),
    ]
