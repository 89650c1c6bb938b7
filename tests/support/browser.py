"""Debian's chromium driven by Playwright (no browser download: ``executable_path``)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from playwright.async_api import Browser, BrowserContext, async_playwright

__all__ = ["CHROMIUM", "chromium_browser", "chromium_context"]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP *.localhost 127.0.0.1",
]


@asynccontextmanager
async def chromium_context() -> AsyncIterator[BrowserContext]:
    """A fresh headless browser profile that accepts the test CA's certificates."""
    async with async_playwright() as pw:
        browser: Browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=_ARGS
        )
        try:
            context = await browser.new_context(ignore_https_errors=True, locale="de-DE")
            try:
                yield context
            finally:
                await context.close()
        finally:
            await browser.close()


@asynccontextmanager
async def chromium_browser() -> AsyncIterator[Browser]:
    """One headless browser for several contexts (``new_context(ignore_https_errors=True)``)."""
    async with async_playwright() as pw:
        browser: Browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()
