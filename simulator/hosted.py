"""What the payment simulators share: a local HTTP service with pages and retried callbacks.

A :class:`HostedService` listens on loopback (port 0: a free port), is started and stopped as
an async context manager, and POSTs callbacks (webhooks, notifications) in the background,
retrying until the listener answers 2xx (:meth:`HostedService.post_until_answered`);
:meth:`HostedService.drain` waits for all of them. :func:`html_page` is the pages' frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import socket
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

__all__ = ["HostedService", "html_page"]

_LOGGER = logging.getLogger(__name__)

_STYLE = (
    "body{font-family:sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}"
    "button{font-size:1.1rem;padding:.6rem 1.2rem;margin:.3rem 0;width:100%}"
    ".amount{font-size:2rem;font-weight:bold}input[name=card]{width:100%}"
)


def html_page(title: str, body: str) -> web.Response:
    """A German page that works at 390 px width."""
    text = (
        "<!doctype html><html lang='de'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )
    return web.Response(text=text, content_type="text/html")


@dataclass
class HostedService:
    """Listening, background callbacks and their retries (subclasses add the routes)."""

    host: str = "127.0.0.1"
    port: int = 0
    retry_delays: tuple[float, ...] = (0.05, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
    """Pauses between failed attempts of one callback (then it gives up, as providers do)."""
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        """The base URL of the API and the pages."""
        return f"http://{self.host}:{self.port}"

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """Register the service's routes."""
        raise NotImplementedError

    async def start(self) -> None:
        """Listen (port 0: a free port, then :attr:`port` holds it)."""
        app = web.Application()
        self.add_routes(app.router)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.create_server((self.host, self.port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def stop(self) -> None:
        """Stop calling back and listening."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def drain(self) -> None:
        """Wait until every callback so far was answered or given up (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.stop()

    def background(self, job: Coroutine[Any, Any, None]) -> None:
        """Run ``job`` until done or stopped."""
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def post_until_answered(
        self,
        target: Callable[[], str | None],
        body: bytes,
        headers: Callable[[bytes], Mapping[str, str]],
        attempted: Callable[[int | None], None],
    ) -> None:
        """POST ``body`` to ``target()`` (read anew each attempt) until a 2xx answer.

        ``headers`` signs each attempt afresh; ``attempted`` gets each attempt's status
        (``None``: not reachable).
        """
        for delay in (*self.retry_delays, None):
            status: int | None = None
            url = target()
            if url and self._session is not None:
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with self._session.post(
                        url, data=body, headers=dict(headers(body)), ssl=False
                    ) as response:
                        status = response.status
                attempted(status)
            if status is not None and 200 <= status < 300:
                return
            if delay is None:
                _LOGGER.warning("callback to %s not answered; giving up", url)
                return
            await asyncio.sleep(delay)
