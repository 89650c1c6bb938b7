"""Helpers for the account flow tests: a gateway that mails to the recording SMTP server."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from pathlib import Path

import aiohttp

from cloud_gateway.config import GatewayConfig, SmtpConfig
from tests.support.gateway import GatewayHarness, gateway_harness
from tests.support.smtp import RecordingSmtp
from tunnel.clock import Clock

__all__ = ["PASSWORD", "link_path", "mailing_gateway", "register"]

PASSWORD = "Sonnig!2026"
_LINK = re.compile(r"https://[^/\s]+(/\S+)")


@asynccontextmanager
async def mailing_gateway(
    tmp_path: Path, db_url: str, clock: Clock, smtp: RecordingSmtp
) -> AsyncIterator[GatewayHarness]:
    """A real gateway whose outbox worker delivers to ``smtp``."""
    config = GatewayConfig(smtp=SmtpConfig(host=smtp.host, port=smtp.port, poll_interval_s=60.0))
    async with gateway_harness(tmp_path, db_url, clock, config) as gw:
        yield gw


def link_path(message: EmailMessage) -> str:
    """The path and query of the first link in a mail."""
    match = _LINK.search(message.get_content())
    assert match, message.get_content()
    return match.group(1)


async def register(
    gw: GatewayHarness,
    http: aiohttp.ClientSession,
    username: str,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    accept: bool = True,
) -> aiohttp.ClientResponse:
    """Fill in and send the registration form."""
    token = await gw.form_token(http, "/register")
    data = {
        "csrf_token": token,
        "username": username,
        "email": email or f"{username}@example.org",
        "password": password,
        "password2": password,
    }
    if accept:
        data |= {"accept_terms": "1", "accept_privacy": "1"}
    async with http.post("/register", data=data) as resp:
        await resp.read()
        return resp
