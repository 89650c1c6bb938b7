"""Routes of the tunnel area: enrolment API and page, ``/tunnel/v1``; the registry."""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.app_keys import STORE
from cloud_gateway.tunnels import enrol_routes
from cloud_gateway.tunnels.endpoint import tunnel_v1
from cloud_gateway.tunnels.keys import ENTITLEMENT_POLICY, TUNNELS
from cloud_gateway.tunnels.registry import TunnelRegistry
from cloud_gateway.web import CLOCK

__all__ = ["setup"]


def setup(app: web.Application) -> None:
    """Register the tunnel area (needs STORE, CLOCK, CONFIG, DEVICE_CA, ENTITLEMENT_POLICY)."""
    registry = TunnelRegistry(app[STORE], app[CLOCK], lambda: app[ENTITLEMENT_POLICY])
    app[TUNNELS] = registry
    enrol_routes.setup(app)
    app.router.add_get("/tunnel/v1", tunnel_v1, name="tunnel_v1")

    async def close_tunnels(_app: web.Application) -> None:
        await registry.close_all()

    app.on_shutdown.append(close_tunnels)
