"""A small HTTP/1.1 server on asyncio streams: the dashboard and the XML-RPC callbacks.

``h11`` speaks HTTP (sans-IO: parsing, framing, keep-alive rules); this module owns the
sockets and the event loop. It is all the add-on needs from a web framework, at a fraction of
the memory (``aiohttp`` costs the hub some 14 MB of RSS)::

    router = Router()
    router.add("GET", "/", page)             # also answers HEAD
    router.add("POST", "*", callback)        # "*": any path
    server = HttpServer(router, max_body=64 * 1024)
    port = await server.start("127.0.0.1", 0)
    ...
    await server.close()

A handler takes a :class:`Request` (body read completely) and returns a :class:`Response`,
or raises :class:`HttpAbortError` to answer at once (403, 503, a redirect). The server answers by
itself: 400 (malformed request), 404 (no such path), 405 (no such method, with ``Allow``), 408
(a started request stalls), 413 (body over ``max_body``), 431 (header block too large), 500 (a
handler failed; logged). Connections are kept alive between requests (HTTP/1.1) until the
client closes, ``idle_timeout`` passes or the server closes. One connection serves its
requests one after the other; pipelined requests wait their turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Final
from urllib.parse import parse_qsl, unquote, urlsplit

import h11

from ccu_addon.errors import AddonError

__all__ = ["Handler", "HttpAbortError", "HttpServer", "Request", "Response", "Router"]

_LOGGER = logging.getLogger(__name__)
_READ_SIZE: Final = 64 * 1024
_FORM: Final = "application/x-www-form-urlencoded"
_LINGER: Final = 2.0
"""Seconds an error answer waits for the client to stop sending before the close."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """One request, its body read completely."""

    method: str
    """``GET``, ``POST``, … (a ``HEAD`` request is handed to the ``GET`` handler as is)."""
    path: str
    """The path, percent-decoded (``/book``)."""
    query_string: str
    """The raw query, without ``?``."""
    headers: tuple[tuple[str, str], ...] = ()
    """Header names lower-case, in the order sent."""
    body: bytes = b""
    """The request body (at most the server's ``max_body``)."""

    @property
    def query(self) -> dict[str, str]:
        """Query parameters; the first value of a repeated name wins."""
        return _first_values(self.query_string)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)

    def form(self) -> dict[str, str]:
        """The fields of an URL-encoded form body; empty for any other content type."""
        content_type = (self.header("content-type") or "").partition(";")[0].strip().lower()
        if content_type != _FORM:
            return {}
        return _first_values(self.body.decode("utf-8", errors="replace"))


