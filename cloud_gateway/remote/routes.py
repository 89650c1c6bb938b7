"""Remote access routes: the portal's "open" page and the device-host middleware.

Requests whose ``Host`` is ``<slug>.<remote_domain>`` never reach the gateway's own
routes: :func:`device_hosts` checks access and proxies them through the device's tunnel
(or answers with a clear refusal page). Every proxied request is counted into the
browser's remote session, which is the audit record (R-DEV-11): in memory first
(:class:`~cloud_gateway.remote.ledger.TrafficLedger`), written every
``remote.audit_flush_s`` seconds, when a session ends and at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from aiohttp import web

from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.keys import (
    CLOCK,
    CONFIG,
    REMOTE_GATE,
    STORE,
    TUNNELS,
)
from cloud_gateway.http.pages import Handler
from cloud_gateway.remote import texts
from cloud_gateway.remote.access import (
    Access,
    Denial,
    check_access,
    denial_page,
    handover,
    open_form,
    open_submit,
)
from cloud_gateway.remote.hosts import slug_from_host
from cloud_gateway.remote.lan import split_label
from cloud_gateway.remote.proxy import ByteStream, ProxyError, proxy_http
from cloud_gateway.remote.relay import RelayDeniedError
from cloud_gateway.remote.repository_lan import LanTargetRepository
from cloud_gateway.remote.support_routes import grant_support, revoke_support
from cloud_gateway.remote.upgrade import is_upgrade, origin_allowed, proxy_upgrade
from tunnel.errors import OpenFailedError, SessionClosedError, StreamError
from tunnel.streams import Stream

__all__ = ["device_hosts", "setup"]

_LOGGER = logging.getLogger(__name__)

OPEN_TIMEOUT: Final = 10.0
"""Seconds the device has to answer a stream's OPEN (as ``open_stream`` waits by default)."""


def _device_slug(request: web.Request) -> str | None:
    config = request.app[CONFIG]
    host = request.host.rsplit(":", 1)[0].lower() if request.host else ""
    if host == config.http.public_host.lower():
        return None
    return slug_from_host(request.host, config.remote_domain)


