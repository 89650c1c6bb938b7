"""Chromium: the inverter page's live panel follows a producing simulated inverter, no reload."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from cloud_gateway.http.formats import format_number
from cloud_gateway.plants.access import TrialPolicy
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.telemetry.ingest import TelemetryIngest
from inverter_agent.inverter import SunSpecInverter
from inverter_agent.readings import Reading, encode_payload
from simulator.inverter.device import SimulatedInverter
from simulator.inverter.physics import ArrayDesign
from simulator.inverter.readings import Identity
from simulator.inverter.sun import Site as SimSite
from tests.cloud_gateway.monitoring.test_live_details import (
    OVER_TEMPERATURE,
    SimulatorBus,
    agent_poll,
)
from tests.cloud_gateway.plants.helpers import agent
from tests.cloud_gateway.plants.test_api import code, logged_in
from tests.support.browser import chromium_context
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock, SystemClock

SERIAL = "SW240000001"


@pytest.mark.browser
async def test_live_values_update_while_the_inverter_produces(tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, SystemClock()) as gw:
        store = gw.gateway.store
        anna = await gw.create_account("anna")
        async with logged_in(gw, "anna") as api:
            _, plant = await api.call("POST", "/api/v1/plants", {"name": "Scheune"})
            body = {"serial": SERIAL, "activation_code": code(SERIAL), "name": "Dach"}
            _, inv = await api.call("POST", f"/api/v1/plants/{plant['id']}/inverters", body)
        assert await store.repo(InverterRepository).serial_registered(SERIAL)
        # the simulated inverter lives on a summer morning of its own (the sun is up there)
        sim_clock = ManualClock(datetime(2025, 6, 21, 7, 0, tzinfo=UTC))
        device = SimulatedInverter(
            unit_id=1,
            identity=Identity(
                manufacturer="Sonnwerk", model="SW 5K", options="", version="1", serial=SERIAL
            ),
            design=ArrayDesign(rated_power=5000),
            site=SimSite(latitude=52.52, longitude=13.405, tilt=30, azimuth=180),
            clock=sim_clock,
            lifetime_wh=1_000_000,
        )
        ingest = TelemetryIngest(store, gw.clock, access=TrialPolicy(), topic_prefix=None)
        agent_device = await agent(store, gw.clock, anna)
        polled = SunSpecInverter(SimulatorBus(device), 1)
        seq = 0

        async def produce(minutes: int) -> Reading:
            """The agent's poll of the simulated registers, through the ingest."""
            nonlocal seq
            sim_clock.advance(timedelta(minutes=minutes))
            sent = await agent_poll(polled, sim_clock.now())
            seq += 1
            await ingest.ingest(agent_device, seq, encode_payload(sent))
            return sent

        first_w = (await produce(1)).w
        assert first_w is not None
        async with chromium_context() as ctx:
            page = await ctx.new_page()
            await page.goto(gw.url + "login")
            await page.fill("input[name=login]", "anna")
            await page.fill("input[name=password]", "Sonnig!2026")
            await page.click("button[type=submit]")
            await page.wait_for_url("**/portal")
            await page.goto(f"{gw.url}plants/{plant['id']}/inverters/{inv['id']}")
            await page.wait_for_function(
                "w => document.querySelector('#live-power').textContent === w",
                arg=format_number(first_w, 0, "de"),  # the page's language: German
            )
            await page.evaluate("window.__sameDocument = true")
            for hour in range(2):  # the sun climbs: each reading shows, in the same document
                if hour == 1:
                    device.set_event(OVER_TEMPERATURE)
                sent = await produce(60)
                assert sent.w is not None
                assert sent.wh is not None
                assert sent.tmp_snk is not None
                await page.wait_for_function(
                    "w => document.querySelector('#live-power').textContent === w",
                    arg=format_number(sent.w, 0, "de"),
                    timeout=20_000,
                )
                total = format_number(sent.wh / 1000, 1, "de")
                assert await page.inner_text("#live-total") == total
                await page.wait_for_function(
                    "t => document.querySelector('#live-temp-heat-sink').textContent === t",
                    arg=format_number(sent.tmp_snk, 1, "de"),
                )
                assert await page.locator("#live-mppt tr").count() == len(sent.mppt) == 2
            # the over-temperature event shows, with its time, without a reload
            await page.wait_for_selector(
                f"#live-events li[data-code='{OVER_TEMPERATURE}'][data-active='true']"
            )
            assert "Übertemperatur" in await page.inner_text("#live-events")
            assert await page.evaluate("window.__sameDocument") is True
            assert int(await page.get_attribute("#live-panel", "data-points") or 0) == 3
            assert await page.locator("#live-panel svg polyline").count() == 1


@pytest.mark.browser
async def test_the_forecast_chart_steps_through_days(tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, SystemClock()) as gw:
        await gw.create_account("anna")
        async with logged_in(gw, "anna") as api:
            fields = {
                "name": "Scheune",
                "latitude": 52.52,
                "longitude": 13.405,
                "tilt_deg": 30,
                "azimuth_deg": 180,
                "module_area_m2": 27.5,
            }
            _, plant = await api.call("POST", "/api/v1/plants", fields)
            body = {"serial": SERIAL, "activation_code": code(SERIAL), "name": "Dach"}
            await api.call("POST", f"/api/v1/plants/{plant['id']}/inverters", body)
        async with chromium_context() as ctx:
            page = await ctx.new_page()
            await page.goto(gw.url + "login")
            await page.fill("input[name=login]", "anna")
            await page.fill("input[name=password]", "Sonnig!2026")
            await page.click("button[type=submit]")
            await page.wait_for_url("**/portal")
            await page.goto(f"{gw.url}plants/{plant['id']}/alerts")
            today = await page.get_attribute("#forecast-chart", "data-day")
            assert today is not None
            await page.wait_for_selector(f"#forecast-chart[data-loaded='{today}']")
            assert await page.locator("#forecast-chart polyline.forecast").count() == 1
            await page.click("#forecast-chart [data-step='-1']")
            yesterday = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
            await page.wait_for_selector(f"#forecast-chart[data-loaded='{yesterday}']")
            assert await page.inner_text("#forecast-chart [data-day]") == yesterday
            # the plant page has the same chart, starting at the gateway's today
            await page.goto(f"{gw.url}plants/{plant['id']}")
            await page.wait_for_selector(f"#forecast-chart[data-loaded='{today}']")
            await page.click("#forecast-chart [data-step='1']")
            tomorrow = (date.fromisoformat(today) + timedelta(days=1)).isoformat()
            await page.wait_for_selector(f"#forecast-chart[data-loaded='{tomorrow}']")
            assert await page.locator("#forecast-chart polyline.forecast").count() == 1
