"""The gateway's HTTPS listener: an aiohttp site whose TLS waits are bounded.

When the gateway closes a TLS connection, asyncio sends close_notify and waits for the
client's close_notify before it closes the socket, by default up to 30 s
(``asyncio.constants.SSL_SHUTDOWN_TIMEOUT``). A client that never answers (a crashed device,
a half-open NAT entry, an attacker) kept its descriptor and buffers for that long after every
answer with ``Connection: close``, every refused tunnel and every ended session. aiohttp's
sites pass no timeout to ``loop.create_server``; :class:`TlsSite` passes
``[http] tls_close_timeout_s`` (a few seconds: a client that answers at all does so within a
round trip), after which asyncio drops the connection. Likewise a client that connects and
never completes its TLS handshake held its connection for asyncio's 60 s
(``SSL_HANDSHAKE_TIMEOUT``); :class:`TlsSite` passes ``[http] tls_handshake_timeout_s``.

Before any of that, the listener accepts plain TCP and asks the node's TLS handshake budget
for a place (:mod:`cloud_gateway.tls_stage`, :mod:`cloud_gateway.tls_budget`, ADR 0032): in a
reconnect storm a connection over budget is closed at once instead of costing a handshake.
"""

from __future__ import annotations

import asyncio
import socket
import ssl

from aiohttp import web

from cloud_gateway.tls_budget import TlsBudget
from cloud_gateway.tls_stage import TlsAcceptor, TlsStage

__all__ = ["TlsSite"]


class TlsSite(web.SockSite):
    """:class:`aiohttp.web.SockSite` over TLS: a handshake budget first, bounded TLS waits."""

    __slots__ = (
        "_budget",
        "_header_timeout_s",
        "_tls_close_timeout_s",
        "_tls_handshake_timeout_s",
        "_upgrades",
    )

    def __init__(
        self,
        runner: web.BaseRunner,
        sock: socket.socket,
        *,
        ssl_context: ssl.SSLContext,
        tls_close_timeout_s: float,
        tls_handshake_timeout_s: float,
        budget: TlsBudget | None = None,
        header_timeout_s: float | None = None,
        backlog: int = 128,
    ) -> None:
        """``budget``: the node's, shared by its listeners (default: one of its own);
        ``header_timeout_s``: read a PROXY v2 header first (:class:`ProxyProtocolSite`);
        ``backlog``: the listen queue (aiohttp's default; the acceptor sets it on ``sock``)."""
        super().__init__(runner, sock, ssl_context=ssl_context, backlog=backlog)
        self._tls_close_timeout_s = tls_close_timeout_s
        self._tls_handshake_timeout_s = tls_handshake_timeout_s
        self._budget = budget or TlsBudget()
        self._header_timeout_s = header_timeout_s
        self._upgrades: set[asyncio.Task[None]] = set()

    @property
    def budget(self) -> TlsBudget:
        """The TLS handshake budget this listener asks before any TLS work."""
        return self._budget

    @property
    def tls_close_timeout_s(self) -> float:
        """Longest wait for the client's close_notify after this end closed."""
        return self._tls_close_timeout_s

    @property
    def tls_handshake_timeout_s(self) -> float:
        """Longest time from the accept to the end of the client's TLS handshake."""
        return self._tls_handshake_timeout_s

    async def start(self) -> None:
        """Listen on plain TCP; each connection gets a budget place, then TLS."""
        await web.BaseSite.start(self)  # registers the site; SockSite.start would listen
        handler_factory = self._runner.server
        ssl_context = self._ssl_context
        if handler_factory is None or ssl_context is None:  # set in __init__ and setup()
            raise RuntimeError("runner not set up")
        stage = TlsStage(
            handler_factory=handler_factory,
            ssl_context=ssl_context,
            budget=self._budget,
            handshake_timeout_s=self._tls_handshake_timeout_s,
            close_timeout_s=self._tls_close_timeout_s,
            header_timeout_s=self._header_timeout_s,
            upgrades=self._upgrades,
        )
        acceptor = TlsAcceptor(self._sock, stage, backlog=self._backlog)
        await acceptor.start_serving()
        self._server = acceptor

    async def stop(self) -> None:
        """Stop listening; connections queued or in their handshake are dropped."""
        self._budget.close()
        for task in list(self._upgrades):
            task.cancel()
        await super().stop()
