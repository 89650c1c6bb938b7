"""Routes of the support area and the portal pages that combine areas."""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.operator.console import add_console_routes
from cloud_gateway.support import console_pages, operator_api, pages, portal

__all__ = ["setup"]


def setup(app: web.Application) -> None:
    """Register the portal pages and the operator's JSON routes."""
    pages.setup(app)
    portal.setup(app)
    operator_api.setup(app)
    add_console_routes(app, console_pages.ROUTES)
