"""The plants API and pages on the real gateway over TLS: tenants, codes, uploads, 402."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from openpyxl import Workbook

from cloud_gateway.config import GatewayConfig, PlantsConfig
from cloud_gateway.http.keys import INVERTER_REGISTRATION, TELEMETRY_INGEST
from cloud_gateway.plants.activation import expected_code
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.plants.repository_readings import ReadingRepository
from simulator.inverter.activation import DEMO_MANUFACTURER_KEY
from tests.cloud_gateway.plants.helpers import agent, reading
from tests.support.gateway import GatewayHarness, gateway_harness
from tunnel.clock import ManualClock


def code(serial: str) -> str:
    return expected_code(serial, DEMO_MANUFACTURER_KEY)


class Api:
    """A logged-in browser talking JSON with the session's CSRF token."""

    def __init__(self, http: aiohttp.ClientSession, token: str) -> None:
        self.http, self.token = http, token

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.token}
        async with self.http.request(method, path, json=body, headers=headers) as resp:
            data = await resp.json() if resp.content_type == "application/json" else None
            return resp.status, data


@asynccontextmanager
async def logged_in(gw: GatewayHarness, name: str) -> AsyncIterator[Api]:
    async with gw.client() as http:
        await gw.login(http, name)
        yield Api(http, await gw.form_token(http, "/plants/new"))


