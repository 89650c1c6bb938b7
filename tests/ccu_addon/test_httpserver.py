"""The add-on's HTTP/1.1 server on loopback: routing, limits, keep-alive, clean errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import h11
import pytest

from ccu_addon.httpserver import HttpAbortError, HttpServer, Request, Response, Router

MAX_BODY = 1024


@dataclass
class Served:
    server: HttpServer
    port: int
    seen: list[Request] = field(default_factory=list)

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)

    async def raw(self, data: bytes) -> bytes:
        """Send ``data``, then read until the server closes the connection."""
        reader, writer = await self.connect()
        try:
            writer.write(data)
            await writer.drain()
            return await reader.read()
        finally:
            writer.close()
            await writer.wait_closed()


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    seen: list[Request] = []

    async def echo(request: Request) -> Response:
        seen.append(request)
        return Response(body=request.body, content_type="application/octet-stream")

    async def hello(request: Request) -> Response:
        seen.append(request)
        name = request.query.get("name", "Welt")
        return Response.text(f"Hallo {name}", headers={"X-Content-Type-Options": "nosniff"})

    async def forbidden(_request: Request) -> Response:
        raise HttpAbortError(Response.text("nein", status=403))

    async def broken(_request: Request) -> Response:
        raise RuntimeError("boom")

    router = Router()
    router.add("GET", "/", hello)
    router.add("POST", "/echo", echo)
    router.add("GET", "/forbidden", forbidden)
    router.add("GET", "/broken", broken)
    server = HttpServer(router, max_body=MAX_BODY)
    port = await server.start("127.0.0.1", 0)
    try:
        yield Served(server, port, seen)
    finally:
        await server.close()


class Client:
    """An HTTP/1.1 client connection that keeps the socket between requests (h11)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.conn = h11.Connection(h11.CLIENT)

    async def request(
        self, method: str, target: str, body: bytes = b"", **headers: str
    ) -> tuple[h11.Response, bytes]:
        if self.conn.our_state is h11.DONE:
            self.conn.start_next_cycle()
        fields = [("Host", "127.0.0.1"), ("Content-Length", str(len(body)))]
        fields += [(k.replace("_", "-"), v) for k, v in headers.items()]
        data = self.conn.send(h11.Request(method=method, target=target, headers=fields)) or b""
        data += self.conn.send(h11.Data(data=body)) or b"" if body else b""
        data += self.conn.send(h11.EndOfMessage()) or b""
        self.writer.write(data)
        head: h11.Response | None = None
        received = b""
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                self.conn.receive_data(await self.reader.read(65536))
            elif isinstance(event, h11.Response):
                head = event
            elif isinstance(event, h11.Data):
                received += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                return head, received
            else:
                raise AssertionError(f"unexpected {event!r}")

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


@pytest.fixture
async def client(served: Served) -> AsyncIterator[Client]:
    connection = Client(*await served.connect())
    try:
        yield connection
    finally:
        await connection.close()


def header(response: h11.Response, name: bytes) -> bytes | None:
    return next((v for k, v in response.headers if k == name), None)


async def test_two_requests_share_one_kept_alive_connection(served: Served, client: Client) -> None:
    first, body = await client.request("GET", "/?name=Anna")
    assert (first.status_code, body) == (200, b"Hallo Anna")
    assert header(first, b"content-type") == b"text/plain; charset=utf-8"
    assert header(first, b"x-content-type-options") == b"nosniff"
    assert header(first, b"connection") is None
    second, body = await client.request("POST", "/echo", b"zweimal")
    assert (second.status_code, body) == (200, b"zweimal")
    assert [r.method for r in served.seen] == ["GET", "POST"]
    assert served.seen[0].query == {"name": "Anna"}


async def test_unknown_path_is_404_and_the_connection_lives_on(client: Client) -> None:
    response, body = await client.request("GET", "/nirgends")
    assert (response.status_code, body) == (404, b"404: Not Found")
    assert (await client.request("GET", "/"))[0].status_code == 200


async def test_wrong_method_is_405_with_allow(client: Client) -> None:
    response, _ = await client.request("DELETE", "/")
    assert response.status_code == 405
    assert header(response, b"allow") == b"GET, HEAD"


