"""Helpers of the portal tests: a logged-in browser-like client with the session's token."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp

from cloud_gateway.accounts.repository_security import AccountSecurityRepository
from cloud_gateway.billing.documents import view_from_canonical
from cloud_gateway.billing.rendering import render_xml
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.store import Store
from tests.support.einvoice import validate_cii
from tests.support.gateway import GatewayHarness

__all__ = ["Browser", "accept_terms", "checked_documents", "logged_in", "text_of"]

_TAGS = re.compile(r"<[^>]+>")


def text_of(html: str) -> str:
    """The visible text of a page, roughly (tags removed, whitespace folded)."""
    return " ".join(_TAGS.sub(" ", html).split())


@dataclass
class Browser:
    """A logged-in client and the CSRF token of its session."""

    http: aiohttp.ClientSession
    token: str


async def accept_terms(gw: GatewayHarness, account_id: int) -> None:
    """Accept the current terms for ``account_id`` (as registration does)."""
    store = gw.gateway.store
    repo = store.repo(AccountSecurityRepository)
    documents = await repo.current_documents()
    async with store.engine.begin() as conn:
        await repo.accept(conn, account_id, documents, gw.clock.now())


@asynccontextmanager
async def logged_in(gw: GatewayHarness, login: str, lang: str = "de") -> AsyncIterator[Browser]:
    """A fresh client logged in as ``login``, speaking ``lang``."""
    async with gw.client() as http:
        http.headers["Accept-Language"] = lang
        response = await gw.login(http, login)
        assert response.status == 200, response.status
        yield Browser(http, await gw.form_token(http, "/portal"))


async def checked_documents(store: Store) -> set[str]:
    """The numbers of every stored document, each checked against EN 16931 (XSD+schematron)."""
    repo = store.repo(BillingRepository)
    async with repo.transaction() as conn:
        documents = await repo.documents(conn)
    for document in documents:
        xml = render_xml(view_from_canonical(document.canonical.encode()))
        await asyncio.to_thread(validate_cii, xml)
    return {d.number for d in documents}
