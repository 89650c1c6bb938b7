"""Routes of the plants area: texts, API and portal pages."""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.plants import api_data, texts, views

__all__ = ["setup"]


def setup(app: web.Application) -> None:
    """Register the area's texts, API and portal routes (services from the composition root)."""
    texts.register()
    api_data.setup(app)
    views.setup(app)
