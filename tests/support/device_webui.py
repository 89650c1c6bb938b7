"""A tiny stand-in for a device's local web UI, and a browser that reaches device hosts.

The web UI runs on loopback port 0 and offers what the remote-access tests need: a page,
a header mirror, streamed downloads and uploads of any size (hashed while they flow,
never held whole), a cookie setter and a WebSocket echo.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
from collections.abc import Iterator

import aiohttp
from aiohttp import web

from simulator.cluster import LoopbackResolver

__all__ = [
    "LoopbackResolver",
    "browser",
    "pattern",
    "pattern_blocks",
    "pattern_sha256",
    "start_webui",
]

_BLOCK = bytes(range(256)) * 256  # 64 KiB


def pattern(size: int) -> bytes:
    """The first ``size`` bytes of the download pattern (for small checks)."""
    return (_BLOCK * (size // len(_BLOCK) + 1))[:size]


def pattern_blocks(size: int) -> Iterator[bytes]:
    """The download pattern of ``size`` bytes in 64 KiB blocks, never held whole."""
    left = size
    while left > 0:
        block = _BLOCK[: min(left, len(_BLOCK))]
        yield block
        left -= len(block)


def pattern_sha256(size: int) -> str:
    """SHA-256 of the pattern of ``size`` bytes, computed block by block."""
    digest = hashlib.sha256()
    for block in pattern_blocks(size):
        digest.update(block)
    return digest.hexdigest()


async def _page(request: web.Request) -> web.Response:
    return web.Response(
        text="<html><title>HomeMatic WebUI</title><body>CCU WebUI</body></html>",
        content_type="text/html",
    )


async def _headers(request: web.Request) -> web.Response:
    return web.json_response({"headers": dict(request.headers), "cookies": dict(request.cookies)})


async def _download(request: web.Request) -> web.StreamResponse:
    size = int(request.query["size"])
    response = web.StreamResponse()
    if "length" in request.query:
        response.content_length = size
    await response.prepare(request)
    for block in pattern_blocks(size):
        await response.write(block)
    await response.write_eof()
    return response


async def _upload(request: web.Request) -> web.Response:
    digest, size = hashlib.sha256(), 0
    async for chunk in request.content.iter_chunked(65536):
        digest.update(chunk)
        size += len(chunk)
    return web.json_response({"size": size, "sha256": digest.hexdigest()})


async def _set_cookies(request: web.Request) -> web.Response:
    response = web.Response(text="cookies")
    response.set_cookie("ccu_sid", "device-own", path="/")
    response.headers.add("Set-Cookie", "__Host-remote=hijack; Path=/; Secure")
    # a cookie for the gateway's parent domain (the portal and every device host)
    response.headers.add("Set-Cookie", "wide=1; Domain=gateway.localhost; Path=/; Secure")
    return response


async def _ws(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        if msg.type is aiohttp.WSMsgType.TEXT:
            await ws.send_str(f"echo: {msg.data}")
        elif msg.type is aiohttp.WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


async def start_webui() -> tuple[web.AppRunner, int]:
    """Start the web UI on 127.0.0.1:0; returns the runner and the port."""
    app = web.Application()
    app.router.add_get("/", _page)
    app.router.add_get("/headers", _headers)
    app.router.add_get("/download", _download)
    app.router.add_post("/upload", _upload)
    app.router.add_get("/cookies", _set_cookies)
    app.router.add_get("/ws", _ws)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.create_server(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    return runner, int(sock.getsockname()[1])


def browser(base_url: str, ctx: ssl.SSLContext) -> aiohttp.ClientSession:
    """A browser-like client that can follow redirects to device hosts."""
    return aiohttp.ClientSession(
        base_url=base_url,
        connector=aiohttp.TCPConnector(ssl=ctx, resolver=LoopbackResolver()),
        cookie_jar=aiohttp.CookieJar(),
    )
