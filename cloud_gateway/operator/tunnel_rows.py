"""What the console and the operator API show: live tunnel rows, queue and money figures."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.billing.figures import BillingFigureRepository
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.keys import CLOCK, STORE, TUNNELS
from cloud_gateway.operator.health import HealthFigures, HealthRepository
from cloud_gateway.tunnels.registry import LiveTunnel

__all__ = ["health_figures", "live_tunnel_rows", "tunnel_summary"]


def tunnel_summary(tunnel: LiveTunnel, username: str | None) -> dict[str, Any]:
    """One row of the operator's tunnel list."""
    stats = tunnel.session.stats()
    return {
        "device": tunnel.device.slug,
        "device_id": tunnel.device.id,
        "device_kind": tunnel.hello.device_kind,
        "account_id": tunnel.device.account_id,
        "account": username,
        "since": tunnel.since.isoformat(),
        "session_id": tunnel.session_id,
        "protocol_version": tunnel.protocol_version,
        "software": tunnel.hello.software,
        "peer": tunnel.peer,
        "certificate_serial": tunnel.certificate_serial,
        "bytes_in": stats.bytes_received,
        "bytes_out": stats.bytes_sent,
        "heartbeat_rtt_s": stats.rtt,
        "open_streams": stats.open_streams,
        "streams_total": stats.streams_total,
        "credit_stalls": stats.credit_stalls,
    }


async def live_tunnel_rows(request: web.Request) -> list[dict[str, Any]]:
    """The live tunnels of this node with their owners' names."""
    store = request.app[STORE]
    names: dict[int, str] = {}
    rows = []
    for tunnel in request.app[TUNNELS].live():
        account_id = tunnel.device.account_id
        if account_id is not None and account_id not in names:
            try:
                names[account_id] = (await store.repo(AccountRepository).get(account_id)).username
            except NotFoundError:
                names[account_id] = ""
        rows.append(tunnel_summary(tunnel, names.get(account_id or -1)))
    return rows


async def health_figures(request: web.Request) -> HealthFigures:
    """The queues' and money figures at the clock's instant (console page and scrape)."""
    store, now = request.app[STORE], request.app[CLOCK].now()
    figures = await store.repo(HealthRepository).figures(now)
    money = await store.repo(BillingFigureRepository).figures(now)
    return figures.with_money(money.queues, money.documents, money.payments, money.payments_cents)
