"""Typed application keys shared by every area of the gateway."""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.config import GatewayConfig
from cloud_gateway.store import Store

__all__ = ["CONFIG", "PASSWORDS", "STORE"]

CONFIG: web.AppKey[GatewayConfig] = web.AppKey("config", GatewayConfig)
STORE: web.AppKey[Store] = web.AppKey("store", Store)
PASSWORDS: web.AppKey[PasswordHasher] = web.AppKey("passwords", PasswordHasher)
