"""The portal page of one inverter: rename, swap for a replacement, delete; tenants and CSRF."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cloud_gateway.plants.test_api import code, logged_in
from tests.support.browser import chromium_context
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock, SystemClock


async def test_rename_swap_and_delete_with_clear_errors(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        await gw.create_account("bert")
        async with logged_in(gw, "anna") as anna:
            _, plant = await anna.call("POST", "/api/v1/plants", {"name": "Scheune"})
            pid = plant["id"]
            body = {"serial": "SN-OLD-1", "activation_code": code("SN-OLD-1"), "name": "Dach"}
            _, inv = await anna.call("POST", f"/api/v1/plants/{pid}/inverters", body)
            page = f"/plants/{pid}/inverters/{inv['id']}"
            async with anna.http.get(f"/plants/{pid}") as resp:
                assert f'href="{page}"' in await resp.text()  # the list links to the page
            form = {"csrf_token": anna.token}

            async with anna.http.post(page + "/edit", data={**form, "name": "Süddach"}) as resp:
                assert resp.status == 200  # after the redirect
                html = await resp.text()
                assert '<dd id="inverter-name">Süddach</dd>' in html
                assert 'id="inverter-notice"' in html
            async with anna.http.post(page + "/edit", data={**form, "name": "x" * 101}) as resp:
                assert resp.status == 422
                assert 'id="rename-error"' in await resp.text()

            wrong = {**form, "serial": "SN-NEW-2", "activation_code": "AAAAA-AAAAA"}
            async with anna.http.post(page + "/swap", data=wrong) as resp:
                assert resp.status == 422
                html = await resp.text()
                assert 'id="swap-error"' in html
                assert 'value="SN-NEW-2"' in html  # what was typed stays in the form
            _, still = await anna.call("GET", f"/api/v1/inverters/{inv['id']}")
            assert still["serial"] == "SN-OLD-1"

            right = {**form, "serial": "SN-NEW-2", "activation_code": code("SN-NEW-2")}
            async with anna.http.post(page + "/swap", data=right) as resp:
                assert resp.status == 200
                html = await resp.text()
                assert '<span id="inverter-serial">SN-NEW-2</span>' in html
                swapped_page = resp.url.path
            _, inverters = await anna.call("GET", f"/api/v1/plants/{pid}/inverters")
            assert [(i["serial"], i["name"]) for i in inverters["inverters"]] == [
                ("SN-NEW-2", "Süddach")
            ]

            async with anna.http.post(swapped_page + "/delete", data={}) as resp:
                assert resp.status == 403  # no CSRF token, nothing deleted
            async with gw.client() as bert_http:
                await gw.login(bert_http, "bert")
                async with bert_http.get(swapped_page) as resp:
                    assert resp.status == 404  # another account's inverter does not exist
            async with anna.http.get(f"/plants/{pid + 1000}/inverters/{inv['id']}") as resp:
                assert resp.status == 404  # the inverter is not under that plant

            async with anna.http.post(swapped_page + "/delete", data=form) as resp:
                assert resp.status == 200  # first the question, nothing deleted yet
                assert 'id="confirm-question"' in await resp.text()
            _, inverters = await anna.call("GET", f"/api/v1/plants/{pid}/inverters")
            assert len(inverters["inverters"]) == 1
            confirmed = {**form, "confirmed": "yes"}
            async with anna.http.post(swapped_page + "/delete", data=confirmed) as resp:
                assert resp.status == 200
                assert resp.url.path == f"/plants/{pid}"
                assert 'id="plant-notice"' in await resp.text()
            _, inverters = await anna.call("GET", f"/api/v1/plants/{pid}/inverters")
            assert inverters["inverters"] == []


@pytest.mark.browser
async def test_installer_renames_an_inverter_in_chromium(tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, SystemClock()) as gw:
        await gw.create_account("anna")
        async with logged_in(gw, "anna") as anna:
            _, plant = await anna.call("POST", "/api/v1/plants", {"name": "Scheune"})
            body = {"serial": "SN-7", "activation_code": code("SN-7")}
            await anna.call("POST", f"/api/v1/plants/{plant['id']}/inverters", body)
        async with chromium_context() as ctx:
            page = await ctx.new_page()
            await page.goto(gw.url + "login")
            await page.fill("input[name=login]", "anna")
            await page.fill("input[name=password]", "Sonnig!2026")
            await page.click("button[type=submit]")
            await page.wait_for_url("**/portal")
            await page.goto(f"{gw.url}plants/{plant['id']}")
            await page.click("#inverters >> text=SN-7")
            await page.fill("#rename-inverter input[name=name]", "Garage")
            await page.click("#rename-inverter button[type=submit]")
            await page.wait_for_selector("#inverter-notice")
            assert await page.inner_text("#inverter-name") == "Garage"
            assert await page.inner_text("#inverter-notice") == "Bezeichnung gespeichert."
