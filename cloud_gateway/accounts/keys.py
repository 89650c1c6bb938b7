"""Typed application keys of the accounts area."""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.accounts.customers import CustomerService
from cloud_gateway.accounts.openapi import OpenApi
from cloud_gateway.accounts.service import AccountService

__all__ = ["ACCOUNTS", "CUSTOMERS", "OPENAPI", "openapi"]

ACCOUNTS: web.AppKey[AccountService] = web.AppKey("accounts", AccountService)
"""Registration, login with lockout, password reset and change."""
CUSTOMERS: web.AppKey[CustomerService] = web.AppKey("customers", CustomerService)
"""Customer data and VAT ID checks."""
OPENAPI: web.AppKey[OpenApi] = web.AppKey("openapi", OpenApi)
"""Descriptions of ``/api/v1`` operations: ``app[OPENAPI].add(method, path, operation)``."""


def openapi(app: web.Application) -> OpenApi:
    """The app's OpenAPI registry, created on first use."""
    if OPENAPI not in app:
        app[OPENAPI] = OpenApi("CloudConnector gateway API", "1")
    return app[OPENAPI]
