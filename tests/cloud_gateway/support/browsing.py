"""Helpers of the portal's browser tests: log in, and the 390 px check."""

from __future__ import annotations

from playwright.async_api import Page

__all__ = ["log_in", "no_horizontal_scroll"]


async def no_horizontal_scroll(page: Page) -> None:
    """The page is no wider than a 390 px phone."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide"


async def log_in(page: Page, base: str, login: str, password: str = "Sonnig!2026") -> None:
    """Log in through the form at a phone's width and land on the overview."""
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(base + "login")
    await page.fill("input[name=login]", login)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/portal")