def _first_values(encoded: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in parse_qsl(encoded, keep_blank_values=True):
        values.setdefault(key, value)
    return values


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    """What a handler answers."""

    status: int = 200
    """HTTP status code."""
    body: bytes = b""
    """The body (Content-Length is set from it)."""
    content_type: str | None = None
    """``Content-Type`` header, if any."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Further headers."""
    close: bool = False
    """End the connection after this response."""

    @classmethod
    def text(
        cls,
        text: str,
        *,
        status: int = 200,
        content_type: str = "text/plain",
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """A text body in UTF-8."""
        return cls(
            status=status,
            body=text.encode(),
            content_type=f"{content_type}; charset=utf-8",
            headers=headers or {},
        )

    @classmethod
    def redirect(cls, location: str, *, status: int = 303) -> Response:
        """A redirect (303 See Other by default: the browser follows with GET)."""
        return cls.text(
            f"{status}: {_reason(status)}", status=status, headers={"Location": location}
        )

    @classmethod
    def error(cls, status: int, *, close: bool = False, **headers: str) -> Response:
        """A plain error answer, ``404: Not Found``."""
        return cls(
            status=status,
            body=f"{status}: {_reason(status)}".encode(),
            content_type="text/plain; charset=utf-8",
            headers=headers,
            close=close,
        )


class HttpAbortError(AddonError):
    """Raised by a handler to end its request with ``response`` (403, 503, a redirect)."""

    def __init__(self, response: Response) -> None:
        super().__init__(f"HTTP {response.status}")
        self.response = response


Handler = Callable[[Request], Awaitable[Response]]
"""Serves one request."""


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class Router:
    """Request routing by method and exact path; ``*`` as path matches every path."""

    def __init__(self) -> None:
        self._routes: dict[str, dict[str, Handler]] = {}

    def add(self, method: str, path: str, handler: Handler) -> None:
        """Serve ``method path`` with ``handler`` (``GET`` routes also answer ``HEAD``)."""
        self._routes.setdefault(path, {})[method.upper()] = handler

    async def dispatch(self, request: Request) -> Response:
        """The handler's response, or 404 / 405 when no route fits."""
        methods = self._routes.get(request.path) or self._routes.get("*")
        if methods is None:
            return Response.error(404)
        method = "GET" if request.method == "HEAD" else request.method
        handler = methods.get(method)
        if handler is None:
            allowed = sorted({*methods, *(("HEAD",) if "GET" in methods else ())})
            return Response.error(405, Allow=", ".join(allowed))
        try:
            return await handler(request)
        except HttpAbortError as abort:
            return abort.response


class _RequestFailedError(Exception):
    """The request cannot be served; answer ``status`` and close."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class HttpServer:
    """Serves a :class:`Router` on one TCP address."""

    def __init__(
        self,
        router: Router,
        *,
        max_body: int,
        name: str = "http",
        idle_timeout: float = 75.0,
        request_timeout: float = 30.0,
        max_header_size: int = 16 * 1024,
    ) -> None:
        self._router = router
        self._max_body = max_body
        self._name = name
        self._idle_timeout = idle_timeout
        self._request_timeout = request_timeout
        self._max_header_size = max_header_size
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port``; the port (``0`` picks a free one)."""
        self._server = await asyncio.start_server(self._accept, host, port)
        bound: int = self._server.sockets[0].getsockname()[1]
        return bound

    async def close(self) -> None:
        """Stop listening and end every open connection."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # The connection's task is ours, not asyncio.streams': on Python 3.11 a cancelled
        # handler task of start_server is logged as an error ("Exception in callback").
        task = asyncio.get_running_loop().create_task(
            self._serve(reader, writer), name=f"{self._name}-connection"
        )
        self._connections.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._connections.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            _LOGGER.error("%s: connection failed", self._name, exc_info=exc)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=self._max_header_size)
        try:
            while True:
                try:
                    request = await self._receive(conn, reader, writer)
                except (h11.RemoteProtocolError, _RequestFailedError) as exc:
                    # h11's hint: 400, or 431 for a header block too large
                    status = (
                        exc.status
                        if isinstance(exc, _RequestFailedError)
                        else exc.error_status_hint
                    )
                    await _send(conn, writer, "GET", Response.error(status, close=True))
                    await _linger(reader, writer)
                    return
                if request is None:
                    return
                response = await self._respond(request)
                await _send(conn, writer, request.method, response)
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    return
                conn.start_next_cycle()
        except (OSError, h11.LocalProtocolError) as exc:
            _LOGGER.debug("%s: connection ended: %r", self._name, exc)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _receive(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Request | None:
        """The next complete request; None when the client is gone or stays idle too long."""
        head: h11.Request | None = None
        body = bytearray()
        started = bool(conn.trailing_data[0])
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                try:
                    async with asyncio.timeout(
                        self._request_timeout if started else self._idle_timeout
                    ):
                        data = await reader.read(_READ_SIZE)
                except TimeoutError:
                    if not started:
                        return None  # an idle keep-alive connection ends quietly
                    raise _RequestFailedError(408) from None
                started = True
                conn.receive_data(data)  # b"" is the end of the stream
            elif isinstance(event, h11.Request):
                head = event
                if _head_size(event) > self._max_header_size:
                    raise _RequestFailedError(431)  # h11 checks incomplete heads only
                if _declared_length(event) > self._max_body:
                    raise _RequestFailedError(413)
                if conn.they_are_waiting_for_100_continue:
                    writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > self._max_body:
                    raise _RequestFailedError(413)
            elif isinstance(event, h11.EndOfMessage) and head is not None:
                return _request(head, bytes(body))
            else:  # ConnectionClosed (before a request began)
                return None

    async def _respond(self, request: Request) -> Response:
        try:
            return await self._router.dispatch(request)
        except Exception:
            _LOGGER.exception("%s: %s %s failed", self._name, request.method, request.path)
            return Response.error(500)


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """After an error answer: half-close and drop what the client still sends, for a while.

    Closing with unread request bytes would make the kernel reset the connection, and a reset
    can destroy the answer before the client has read it.
    """
    with contextlib.suppress(OSError, TimeoutError):
        if writer.can_write_eof():
            writer.write_eof()
        async with asyncio.timeout(_LINGER):
            while await reader.read(_READ_SIZE):
                pass


def _head_size(head: h11.Request) -> int:
    return len(head.target) + sum(len(name) + len(value) + 4 for name, value in head.headers)


def _declared_length(head: h11.Request) -> int:
    for name, value in head.headers:
        if name == b"content-length":
            return int(value)  # h11 checked that it is a number
    return 0


def _request(head: h11.Request, body: bytes) -> Request:
    target = urlsplit(head.target.decode("ascii", errors="replace"))
    return Request(
        method=head.method.decode("ascii"),
        path=unquote(target.path) or "/",
        query_string=target.query,
        headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in head.headers),
        body=body,
    )


async def _send(
    conn: h11.Connection, writer: asyncio.StreamWriter, method: str, response: Response
) -> None:
    if conn.our_state not in {h11.IDLE, h11.SEND_RESPONSE}:
        return  # too late for an answer (e.g. the client vanished mid-response)
    headers = [(name, value) for name, value in response.headers.items()]
    if response.content_type is not None:
        headers.append(("Content-Type", response.content_type))
    headers.append(("Content-Length", str(len(response.body))))
    if response.close:
        headers.append(("Connection", "close"))
    head = h11.Response(
        status_code=response.status, headers=headers, reason=_reason(response.status).encode()
    )
    data = conn.send(head) or b""
    if response.body and method != "HEAD":
        data += conn.send(h11.Data(data=response.body)) or b""
    data += conn.send(h11.EndOfMessage()) or b""
    writer.write(data)
    await writer.drain()
