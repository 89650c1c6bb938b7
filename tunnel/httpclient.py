"""A small HTTP/1.1 client on asyncio streams, for devices: the CCU add-on's calls to its CCU
(JSON-RPC, XML-RPC) and to the gateway (self-test), and enrolment (:mod:`tunnel.enrolment`).

One request per connection (``Connection: close``), the answer read completely::

    answer = await fetch("POST", url, body=payload, content_type="text/xml", timeout=10)
    answer.raise_for_status()

``h11`` speaks HTTP; this module owns the connection and the time limit, which covers
connecting, the TLS handshake, sending and the whole answer. ``https://`` URLs need an
:class:`ssl.SSLContext` (a device never loads the system CA store on its own). Every
failure is mapped to the tunnel package's own errors (see :mod:`tunnel.errors`)::

    OSError, ssl.SSLError  → HttpConnectionError (an OSError)
    TimeoutError           → HttpTimeoutError (a TimeoutError)
    h11.ProtocolError      → HttpProtocolError
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import h11

from tunnel.errors import (
    HttpConnectionError,
    HttpProtocolError,
    HttpStatusError,
    HttpTimeoutError,
)

__all__ = ["MAX_ANSWER", "HttpAnswer", "fetch"]

MAX_ANSWER: Final = 4 * 1024 * 1024
"""Default limit of an answer's body, bytes."""
_READ_SIZE: Final = 64 * 1024
_USER_AGENT: Final = "cloudconnector-ccu-addon"


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpAnswer:
    """A complete answer."""

    url: str
    """The URL that was asked."""
    status: int
    """HTTP status code."""
    headers: tuple[tuple[str, str], ...]
    """Header names lower-case, in the order received."""
    body: bytes
    """The body, decoded from chunked transfer coding if it was."""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)

    def raise_for_status(self) -> None:
        """:class:`HttpStatusError` for a 4xx or 5xx status."""
        if self.status >= 400:
            raise HttpStatusError(self.status, self.url)


async def fetch(
    method: str,
    url: str,
    *,
    timeout: float,
    body: bytes = b"",
    content_type: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    max_answer: int = MAX_ANSWER,
) -> HttpAnswer:
    """Send one request and read the whole answer within ``timeout`` seconds."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    tls = parts.scheme == "https"
    if tls and ssl_context is None:
        raise ValueError(f"{url}: an https URL needs an SSL context")
    host = parts.hostname
    port = parts.port or (443 if tls else 80)
    authority = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        authority += f":{parts.port}"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = [("Host", authority), ("User-Agent", _USER_AGENT), ("Connection", "close")]
    if method not in {"GET", "HEAD"} or body:
        headers.append(("Content-Length", str(len(body))))
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    request = h11.Request(method=method, target=target, headers=headers)
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                host, port, ssl=ssl_context if tls else None, server_hostname=host if tls else None
            )
            try:
                return await _exchange(
                    reader, writer, request, body, url=url, max_answer=max_answer
                )
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except TimeoutError as exc:
        raise HttpTimeoutError(f"{method} {url}: no answer within {timeout:g} s") from exc
    except OSError as exc:
        raise HttpConnectionError(f"{method} {url}: {exc}") from exc
    except h11.ProtocolError as exc:
        raise HttpProtocolError(f"{method} {url}: {exc}") from exc


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    request: h11.Request,
    body: bytes,
    *,
    url: str,
    max_answer: int,
) -> HttpAnswer:
    conn = h11.Connection(h11.CLIENT)
    data = conn.send(request) or b""
    if body:
        data += conn.send(h11.Data(data=body)) or b""
    data += conn.send(h11.EndOfMessage()) or b""
    writer.write(data)
    await writer.drain()
    head: h11.Response | None = None
    received = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(_READ_SIZE))
        elif isinstance(event, h11.Response):
            head = event
        elif isinstance(event, h11.Data):
            received += event.data
            if len(received) > max_answer:
                raise h11.RemoteProtocolError(f"answer larger than {max_answer} bytes", 400)
        elif isinstance(event, h11.EndOfMessage) and head is not None:
            return HttpAnswer(
                url=url,
                status=head.status_code,
                headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in head.headers),
                body=bytes(received),
            )
        elif isinstance(event, h11.ConnectionClosed):
            raise ConnectionResetError("the server closed the connection without an answer")
        # h11.InformationalResponse (100 Continue): wait for the real answer
