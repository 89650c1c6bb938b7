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
"""

from __future__ import annotations

import asyncio
import socket
import ssl

from aiohttp import web

__all__ = ["TlsSite"]


class TlsSite(web.SockSite):
    """:class:`aiohttp.web.SockSite` over TLS with a bounded wait for the client's close_notify."""

    __slots__ = ("_tls_close_timeout_s", "_tls_handshake_timeout_s")

    def __init__(
        self,
        runner: web.BaseRunner,
        sock: socket.socket,
        *,
        ssl_context: ssl.SSLContext,
        tls_close_timeout_s: float,
        tls_handshake_timeout_s: float,
    ) -> None:
        super().__init__(runner, sock, ssl_context=ssl_context)
        self._tls_close_timeout_s = tls_close_timeout_s
        self._tls_handshake_timeout_s = tls_handshake_timeout_s

    @property
    def tls_close_timeout_s(self) -> float:
        """Longest wait for the client's close_notify after this end closed."""
        return self._tls_close_timeout_s

    @property
    def tls_handshake_timeout_s(self) -> float:
        """Longest time from the accept to the end of the client's TLS handshake."""
        return self._tls_handshake_timeout_s

    async def start(self) -> None:
        """Listen with TLS; a connection is dropped when a TLS wait runs out."""
        await web.BaseSite.start(self)  # registers the site; SockSite.start would listen
        server = self._runner.server
        if server is None:  # set by runner.setup()
            raise RuntimeError("runner not set up")
        self._server = await asyncio.get_running_loop().create_server(
            server,
            sock=self._sock,
            ssl=self._ssl_context,
            backlog=self._backlog,
            ssl_shutdown_timeout=self._tls_close_timeout_s,
            ssl_handshake_timeout=self._tls_handshake_timeout_s,
        )
