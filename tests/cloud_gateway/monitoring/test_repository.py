"""MonitoringRepository on SQLite and PostgreSQL: settings, alerts, forecast cache, figures."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from cloud_gateway.errors import ConflictError
from cloud_gateway.monitoring.alert_rules import AlertSettings
from cloud_gateway.monitoring.alert_state import AlertKey, AlertRule, OpenAlert
from cloud_gateway.monitoring.daylight import Daylight, SunUp
from cloud_gateway.monitoring.repository import CachedForecast, MonitoringRepository
from cloud_gateway.monitoring.repository_figures import FiguresRepository
from cloud_gateway.plants.access import TrialPolicy
from cloud_gateway.plants.day_energy import local_day
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.store import Store
from cloud_gateway.telemetry.ingest import TelemetryIngest
from tests.cloud_gateway.plants.helpers import account, agent, plant, reading
from tunnel.clock import ManualClock


async def test_settings_round_trip_with_overrides_and_defaults(
    store: Store, clock: ManualClock
) -> None:
    anna = await account(store, clock, "anna")
    mine, other = await plant(store, clock, anna), await plant(store, clock, anna, "Stall")
    repo = store.repo(MonitoringRepository)
    custom = AlertSettings(
        no_data_after=timedelta(minutes=45), below_best_share=None, below_forecast_share=0.6
    )
    await repo.save_settings(mine.id, custom, muted=True, now=clock.now())
    await repo.save_settings(mine.id, custom, muted=False, now=clock.now())  # replaces
    override = AlertSettings(no_data_after=None)
    await repo.save_settings(mine.id, override, muted=False, now=clock.now(), inverter_id=7)
    configs = await repo.configs()
    assert configs[mine.id].settings == custom
    assert configs[mine.id].muted is False
    assert configs[mine.id].inverters == {7: override}
    assert other.id not in configs


async def test_one_open_alert_per_key_and_closing_keeps_history(
    store: Store, clock: ManualClock
) -> None:
    anna = await account(store, clock, "anna")
    mine = await plant(store, clock, anna)
    repo = store.repo(MonitoringRepository)
    key = AlertKey(plant_id=mine.id, inverter_id=1, rule=AlertRule.NO_DATA)
    alert = OpenAlert(key=key, opened_at=clock.now(), value=4000.0, threshold=3600.0)
    async with store.transaction() as uow:
        await repo.write_changes(uow.connection, {}, {key: alert}, {})
    assert await repo.open_alerts() == {key: alert}
    with pytest.raises(ConflictError):
        async with store.transaction() as uow:
            await repo.write_changes(uow.connection, {}, {key: alert}, {})
    later = clock.advance(timedelta(minutes=5))
    streak = OpenAlert(
        key=key, opened_at=alert.opened_at, value=4000.0, threshold=3600.0, clear_since=later
    )
    async with store.transaction() as uow:
        await repo.write_changes(uow.connection, {key: alert}, {key: streak}, {})
    assert await repo.open_alerts() == {key: streak}
    async with store.transaction() as uow:
        await repo.write_changes(uow.connection, {key: streak}, {}, {key: (later, "recovered")})
    assert await repo.open_alerts() == {}
    [stored] = await repo.history(mine.id)
    assert (stored.closed_at, stored.close_reason, stored.opened_at) == (
        later,
        "recovered",
        alert.opened_at,
    )


async def test_forecast_cache_round_trip(store: Store, clock: ManualClock) -> None:
    anna = await account(store, clock, "anna")
    mine = await plant(store, clock, anna)
    repo = store.repo(MonitoringRepository)
    now = clock.now()
    cached = CachedForecast(
        day=date(2026, 1, 15),
        plant_wh=1234.5,
        inverters_wh={1: 600.0, 2: 634.5},
        curve=((now, 0.0), (now + timedelta(minutes=5), 250.0)),
        daylight=Daylight(intervals=(SunUp(start=now, end=now + timedelta(hours=8)),)),
    )
    await repo.save_forecast(mine.id, cached, now)
    await repo.save_forecast(mine.id, cached, now)  # a second computation replaces
    assert await repo.forecasts(date(2026, 1, 15), with_curve=True) == {mine.id: cached}
    # the rounds read the energies and the sun only
    assert await repo.forecasts(date(2026, 1, 15)) == {mine.id: replace(cached, curve=())}
    assert await repo.forecasts(date(2026, 1, 16)) == {}


async def test_figures_match_the_energy_core(store: Store, clock: ManualClock) -> None:
    anna = await account(store, clock, "anna")
    mine = await plant(store, clock, anna)
    inverters = store.repo(InverterRepository)
    one = await inverters.add(
        plant_id=mine.id, account_id=anna.id, serial="SN-1", name="", now=clock.now()
    )
    two = await inverters.add(
        plant_id=mine.id, account_id=anna.id, serial="SN-2", name="", now=clock.now()
    )
    device = await agent(store, clock, anna)
    ingest = TelemetryIngest(store, clock, access=TrialPolicy(), topic_prefix=None)
    t0 = clock.now()
    seq = 0
    for minute in range(61):
        seq += 1
        at = t0 + timedelta(minutes=minute)
        await ingest.ingest(device, seq, reading("SN-1", at, 1000.0, 5000.0 + 10 * minute))
        if minute >= 40:  # SN-2 only from minute 40: the 30-minute window is not covered
            seq += 1
            await ingest.ingest(device, seq, reading("SN-2", at, 1000.0, 100.0 + 20 * minute))
    now = t0 + timedelta(minutes=60)
    figures = await store.repo(FiguresRepository).figures(
        local_day(now), now - timedelta(minutes=30)
    )
    assert figures[one.id].window_wh == 300.0
    assert figures[one.id].day_wh == 600.0
    assert figures[one.id].last_at == now
    assert figures[two.id].window_wh is None
    assert figures[two.id].day_wh == 400.0
    # read one inverter per query (a round pages through the fleet): the same figures
    for page in (1, 2):
        paged = await store.repo(FiguresRepository).figures(
            local_day(now), now - timedelta(minutes=30), page=page
        )
        assert paged == figures
