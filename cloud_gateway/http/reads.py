"""One pooled read connection per web request (ADR 0034).

:func:`shared_reads` is the outermost middleware: the reads of a request (its session,
account, second factor and terms in the gate, then the page's own) share one pooled
connection (:meth:`cloud_gateway.store.Store.reading`), checked out at the first read and
returned when the handler has answered. Before this a request checked one out per repository
call, about 25 per card checkout.

The connection is never held while the request waits for something other than its reads:
a write transaction returns it first (``begin``), code that waits on the network calls
:meth:`~cloud_gateway.store.Store.release_reads` (the remote-access proxy before it opens the
device's stream), and :func:`release_on_prepare` returns it for good when a response starts
streaming (a WebSocket, the tunnel endpoint, downloads, server-sent events): a handler that
lives as long as a tunnel holds no pooled connection.
"""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.http.keys import STORE
from cloud_gateway.http.pages import Handler

__all__ = ["release_on_prepare", "shared_reads"]


@web.middleware
async def shared_reads(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Run the request's handler with its reads on one pooled connection."""
    async with request.app[STORE].reading():
        return await handler(request)


async def release_on_prepare(request: web.Request, _response: web.StreamResponse) -> None:
    """A response prepared inside its handler streams (or is a WebSocket): from now on the
    handler's reads each return their connection at once."""
    await request.app[STORE].release_reads(end=True)
