"""What the console and the operator API show: the fleet's tunnel rows (the directory joined
with this node's live details), queue and money figures."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cloud_gateway.billing.figures import BillingFigureRepository
from cloud_gateway.fleet.repository import DirectoryEntry, FleetRepository
from cloud_gateway.http.keys import CLOCK, FLEET, STORE, TUNNELS
from cloud_gateway.operator.health import HealthFigures, HealthRepository
from cloud_gateway.operator.repository_search import ConsoleSearchRepository, DeviceHit
from cloud_gateway.tunnels.registry import LiveTunnel

__all__ = ["health_figures", "holders", "live_tunnel_rows", "tunnel_summary"]


def tunnel_summary(tunnel: LiveTunnel, username: str | None, node_id: str = "") -> dict[str, Any]:
    """One row of the operator's tunnel list: a tunnel this node holds, with live details."""
    stats = tunnel.session.stats()
    return {
        "device": tunnel.device.slug,
        "device_id": tunnel.device.id,
        "device_kind": tunnel.hello.device_kind,
        "account_id": tunnel.device.account_id,
        "account": username,
        "since": tunnel.since.isoformat(),
        "session_id": tunnel.session_id,
        "node_id": node_id,
        "here": True,
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


_LIVE_ONLY = (
    "protocol_version", "software", "peer", "certificate_serial", "bytes_in", "bytes_out",
    "heartbeat_rtt_s", "open_streams", "streams_total", "credit_stalls",
)  # fmt: skip
"""What only the node holding a tunnel knows (None in the rows of other nodes' tunnels)."""


def _held_elsewhere(entry: DirectoryEntry, hit: DeviceHit | None) -> dict[str, Any]:
    """A row of the directory for a tunnel another node holds."""
    return {
        "device": hit.slug if hit else str(entry.device_id),
        "device_id": entry.device_id,
        "device_kind": hit.kind if hit else "",
        "account_id": hit.account_id if hit else None,
        "account": (hit.owner or None) if hit else None,
        "since": entry.since.isoformat(),
        "session_id": entry.session_id,
        "node_id": entry.node_id,
        "here": False,
    } | dict.fromkeys(_LIVE_ONLY)


async def holders(request: web.Request) -> dict[int, DirectoryEntry]:
    """Which node holds each device's tunnel, by device id: the fleet's directory, or on a
    single node its own tunnels (node id empty)."""
    fleet = request.app[FLEET]
    if fleet is None:
        return {
            t.device.id: DirectoryEntry(
                device_id=t.device.id, node_id="", session_id=t.session_id, since=t.since
            )
            for t in request.app[TUNNELS].live()
        }
    entries = await request.app[STORE].repo(FleetRepository).directory()
    return {e.device_id: e for e in entries}


async def live_tunnel_rows(request: web.Request) -> list[dict[str, Any]]:
    """Every tunnel of the fleet, newest first, with its owner's name and its node.

    In a fleet the tunnel directory (device → node, since) lists them all; where this node
    holds the tunnel its live details fill the row. A single node lists its own tunnels.
    """
    fleet = request.app[FLEET]
    here = fleet.node_id if fleet is not None else ""
    local = {t.device.id: t for t in request.app[TUNNELS].live()}
    entries = await request.app[STORE].repo(FleetRepository).directory() if fleet else []
    wanted = {e.device_id for e in entries} | local.keys()
    hits = await request.app[STORE].repo(ConsoleSearchRepository).devices_by_id(wanted)

    def owner(device_id: int) -> str | None:
        hit = hits.get(device_id)
        return (hit.owner or None) if hit else None

    rows = []
    for entry in entries:
        tunnel = local.pop(entry.device_id, None) if entry.node_id == here else None
        if tunnel is not None:
            rows.append(tunnel_summary(tunnel, owner(entry.device_id), here))
        else:
            rows.append(_held_elsewhere(entry, hits.get(entry.device_id)))
    # held here but not (yet) in the directory: the claim is in flight, or a single node
    rows.extend(tunnel_summary(t, owner(t.device.id), here) for t in local.values())
    return sorted(rows, key=lambda row: row["since"], reverse=True)


async def health_figures(request: web.Request) -> HealthFigures:
    """The queues' and money figures at the clock's instant (console page and scrape)."""
    store, now = request.app[STORE], request.app[CLOCK].now()
    figures = await store.repo(HealthRepository).figures(now)
    money = await store.repo(BillingFigureRepository).figures(now)
    return figures.with_money(money.queues, money.documents, money.payments, money.payments_cents)
