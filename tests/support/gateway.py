"""A real gateway on loopback with real TLS, and a browser-like HTTPS client for it."""

from __future__ import annotations

import re
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import aiohttp

from cloud_gateway.accounts.model import Account, Role
from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.config import DatabaseConfig, GatewayConfig
from cloud_gateway.entitlements.api import DeviceEntitlementPolicy
from cloud_gateway.server import RunningGateway, start_gateway
from tunnel.clock import Clock

__all__ = ["GatewayHarness", "Portal", "PortalAt", "form_token", "gateway_harness", "portal_login"]

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Portal(Protocol):
    """What enrolment and browsers need of a gateway (one node, or a fleet behind HAProxy)."""

    @property
    def url(self) -> str: ...

    @property
    def ssl_context(self) -> ssl.SSLContext: ...

    async def login(
        self, http: aiohttp.ClientSession, login: str, password: str = "Sonnig!2026"
    ) -> aiohttp.ClientResponse: ...

    async def form_token(self, http: aiohttp.ClientSession, path: str) -> str: ...


@dataclass
class PortalAt:
    """The portal as a browser sees it at one address (HAProxy or one node)."""

    url: str
    ssl_context: ssl.SSLContext

    async def login(
        self, http: aiohttp.ClientSession, login: str, password: str = "Sonnig!2026"
    ) -> aiohttp.ClientResponse:
        return await portal_login(http, login, password)

    async def form_token(self, http: aiohttp.ClientSession, path: str) -> str:
        return await form_token(http, path)


@dataclass
class GatewayHarness:
    """A started gateway plus helpers to act like a browser against it."""

    gateway: RunningGateway
    clock: Clock
    ssl_context: ssl.SSLContext
    passwords: PasswordHasher

    @property
    def url(self) -> str:
        return self.gateway.url

    def client(self) -> aiohttp.ClientSession:
        """A fresh browser: its own cookie jar, trusting the gateway's CA."""
        return aiohttp.ClientSession(
            base_url=self.url,
            connector=aiohttp.TCPConnector(ssl=self.ssl_context),
            cookie_jar=aiohttp.CookieJar(),
        )

    async def create_account(
        self, username: str, password: str = "Sonnig!2026", role: Role = Role.CUSTOMER
    ) -> Account:
        return await self.gateway.store.repo(AccountRepository).create(
            username=username,
            email=f"{username}@example.org",
            password_hash=self.passwords.hash(password),
            created_at=self.clock.now(),
            role=role,
        )

    @staticmethod
    async def form_token(http: aiohttp.ClientSession, path: str) -> str:
        """GET ``path`` and return the CSRF token of its form."""
        return await form_token(http, path)

    async def login(
        self, http: aiohttp.ClientSession, login: str, password: str = "Sonnig!2026"
    ) -> aiohttp.ClientResponse:
        return await portal_login(http, login, password)


async def form_token(http: aiohttp.ClientSession, path: str) -> str:
    """GET ``path`` and return the CSRF token of its form."""
    async with http.get(path) as resp:
        match = _CSRF.search(await resp.text())
    assert match, f"no csrf_token on {path}"
    return match.group(1)


async def portal_login(
    http: aiohttp.ClientSession, login: str, password: str = "Sonnig!2026"
) -> aiohttp.ClientResponse:
    """Log in through the portal's form (``http`` has the portal as its base URL)."""
    token = await form_token(http, "/login")
    async with http.post(
        "/login",
        data={"csrf_token": token, "login": login, "password": password, "next": "/portal"},
    ) as resp:
        await resp.read()
        return resp


@asynccontextmanager
async def gateway_harness(
    tmp_path: Path,
    db_url: str,
    clock: Clock,
    config: GatewayConfig | None = None,
    *,
    entitlements: DeviceEntitlementPolicy | None = None,
) -> AsyncIterator[GatewayHarness]:
    """Start a gateway on port 0 with its own state folder and the given database."""
    base = config or GatewayConfig()
    config = replace(
        base,
        state_dir=tmp_path / "gateway",
        http=replace(base.http, port=0),
        database=DatabaseConfig(url=db_url),
        # the public demo manufacturer key unless the test brings its own
        plants=replace(base.plants, demo_activation_key=True),
    )
    gateway = await start_gateway(config, clock, entitlements=entitlements)
    assert gateway.tls.ca_cert is not None
    ctx = ssl.create_default_context(cafile=str(gateway.tls.ca_cert))
    try:
        yield GatewayHarness(gateway, clock, ctx, PasswordHasher())
    finally:
        await gateway.stop()
