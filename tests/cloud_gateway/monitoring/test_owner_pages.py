"""The owner's alert settings, open alerts, live and forecast JSON through the running gateway."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cloud_gateway.monitoring.alert_state import AlertKey, AlertRule, OpenAlert
from cloud_gateway.monitoring.repository import MonitoringRepository
from cloud_gateway.plants.access import TrialPolicy
from cloud_gateway.telemetry.ingest import TelemetryIngest
from tests.cloud_gateway.plants.helpers import agent, reading
from tests.cloud_gateway.plants.test_api import code, logged_in
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock


async def test_settings_alerts_live_and_forecast(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        store = gw.gateway.store
        anna = await gw.create_account("anna")
        await gw.create_account("bert")
        async with logged_in(gw, "anna") as api:
            _, plant = await api.call(
                "POST",
                "/api/v1/plants",
                {
                    "name": "Scheune",
                    "latitude": 52.52,
                    "longitude": 13.405,
                    "tilt_deg": 30,
                    "azimuth_deg": 180,
                    "module_area_m2": 27.5,
                },
            )
            pid = plant["id"]
            body = {"serial": "SN-1", "activation_code": code("SN-1"), "name": "Dach"}
            _, inv = await api.call("POST", f"/api/v1/plants/{pid}/inverters", body)
            device = await agent(store, clock, anna)
            ingest = TelemetryIngest(store, clock, access=TrialPolicy(), topic_prefix=None)
            t0 = clock.now()  # 2026-01-15 09:00 UTC, 10:00 in Berlin
            for minute in range(0, 15, 5):
                at = t0 + timedelta(minutes=minute)
                payload = reading("SN-1", at, 1000.0 + minute, 50_000.0 + minute * 10)
                await ingest.ingest(device, minute + 1, payload)
            clock.advance(timedelta(minutes=11))

            live_url = f"/plants/{pid}/inverters/{inv['id']}/live.json"
            status, live = await api.call("GET", live_url)
            assert status == 200
            assert (live["power_w"], live["energy_total_wh"], live["energy_today_wh"]) == (
                1010.0,
                50_100.0,
                100.0,
            )
            assert live["at"] == (t0 + timedelta(minutes=10)).isoformat()

            status, day = await api.call("GET", f"/plants/{pid}/forecast.json?date=2026-01-15")
            assert status == 200
            assert day["forecast"][0][1] == 0.0  # midnight: no sun
            assert max(w for _, w in day["forecast"]) > 1000
            assert [w for _, w in day["measured"]] == [1000.0, 1005.0, 1010.0]

            page = f"/plants/{pid}/alerts"
            form = {
                "csrf_token": await gw.form_token(api.http, page),
                "no_data_after_min": "45",
                "below_best_pct": "25",
                "below_best_window_min": "30",
                "min_irradiance": "150",
                "below_forecast_pct": "",
                "muted": "on",
            }
            async with api.http.post(page, data=form) as resp:
                assert resp.status == 200  # after the redirect
                html = await resp.text()
                assert 'id="alerts-notice"' in html
                assert 'name="no_data_after_min" inputmode="numeric" value="45"' in html
            config = (await store.repo(MonitoringRepository).configs([pid]))[pid]
            assert config.muted
            assert config.settings.below_best_share == 0.25
            assert config.settings.below_forecast_share is None
            async with api.http.post(page, data={**form, "below_best_pct": "150"}) as resp:
                assert resp.status == 422

            key = AlertKey(plant_id=pid, inverter_id=inv["id"], rule=AlertRule.NO_DATA)
            alert = OpenAlert(key=key, opened_at=t0, value=3000.0, threshold=2700.0)
            async with store.transaction() as uow:
                await store.repo(MonitoringRepository).write_changes(
                    uow.connection, {}, {key: alert}, {}
                )
            async with api.http.get(page) as resp:
                html = await resp.text()
                assert 'id="open-alerts"' in html
                assert "Keine Daten" in html
            _, opened = await api.call("GET", f"/plants/{pid}/alerts.json")
            assert [(a["rule"], a["opened_at"]) for a in opened["open"]] == [
                ("no_data", t0.isoformat())
            ]
            async with api.http.get(f"/plants/{pid}") as resp:
                plant_page = await resp.text()
                assert 'data-alerts-url="/plants/' in plant_page
            async with api.http.get(f"/plants/{pid}/inverters/{inv['id']}") as resp:
                assert f'data-live-url="{live_url}"' in await resp.text()

        async with logged_in(gw, "bert") as bert:
            assert (await bert.call("GET", live_url))[0] == 404
            assert (await bert.call("GET", f"/plants/{pid}/alerts.json"))[0] == 404
            assert (await bert.call("GET", f"/plants/{pid}/forecast.json"))[0] == 404
            async with bert.http.get(page) as resp:
                assert resp.status == 404
