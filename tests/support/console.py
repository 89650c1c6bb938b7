"""Staff logins through the console's second factor, as a browser-like client does them.

The TOTP code is computed with pyotp from the secret the enrolment page shows, at the
injected clock's instant; the clock moves one step on afterwards, so the next login of the
same account (a code works once) gets a fresh code.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Protocol

import aiohttp
import pyotp

from tunnel.clock import ManualClock

__all__ = ["csrf_of", "staff_login", "totp_code"]

_SECRET = re.compile(r'id="totp-secret">([A-Z2-7]+)<')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

SECRETS: dict[str, str] = {}
"""Enrolled secrets by ``<gateway url> <user name>`` (a second login reuses it)."""


class LoginTarget(Protocol):
    """A gateway a test logs in to (the harness, or a node of a fleet test)."""

    @property
    def url(self) -> str: ...

    async def login(self, http: aiohttp.ClientSession, login: str) -> object: ...


def totp_code(secret: str, clock: ManualClock | None) -> str:
    """The code an authenticator app shows at the clock's instant (``None``: now, for a
    gateway process on the system clock)."""
    return pyotp.TOTP(secret).at(clock.now()) if clock is not None else pyotp.TOTP(secret).now()


async def csrf_of(http: aiohttp.ClientSession, path: str = "/console/2fa") -> str:
    """The session's CSRF token from a page's form."""
    async with http.get(path, allow_redirects=True) as resp:
        match = _CSRF.search(await resp.text())
    assert match, f"no csrf_token on {path}"
    return match.group(1)


async def staff_login(
    gw: LoginTarget, http: aiohttp.ClientSession, username: str, clock: ManualClock | None
) -> str:
    """Log a staff account in with password and TOTP (enrolling it the first time);
    returns the session's CSRF token."""
    await gw.login(http, username)
    async with http.get("/console/2fa") as resp:
        page = await resp.text()
    key = f"{gw.url} {username}"
    found = _SECRET.search(page)
    if found:
        SECRETS[key] = found.group(1)
    token = _CSRF.search(page)
    assert token, "no csrf_token on the second-factor page"
    async with http.post(
        "/console/2fa",
        data={
            "csrf_token": token.group(1),
            "code": totp_code(SECRETS[key], clock),
            "next": "/console",
        },
    ) as resp:
        assert resp.status == 200, await resp.text()
    if clock is not None:
        clock.advance(timedelta(seconds=30))
    return token.group(1)
