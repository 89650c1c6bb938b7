"""Routes of the portal area (its services come from the composition root)."""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.portal import pages, pages_account, pages_lan, pages_sharing, texts

__all__ = ["setup"]


def setup(app: web.Application) -> None:
    """Register the portal's texts and pages."""
    texts.register()
    pages.setup(app)
    pages_account.setup(app)
    pages_sharing.setup(app)
    pages_lan.setup(app)
