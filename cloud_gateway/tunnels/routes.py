"""Routes of the tunnel area: enrolment API and page, ``/tunnel/v1``."""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.tunnels import enrol_routes
from cloud_gateway.tunnels.endpoint import tunnel_v1

__all__ = ["setup"]


def setup(app: web.Application) -> None:
    """Register the tunnel area's routes (the registry comes from the composition root)."""
    enrol_routes.setup(app)
    app.router.add_get("/tunnel/v1", tunnel_v1, name="tunnel_v1")