async def test_plants_and_inverters_through_the_api_with_tenant_checks(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        await gw.create_account("bert")
        async with logged_in(gw, "anna") as anna:
            status, plant = await anna.call(
                "POST", "/api/v1/plants", {"name": "Scheune", "feed_in_tariff_ct": "8.11"}
            )
            assert status == 201
            assert plant["feed_in_tariff_ct"] == "8.110"
            pid = plant["id"]
            assert (await anna.call("POST", "/api/v1/plants", {"name": ""}))[0] == 422
            status, body = await anna.call(
                "POST",
                f"/api/v1/plants/{pid}/inverters",
                {"serial": "SN-1", "activation_code": "AAAAA-AAAAA"},
            )
            assert (status, body["error"]) == (422, "wrong_activation_code")
            status, inv = await anna.call(
                "POST",
                f"/api/v1/plants/{pid}/inverters",
                {"serial": "sn-1", "activation_code": code("SN-1")},
            )
            assert (status, inv["serial"], inv["counted_power_w"]) == (201, "SN-1", 20_000)
            status, body = await anna.call(
                "POST",
                f"/api/v1/plants/{pid}/inverters",
                {"serial": "SN-1", "activation_code": code("SN-1")},
            )
            assert (status, body["error"]) == (409, "serial_taken")
            status, swapped = await anna.call(
                "POST",
                f"/api/v1/inverters/{inv['id']}/swap",
                {"serial": "SN-2", "activation_code": code("SN-2")},
            )
            assert (status, swapped["id"], swapped["serial"]) == (200, inv["id"], "SN-2")
            status, renamed = await anna.call(
                "PATCH", f"/api/v1/inverters/{inv['id']}", {"name": "Ost"}
            )
            assert (status, renamed["name"]) == (200, "Ost")
            anna.token = "forged"
            assert (await anna.call("DELETE", f"/api/v1/plants/{pid}"))[0] == 403
        async with logged_in(gw, "bert") as bert:
            for method, path, body in [
                ("GET", f"/api/v1/plants/{pid}", None),
                ("PUT", f"/api/v1/plants/{pid}", {"name": "mine now"}),
                ("DELETE", f"/api/v1/plants/{pid}", None),
                ("GET", f"/api/v1/plants/{pid}/live", None),
                ("GET", f"/api/v1/plants/{pid}/readings", None),
                (
                    "POST",
                    f"/api/v1/plants/{pid}/inverters",
                    {"serial": "SN-9", "activation_code": code("SN-9")},
                ),
                ("GET", f"/api/v1/inverters/{inv['id']}", None),
                ("DELETE", f"/api/v1/inverters/{inv['id']}", None),
                ("GET", f"/api/v1/inverters/{inv['id']}/readings", None),
            ]:
                assert (await bert.call(method, path, body))[0] == 404, (method, path)
            assert await bert.call("GET", "/api/v1/plants") == (200, {"plants": []})
            async with bert.http.get(f"/plants/{pid}", allow_redirects=False) as page:
                assert page.status == 404
        async with gw.client() as anonymous, anonymous.get("/api/v1/plants") as resp:
            assert resp.status == 401


async def test_guessing_codes_is_rate_limited_per_account(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        async with logged_in(gw, "anna") as anna:
            _, plant = await anna.call("POST", "/api/v1/plants", {"name": "P"})
            path = f"/api/v1/plants/{plant['id']}/inverters"
            for _ in range(5):
                status, _ = await anna.call(
                    "POST", path, {"serial": "SN-1", "activation_code": "AAAAA-AAAAA"}
                )
                assert status == 422
            right = {"serial": "SN-1", "activation_code": code("SN-1")}
            status, body = await anna.call("POST", path, right)
            assert (status, body["error"], body["retry_after_s"]) == (429, "rate_limited", 900)
            clock.advance(timedelta(minutes=15, seconds=1))
            await gw.login(anna.http, "anna")
            anna.token = await gw.form_token(anna.http, "/plants/new")
            assert (await anna.call("POST", path, right))[0] == 201


async def test_guessing_codes_is_rate_limited_per_source_address_across_accounts(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    """One address cannot multiply its guesses by opening accounts; another address (and so
    every other owner) is not locked out by it: there is no global limit."""
    config = GatewayConfig(plants=PlantsConfig(max_wrong_codes=2, max_wrong_codes_per_source=3))
    wrong = {"serial": "SN-1", "activation_code": "AAAAA-AAAAA"}
    async with gateway_harness(tmp_path, db_url, clock, config) as gw:
        await gw.create_account("anna")
        bert_id = (await gw.create_account("bert")).id
        async with logged_in(gw, "anna") as anna, logged_in(gw, "bert") as bert:
            _, anna_plant = await anna.call("POST", "/api/v1/plants", {"name": "A"})
            _, bert_plant = await bert.call("POST", "/api/v1/plants", {"name": "B"})
            anna_path = f"/api/v1/plants/{anna_plant['id']}/inverters"
            bert_path = f"/api/v1/plants/{bert_plant['id']}/inverters"
            assert [(await anna.call("POST", anna_path, wrong))[0] for _ in range(2)] == [422] * 2
            assert (await bert.call("POST", bert_path, wrong))[0] == 422
            # bert has one wrong code of his own, but this address has used up its three
            right = {"serial": "SN-2", "activation_code": code("SN-2")}
            status, body = await bert.call("POST", bert_path, right)
            assert (status, body["error"]) == (429, "rate_limited")
        registration = gw.gateway.runner.app[INVERTER_REGISTRATION]
        added = await registration.add(
            account_id=bert_id,
            plant_id=bert_plant["id"],
            serial="SN-2",
            code=code("SN-2"),
            source_address="192.0.2.7",
        )
        assert added.serial == "SN-2"


async def test_unlicensed_plant_data_is_402_but_still_stored(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        owner = await gw.create_account("anna")
        store = gw.gateway.store
        ingest = gw.gateway.runner.app[TELEMETRY_INGEST]
        device = await agent(store, clock, owner)
        async with logged_in(gw, "anna") as anna:
            _, plant = await anna.call("POST", "/api/v1/plants", {"name": "P"})
            pid = plant["id"]
            status, body = await anna.call("GET", f"/api/v1/plants/{pid}/live")
            assert (status, body["error"], body["plant_id"]) == (402, "payment_required", pid)
            assert isinstance(body["reason"], str)
            assert body["reason"]
            await anna.call(
                "POST",
                f"/api/v1/plants/{pid}/inverters",
                {"serial": "SN-1", "activation_code": code("SN-1")},
            )
            t0 = clock.now()
            await ingest.ingest(device, 1, reading("SN-1", t0, 800.0, 5000.0))
            await ingest.ingest(
                device, 2, reading("SN-1", t0 + timedelta(minutes=5), 1200.0, 5100.0)
            )
            clock.advance(timedelta(minutes=6))
            status, live = await anna.call("GET", f"/api/v1/plants/{pid}/live")
            assert (status, live["power_w"], live["energy_today_wh"]) == (200, 1200.0, 100.0)
            status, rows = await anna.call("GET", f"/api/v1/plants/{pid}/readings")
            assert [r["power_w"] for r in rows["readings"]] == [800.0, 1200.0]
            async with anna.http.get(f"/plants/{pid}") as page:
                html = await page.text()
            assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in html
            assert 'id="plant-power">1.200 W' in html  # German grouping
        clock.advance(timedelta(days=41))
        await ingest.ingest(device, 3, reading("SN-1", clock.now(), 300.0, 9000.0))
        assert await store.repo(ReadingRepository).count_for_serial("SN-1") == 3
        async with logged_in(gw, "anna") as anna:
            status, body = await anna.call("GET", f"/api/v1/plants/{pid}/live")
            assert (status, body["error"]) == (402, "payment_required")
            assert body["reason"]
            assert (await anna.call("GET", f"/api/v1/plants/{pid}/readings"))[0] == 402
            assert (await anna.call("GET", f"/api/v1/plants/{pid}"))[0] == 200
            async with anna.http.get(f"/plants/{pid}") as page:
                html = await page.text()
            assert 'id="unlicensed" data-reason="' in html
            assert "<svg" not in html


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_spreadsheet_upload_keeps_good_rows_and_explains_bad_ones(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        owner = await gw.create_account("anna")
        async with logged_in(gw, "anna") as anna:
            _, plant = await anna.call("POST", "/api/v1/plants", {"name": "P"})
            pid = plant["id"]
            for ext in ("csv", "xlsx"):
                async with anna.http.get(f"/plants/inverter-template.{ext}") as resp:
                    assert resp.status == 200
                    assert "wechselrichter" in resp.headers["Content-Disposition"]
            csv_text = (
                "Seriennummer;Aktivierungscode;Name\n"
                f"SN-1;{code('SN-1')};Ost\nSN-2;AAAAA-AAAAA;\n;{code('X')};\n"
            )
            xlsx = _xlsx(
                [
                    ["Serial number", "Activation code"],
                    ["SN-3", code("SN-3")],
                    ["SN-1", code("SN-1")],
                    ["SN-4", "kaputt"],
                ]
            )
            for name, data, added, refused in [
                (
                    "liste.csv",
                    csv_text.encode(),
                    ["SN-1"],
                    [("3", "wrong_code"), ("4", "missing_serial")],
                ),
                ("liste.xlsx", xlsx, ["SN-3"], [("3", "taken"), ("4", "malformed_code")]),
            ]:
                form = aiohttp.FormData()
                form.add_field("csrf_token", anna.token)
                form.add_field("file", data, filename=name)
                async with anna.http.post(f"/plants/{pid}/inverters/upload", data=form) as resp:
                    assert resp.status == 200
                    html = await resp.text()
                for serial in added:
                    assert f"<li>{serial}</li>" in html
                for line, reason in refused:
                    assert f'<tr data-reason="{reason}"><td>{line}</td>' in html
        serials = [
            i.serial
            for i in await gw.gateway.store.repo(InverterRepository).list_for_plant(pid, owner.id)
        ]
        assert serials == ["SN-1", "SN-3"]