async def test_head_answers_like_get_without_a_body(client: Client) -> None:
    response, body = await client.request("HEAD", "/")
    assert response.status_code == 200
    assert body == b""
    assert header(response, b"content-length") == str(len("Hallo Welt")).encode()


async def test_a_malformed_request_is_400_and_closed(served: Served) -> None:
    answer = await served.raw(b"NICHT HTTP\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"connection: close" in answer.lower()


async def test_a_header_block_too_large_is_431(served: Served) -> None:
    huge = b"X-Big: " + b"a" * (20 * 1024) + b"\r\n"
    answer = await served.raw(b"GET / HTTP/1.1\r\nHost: x\r\n" + huge + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431 ")


async def test_an_oversized_body_is_413_before_it_is_read(served: Served) -> None:
    answer = await served.raw(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1)
    )
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in answer.lower()
    assert served.seen == []


async def test_an_oversized_chunked_body_is_413(served: Served) -> None:
    chunk = b"a" * 700
    request = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    request += b"%x\r\n%s\r\n" % (len(chunk), chunk) * 2 + b"0\r\n\r\n"
    answer = await served.raw(request)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert served.seen == []


async def test_a_body_at_the_limit_is_served(client: Client) -> None:
    response, body = await client.request("POST", "/echo", b"x" * MAX_BODY)
    assert (response.status_code, len(body)) == (200, MAX_BODY)


async def test_expect_100_continue_is_answered(served: Served) -> None:
    reader, writer = await served.connect()
    try:
        writer.write(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"
        )
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 100 ")
        writer.write(b"abc")
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ")
        assert await reader.readexactly(3) == b"abc"
    finally:
        writer.close()
        await writer.wait_closed()


async def test_an_http_1_0_client_gets_its_answer_and_a_close(served: Served) -> None:
    answer = await served.raw(b"GET / HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b"Hallo Welt")


async def test_a_handler_abort_and_a_handler_failure(client: Client) -> None:
    response, body = await client.request("GET", "/forbidden")
    assert (response.status_code, body) == (403, b"nein")
    response, body = await client.request("GET", "/broken")
    assert (response.status_code, body) == (500, b"500: Internal Server Error")
    assert (await client.request("GET", "/"))[0].status_code == 200


async def test_form_and_query_parsing() -> None:
    request = Request(
        method="POST",
        path="/book",
        query_string="sid=%40abc%40&lang=en&lang=de",
        headers=(("content-type", "application/x-www-form-urlencoded; charset=UTF-8"),),
        body=b"csrf_token=t%C3%B6ken&empty=",
    )
    assert request.query == {"sid": "@abc@", "lang": "en"}
    assert request.form() == {"csrf_token": "töken", "empty": ""}
    assert request.header("Content-Type") is not None
    other = Request(method="POST", path="/", query_string="", body=b"csrf_token=x")
    assert other.form() == {}  # no form content type


async def test_closing_the_server_ends_idle_connections(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    reader, writer = await served.connect()
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await reader.readuntil(b"Hallo Welt")
    with caplog.at_level(logging.DEBUG):
        await served.server.close()
        assert await reader.read() == b""  # closed by the server, not by a timeout
    writer.close()
    await writer.wait_closed()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # a quiet close


async def test_an_idle_connection_times_out_quietly() -> None:
    router = Router()
    server = HttpServer(router, max_body=MAX_BODY, idle_timeout=0.05)
    port = await server.start("127.0.0.1", 0)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        async with asyncio.timeout(5):
            assert await reader.read() == b""  # no answer, just the close
        writer.close()
        await writer.wait_closed()
    finally:
        await server.close()


async def test_a_stalled_request_is_408() -> None:
    router = Router()
    server = HttpServer(router, max_body=MAX_BODY, request_timeout=0.05)
    port = await server.start("127.0.0.1", 0)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")  # the header block never ends
        async with asyncio.timeout(5):
            assert (await reader.read()).startswith(b"HTTP/1.1 408 ")
        writer.close()
        await writer.wait_closed()
    finally:
        await server.close()