@web.middleware
async def device_hosts(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Serve device hosts by proxy; pass every other request on.

    ``<slug>--lan<n>`` hosts are the hub's LAN target ``n`` (Netzwerkgeräte): the same
    session, ownership and entitlement checks as the hub, another stream target.
    """
    label = _device_slug(request)
    if label is None:
        return await handler(request)
    slug, lan_id = split_label(label)
    if request.path == "/__remote/handover":
        return await handover(request, slug)
    access = await check_access(request, slug)
    if isinstance(access, Denial):
        request.app[TUNNELS].metrics.remote_requests.labels(outcome=access.value).inc()
        return denial_page(request, access)
    target = request.app[CONFIG].remote.target
    if lan_id is not None:
        try:
            lan = await request.app[STORE].repo(LanTargetRepository).get(lan_id, access.device.id)
        except NotFoundError:
            return denial_page(request, Denial.NOT_YOURS)
        target = lan.stream_target
    upgrade = is_upgrade(request)
    if upgrade and not origin_allowed(request):
        raise web.HTTPForbidden(text="WebSocket origin not allowed")
    # the checks' reads are done: no pooled connection held while the device answers
    await request.app[STORE].release_reads()
    return await _proxy(request, access, target, upgrade=upgrade)


async def _open(request: web.Request, access: Access, target: str) -> ByteStream | Denial:
    """A stream to ``target`` (the hub's web UI or one of its LAN devices): in the device's
    tunnel here, or relayed to the node holding it."""
    if access.tunnel is None:
        gate = request.app[REMOTE_GATE]
        if gate.relay is None or gate.locate is None:
            return Denial.OFFLINE
        device_id, locate = access.device.id, gate.locate

        async def relocate() -> str | None:  # the tunnel moved since the directory was read
            return await locate(device_id, fresh=True)

        return await gate.relay.open(
            access.holder,
            device_id=device_id,
            target=target,
            session_id=access.session.id,
            relocate=relocate,
        )
    try:
        # Pipelined (ADR 0016): the request goes out right behind OPEN, without waiting a
        # round trip for OPEN_OK; an OPEN_FAIL then comes from the proxied request.
        return await access.tunnel.session.open_stream(target, pipelined=True)
    except (OpenFailedError, TimeoutError) as exc:
        _LOGGER.info("remote %s: cannot open %s: %s", access.device.slug, target, exc)
        return Denial.UNREACHABLE
    except SessionClosedError:
        return Denial.OFFLINE


async def _proxy(
    request: web.Request, access: Access, target: str, *, upgrade: bool
) -> web.StreamResponse:
    metrics = request.app[TUNNELS].metrics
    stream = await _open(request, access, target)
    if isinstance(stream, Denial):
        metrics.remote_requests.labels(outcome=stream.value).inc()
        return denial_page(request, stream)
    outcome = "error"
    deadline = _open_deadline(stream)
    try:
        response = await (proxy_upgrade if upgrade else proxy_http)(request, stream)
        outcome = "upgrade" if upgrade else "ok"
    except RelayDeniedError as exc:  # the holding node refused (the tunnel went meanwhile)
        outcome = exc.denial.value
        return denial_page(request, exc.denial)
    except ProxyError as exc:
        _LOGGER.warning("remote %s: %s", access.device.slug, exc)
        outcome = Denial.UNREACHABLE.value
        return denial_page(request, Denial.UNREACHABLE)
    except StreamError as exc:
        if not _unanswered(stream, exc):
            raise
        _LOGGER.info("remote %s: cannot open %s: %s", access.device.slug, target, exc)
        outcome = Denial.UNREACHABLE.value
        return denial_page(request, Denial.UNREACHABLE)
    finally:
        if deadline is not None:
            deadline.cancel()
        await _finish(stream, clean=outcome in {"ok", "upgrade"})
        metrics.remote_requests.labels(outcome=outcome).inc()
        request.app[REMOTE_GATE].ledger.record(
            access.session.id,
            now=request.app[CLOCK].now(),
            to_device=stream.bytes_out,
            from_device=stream.bytes_in,
        )
    return response


def _open_deadline(stream: ByteStream) -> asyncio.TimerHandle | None:
    """A pipelined tunnel stream whose OPEN the device leaves unanswered for
    :data:`OPEN_TIMEOUT` seconds is reset (the proxied request then fails as unreachable)."""
    if not isinstance(stream, Stream) or stream.accepted:
        return None

    def expire() -> None:
        if not stream.accepted:
            stream.reset("open timed out")

    return asyncio.get_running_loop().call_later(OPEN_TIMEOUT, expire)


def _unanswered(stream: ByteStream, exc: StreamError) -> bool:
    """The stream failed before the device accepted it: OPEN_FAIL, or the open timed out
    (nothing of a response can have been sent to the browser yet)."""
    if isinstance(exc, OpenFailedError):
        return True
    return isinstance(stream, Stream) and not stream.accepted


async def _finish(stream: ByteStream, *, clean: bool) -> None:
    """After a complete exchange let the device close its side; otherwise abort."""
    if stream.finished:
        return
    if clean:
        with contextlib.suppress(ConnectionError, TimeoutError):
            await stream.close(timeout=2.0)
    if not stream.finished:
        stream.reset("request done" if clean else "request failed")


def setup(app: web.Application) -> None:
    """Register the portal routes and the device-host middleware (the gate, its ledger and
    their background writer come from the composition root)."""
    app.middlewares.append(device_hosts)
    app.router.add_get("/remote/{slug}/open", open_form, name="remote_open")
    app.router.add_post("/remote/{slug}/open", open_submit)
    app.router.add_post("/remote/{slug}/support", grant_support, name="remote_support")
    app.router.add_post("/remote/{slug}/support/revoke", revoke_support)
    texts.register()
