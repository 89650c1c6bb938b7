"""The owner's side of enrolment for fleets: a browser that logs in and enters pairing codes.

Speaks only the gateway's public portal, as a person at a browser does::

    GET  /login                 → form with csrf_token
    POST /login                 csrf_token, login, password, next
    GET  /portal/devices/pair   → form with csrf_token
    POST /portal/devices/pair   csrf_token, code      (200: claimed, 400: bad code, 429)

One :class:`PortalOwner` keeps one cookie jar (one portal session) for all the codes it
enters; ``simulator fleet`` and ``python -m bench addon`` use it.
"""

from __future__ import annotations

import re
import ssl
from types import TracebackType
from typing import Final, Self

import aiohttp

__all__ = ["PortalError", "PortalOwner"]

_CSRF: Final = re.compile(r'name="csrf_token" value="([^"]+)"')
_TIMEOUT: Final = aiohttp.ClientTimeout(total=30)


class PortalError(Exception):
    """The portal did not accept the login or a pairing code."""


class PortalOwner:
    """A logged-in portal session of the account that claims the devices."""

    def __init__(
        self, base_url: str, ssl_context: ssl.SSLContext, *, login: str, password: str
    ) -> None:
        self._base = base_url.rstrip("/")
        self._ssl = ssl_context
        self._login = login
        self._password = password
        self._http: aiohttp.ClientSession | None = None
        self.claimed = 0
        """Codes the portal accepted."""

    async def __aenter__(self) -> Self:
        self._http = aiohttp.ClientSession(
            base_url=self._base + "/",
            connector=aiohttp.TCPConnector(ssl=self._ssl),
            cookie_jar=aiohttp.CookieJar(),
            timeout=_TIMEOUT,
        )
        try:
            await self._sign_in()
        except BaseException:
            await self._http.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.close()

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            raise RuntimeError("use PortalOwner as an async context manager")
        return self._http

    async def _form_token(self, path: str) -> str:
        async with self._session().get(path) as resp:
            page = await resp.text()
            landed = resp.url.path
        match = _CSRF.search(page)
        if match is None or landed != path:  # sent to the login page: not logged in
            raise PortalError(f"no form on {path} (HTTP {resp.status}, at {landed})")
        return match.group(1)

    async def _sign_in(self) -> None:
        token = await self._form_token("/login")
        form = {"csrf_token": token, "login": self._login, "password": self._password}
        async with self._session().post("/login", data=form | {"next": "/portal"}) as resp:
            await resp.read()
        # The pairing form is only shown to a logged-in account: that is the check.
        try:
            await self._form_token("/portal/devices/pair")
        except PortalError:
            raise PortalError(f"the portal did not accept the login {self._login!r}") from None

    async def claim(self, code: str) -> None:
        """Enter ``code`` on the pairing page; :class:`PortalError` if it is refused."""
        token = await self._form_token("/portal/devices/pair")
        form = {"csrf_token": token, "code": code}
        async with self._session().post("/portal/devices/pair", data=form) as resp:
            await resp.read()
            if resp.status != 200:
                raise PortalError(f"pairing code {code!r} refused (HTTP {resp.status})")
        self.claimed += 1
