"""The common layout: navigation and the logged-in account on every page, styled error pages
in the reader's language, legal pages before registration, Babel formats (over real TLS)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from aiohttp import web
from pytest_aiohttp.plugin import AiohttpClient

from cloud_gateway.config import GatewayConfig, PortalConfig
from cloud_gateway.errors import AccessDeniedError, NotFoundError
from cloud_gateway.http.chrome import page_chrome
from cloud_gateway.http.formats import format_cents, format_date, format_datetime, format_number
from cloud_gateway.http.keys import CONFIG, TEMPLATES
from cloud_gateway.http.pages import make_templates
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.plants.repository import PlantRepository
from tests.cloud_gateway.portal.support import accept_terms, logged_in, text_of
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock


def test_formats_follow_the_reader_and_berlin_time() -> None:
    assert format_number(1234.5, 1, "de") == "1.234,5"
    assert format_number(1234.5, 1, "en") == "1,234.5"
    assert format_cents(123456, "de") == "1.234,56\xa0€"
    assert format_cents(5, "en") == "€0.05"
    assert format_date(date(2026, 3, 29), "de") == "29.03.2026"
    # 00:30 UTC on the DST Sunday is 01:30 in Berlin; 01:30 UTC is already 03:30 (CEST)
    assert format_datetime(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "de") == "29.03.2026, 01:30"
    assert format_datetime(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "en") == "29/03/2026, 03:30"
    # an instant just before midnight UTC is the next day in Berlin
    assert format_date(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "de") == "01.01.2027"


async def test_every_page_shows_navigation_and_who_is_logged_in(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        anna = await gw.create_account("anna")
        await accept_terms(gw, anna.id)
        plant = await gw.gateway.store.repo(PlantRepository).create(
            anna.id, PlantFields(name="Dach"), clock.now()
        )
        async with logged_in(gw, "anna") as anna_browser:
            # every area's pages, also those rendered from an area's own templates
            for path in ("/", "/portal", "/portal/devices", "/plants", "/portal/account",
                         "/portal/sharing", "/legal/impressum", "/password/change",
                         "/portal/products", "/portal/invoices", "/portal/tickets",
                         "/portal/repairs", "/portal/customer", "/shop/products", "/shop/cart",
                         f"/plants/{plant.id}", f"/plants/{plant.id}/licence",
                         "/licences/buy"):  # fmt: skip
                async with anna_browser.http.get(path) as resp:
                    html = await resp.text()
                assert resp.status == 200, path
                assert 'id="logged-in-as"' in html, path
                assert "Angemeldet als anna" in text_of(html), path
                for href in ('href="/portal"', 'href="/portal/devices"', 'href="/plants"',
                             'href="/shop/products"', 'href="/portal/account"'):  # fmt: skip
                    assert href in html, (path, href)
        async with gw.client() as anonymous:
            async with anonymous.get("/") as resp:
                html = await resp.text()
            assert 'id="logged-in-as"' not in html
            assert 'href="/login"' in html
            assert 'href="/register"' in html


@pytest.mark.parametrize(
    ("lang", "title"), [("de", "Seite nicht gefunden"), ("en", "Page not found")]
)
async def test_styled_404_in_the_readers_language(
    tmp_path: Path, clock: ManualClock, lang: str, title: str
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db, clock) as gw, gw.client() as http:
        async with http.get("/gibt-es-nicht", headers={"Accept-Language": lang}) as resp:
            html = await resp.text()
        assert resp.status == 404
        assert resp.content_type == "text/html"
        assert f"<h1>{title}</h1>" in html
        assert 'href="/static/site.css"' in html  # the common layout
        async with http.get("/api/v1/plants/abc") as resp:
            assert resp.content_type == "application/json"  # the API keeps its JSON errors


async def test_forms_without_token_get_a_styled_403(tmp_path: Path, clock: ManualClock) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db, clock) as gw:
        anna = await gw.create_account("anna")
        await accept_terms(gw, anna.id)
        async with logged_in(gw, "anna", "en") as browser:
            async with browser.http.post("/portal/account/bank", data={"iban": "x"}) as resp:
                html = await resp.text()
            assert resp.status == 403
            assert "Access denied" in text_of(html)
            assert "Logged in as anna" in text_of(html)


async def test_a_crashing_page_gets_a_styled_500_without_details(
    tmp_path: Path, clock: ManualClock
) -> None:
    # a legal text that is not UTF-8 makes the page fail on reading
    (tmp_path / "legal").mkdir()
    (tmp_path / "legal" / "impressum.de.txt").write_bytes(b"\xff\xfe kaputt")
    config = GatewayConfig(portal=PortalConfig(legal_dir=tmp_path / "legal"))
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db, clock, config) as gw, gw.client() as http:
        async with http.get("/legal/impressum") as resp:
            html = await resp.text()
        assert resp.status == 500
        assert "Interner Fehler" in html
        assert "Traceback" not in html
        assert "UnicodeDecodeError" not in html


async def test_legal_pages_are_public_linked_from_registration_and_operator_editable(
    tmp_path: Path, clock: ManualClock
) -> None:
    own = tmp_path / "legal"
    own.mkdir()
    (own / "impressum.de.txt").write_text("# Impressum der Stadtwerke\n\nMusterweg 5\n")
    config = GatewayConfig(portal=PortalConfig(legal_dir=own))
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db, clock, config) as gw, gw.client() as http:
        async with http.get("/register") as resp:
            register = await resp.text()
        for href in ("/legal/agb", "/legal/datenschutz", "/legal/impressum"):
            assert f'href="{href}"' in register
        async with http.get("/legal/impressum") as resp:
            text = text_of(await resp.text())
        assert "Impressum der Stadtwerke" in text
        assert "Musterweg 5" in text
        # not in the operator's folder: the shipped text, in English when asked
        async with http.get("/legal/datenschutz?lang=en") as resp:
            assert "Privacy policy" in text_of(await resp.text())
        async with http.get("/legal/agb?lang=de") as resp:  # the choice sticks in a cookie
            html = await resp.text()
        assert resp.status == 200
        assert "Allgemeine Geschäftsbedingungen" in html
        async with http.get("/legal/unbekannt") as resp:
            assert resp.status == 404


async def test_domain_errors_on_pages_are_the_404_page(aiohttp_client: AiohttpClient) -> None:
    async def missing(_request: web.Request) -> web.Response:
        raise NotFoundError("no plant 7")

    async def foreign(_request: web.Request) -> web.Response:
        raise AccessDeniedError("plant 8 is another tenant's")

    app = web.Application(middlewares=[page_chrome])
    app[CONFIG] = GatewayConfig()
    app[TEMPLATES] = make_templates()
    app.router.add_get("/missing", missing)
    app.router.add_get("/foreign", foreign)
    client = await aiohttp_client(app)
    for path in ("/missing", "/foreign"):
        async with client.get(path, headers={"Accept-Language": "en"}) as resp:
            html = await resp.text()
        assert resp.status == 404
        assert "<h1>Page not found</h1>" in html
        assert "plant" not in text_of(html).lower()  # nothing about the object leaks
