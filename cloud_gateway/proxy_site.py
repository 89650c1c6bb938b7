"""An aiohttp site that reads a PROXY protocol v2 header before TLS (``[http] proxy_protocol``).

Behind HAProxy in TCP mode every TCP peer is HAProxy. With ``send-proxy-v2`` HAProxy opens
each connection with a header naming the client (:mod:`cloud_gateway.proxy_header`). This
site listens without TLS; per connection the pre-TLS stage (:mod:`cloud_gateway.tls_stage`)
reads exactly the header's bytes under a timeout, asks the TLS handshake budget for a place
(counting the client's address), then hands the same socket to the TLS layer with the
gateway's usual SSL context (client certificates included). The
aiohttp handler then sees a transport whose ``peername`` is the client's address, so
``request.remote``, the tunnel HandshakeGate and every per-source limit count real clients;
``ssl_object`` and everything else come from the TLS transport unchanged. A connection
without a valid header is closed: no fallback, or any client could name its own address.
The TLS handshake and the wait for the client's close_notify are bounded as on the plain
listener (:mod:`cloud_gateway.tls_site`).
"""

from __future__ import annotations

import socket
import ssl

from aiohttp import web

from cloud_gateway.tls_budget import TlsBudget
from cloud_gateway.tls_site import TlsSite

__all__ = ["HEADER_TIMEOUT_S", "ProxyProtocolSite"]

HEADER_TIMEOUT_S = 5.0
"""How long a new connection may take to send its header (HAProxy sends it at once)."""


class ProxyProtocolSite(TlsSite):
    """:class:`~cloud_gateway.tls_site.TlsSite` whose connections start with a PROXY v2 header."""

    __slots__ = ()

    def __init__(
        self,
        runner: web.BaseRunner,
        sock: socket.socket,
        *,
        header_timeout_s: float = HEADER_TIMEOUT_S,
        ssl_context: ssl.SSLContext,
        tls_close_timeout_s: float,
        tls_handshake_timeout_s: float,
        budget: TlsBudget | None = None,
        backlog: int = 128,
    ) -> None:
        super().__init__(
            runner,
            sock,
            ssl_context=ssl_context,
            tls_close_timeout_s=tls_close_timeout_s,
            tls_handshake_timeout_s=tls_handshake_timeout_s,
            budget=budget,
            header_timeout_s=header_timeout_s,
            backlog=backlog,
        )
