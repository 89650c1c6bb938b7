"""Proxying one HTTP/1.1 request through a tunnel stream (h11 frames the bytes).

Each browser request gets its own stream to the device's local target: the request head
(hop-by-hop headers and the gateway's cookies removed, ``X-Forwarded-*`` set,
``Connection: close``) and the body are written into the stream while it is read, and
the response is parsed as it arrives and streamed back. Neither body is ever held whole:
memory per request is bounded by the stream's credit window and one chunk. Browser
keep-alive is served by aiohttp; towards the device each stream is one exchange.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Final, Protocol

import h11
from aiohttp import web
from multidict import CIMultiDict

from cloud_gateway.errors import GatewayError
from cloud_gateway.remote.hosts import GATEWAY_COOKIES, host_only_cookie, strip_cookies

__all__ = [
    "DEVICE_CSP",
    "HOP_BY_HOP",
    "ByteStream",
    "ProxyError",
    "device_security_headers",
    "next_event",
    "proxy_http",
    "request_headers",
    "response_headers",
]

CHUNK: Final = 64 * 1024
HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


class ByteStream(Protocol):
    """What the proxy needs of a stream: a tunnel stream, or a relay to the node holding it."""

    bytes_in: int
    bytes_out: int

    @property
    def finished(self) -> bool: ...

    async def read(self, n: int = -1) -> bytes: ...

    async def write(self, data: bytes | bytearray | memoryview) -> None: ...

    async def write_eof(self) -> None: ...

    async def close(self, timeout: float = 10.0) -> None: ...

    def reset(self, reason: str = "") -> None: ...


class ProxyError(GatewayError, ConnectionError):
    """The device's answer could not be read as HTTP/1.1 (or the stream broke early)."""


def _client_forwarding(lower: str) -> bool:
    """A forwarding header the client sent itself (not to be trusted, never passed on)."""
    return lower.startswith("x-forwarded-") or lower in {"forwarded", "x-real-ip"}


def request_headers(request: web.Request, *, upgrade: bool = False) -> list[tuple[str, str]]:
    """Headers to send to the device for ``request``."""
    connection_tokens = {
        token.strip().lower() for token in request.headers.get("Connection", "").split(",")
    }
    headers: list[tuple[str, str]] = []
    for name, raw in request.headers.items():
        lower = name.lower()
        if lower in HOP_BY_HOP or lower in connection_tokens or _client_forwarding(lower):
            continue
        value = strip_cookies(raw) if lower == "cookie" else raw
        if value or lower != "cookie":
            headers.append((name, value))
    # the client's own X-Forwarded-For is not trusted (dropped above): the device learns
    # the address the gateway saw
    headers += [
        ("X-Forwarded-For", request.remote or ""),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", request.host),
    ]
    if upgrade:
        headers += [("Connection", "Upgrade"), ("Upgrade", request.headers.get("Upgrade", ""))]
    else:
        headers.append(("Connection", "close"))
        if "Content-Length" not in request.headers and request.body_exists:
            headers.append(("Transfer-Encoding", "chunked"))
    return headers


#: the device's own CSP (if any) stays; this one is enforced alongside it
DEVICE_CSP = "frame-ancestors 'self'"


def device_security_headers(headers: CIMultiDict[str]) -> None:
    """The gateway's security headers on a proxied device response: HSTS, Referrer-Policy
    and X-Frame-Options replace the device's, nosniff is added, and a second CSP that only
    restricts framing is enforced next to the device's own (whose scripts may need more)."""
    headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "SAMEORIGIN"
    headers["X-Content-Type-Options"] = "nosniff"
    headers.add("Content-Security-Policy", DEVICE_CSP)


def response_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """The device's response headers minus hop-by-hop ones and attempts to set our cookies."""
    out: list[tuple[str, str]] = []
    for name_b, value_b in raw:
        name, value = name_b.decode("latin-1"), value_b.decode("latin-1")
        lower = name.lower()
        if lower in HOP_BY_HOP:
            continue
        if lower == "set-cookie":
            if value.split("=", 1)[0].strip() in GATEWAY_COOKIES:
                continue
            value = host_only_cookie(value)
        out.append((name, value))
    return out


async def next_event(conn: h11.Connection, stream: ByteStream) -> h11.Event | type[h11.PAUSED]:
    """The next event of the device's response, reading the stream as needed."""
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            raise ProxyError(f"device sent invalid HTTP: {exc}") from exc
        if event is h11.NEED_DATA:
            conn.receive_data(await stream.read(CHUNK))
            continue
        if event is h11.PAUSED or isinstance(event, h11.Event):
            return event
        raise ProxyError(f"unexpected parser state {event!r}")  # pragma: no cover


async def _upload(request: web.Request, conn: h11.Connection, stream: ByteStream) -> None:
    if request.body_exists:
        async for chunk in request.content.iter_chunked(CHUNK):
            await stream.write(conn.send(h11.Data(data=chunk)) or b"")
    await stream.write(conn.send(h11.EndOfMessage()) or b"")


async def proxy_http(request: web.Request, stream: ByteStream) -> web.StreamResponse:
    """Send ``request`` through ``stream`` and stream the device's response back."""
    conn = h11.Connection(h11.CLIENT)
    head = h11.Request(
        method=request.method,
        target=request.raw_path,
        headers=request_headers(request),
    )
    await stream.write(conn.send(head) or b"")
    uploader = asyncio.create_task(_upload(request, conn, stream), name="remote upload")
    try:
        event = await next_event(conn, stream)
        while isinstance(event, h11.InformationalResponse):  # 100 Continue and friends
            event = await next_event(conn, stream)
        if not isinstance(event, h11.Response):
            raise ProxyError(f"device answered {event!r} instead of a response")
        response = web.StreamResponse(status=event.status_code, reason=event.reason.decode())
        for name, value in response_headers(event.headers):
            response.headers.add(name, value)
        device_security_headers(response.headers)
        await response.prepare(request)
        try:
            while True:
                event = await next_event(conn, stream)
                if isinstance(event, h11.Data):
                    await response.write(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    break
        except ProxyError as exc:  # too late for an error page: cut the connection
            raise ConnectionResetError(str(exc)) from exc
        await response.write_eof()
        if not uploader.done():
            uploader.cancel()  # the device answered without reading everything
        return response
    finally:
        if not uploader.done():
            uploader.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, h11.LocalProtocolError):
            await uploader
