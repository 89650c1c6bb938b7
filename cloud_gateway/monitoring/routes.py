"""Routes of the monitoring area: texts, public pages, owner pages and live JSON."""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.monitoring import web_owner, web_public, web_texts

__all__ = ["setup"]


def setup(app: web.Application) -> None:
    """Register the area's texts and routes (services from the composition root)."""
    web_texts.register()
    web_public.setup(app)
    web_owner.setup(app)
