"""Alerts evaluated on ingest: a "no data" alert closes with the reading that ends it."""

from __future__ import annotations

import asyncio

from cloud_gateway.monitoring.alert_state import AlertReason, AlertRule, EventType
from cloud_gateway.monitoring.repository import MonitoringRepository
from cloud_gateway.monitoring.service import AlertService, RoundReport
from cloud_gateway.plants.access import TrialPolicy
from cloud_gateway.store import Store
from tests.cloud_gateway.monitoring.helpers import local
from tests.cloud_gateway.monitoring.test_service import DAY, SETTINGS, fleet, run
from tunnel.clock import ManualClock


async def test_a_reading_closes_its_no_data_alert_without_waiting_for_the_round(
    store: Store,
) -> None:
    clock = ManualClock(local(DAY, 10))
    f = await fleet(store, clock)
    mine, [silent] = await f.add_plant("Scheune", range(1, 2))
    await f.add_plant("Garage", range(2, 3))
    repo = store.repo(MonitoringRepository)
    await repo.save_settings(mine.id, SETTINGS, muted=False, now=clock.now())
    reports: asyncio.Queue[RoundReport] = asyncio.Queue()
    alerts = AlertService(
        store, clock, TrialPolicy(), topic_prefix=None, on_round=reports.put_nowait
    )
    f.ingest.reading_listeners.append(alerts.readings_arrived)
    f.devices[silent.serial].set_offline()
    # rounds called by hand every minute; the ingest wakes nothing while no alert is open
    assert await run(f, alerts, local(DAY, 10, 40)) == [EventType.OPENED]
    assert reports.empty()
    [key] = await repo.open_alerts()
    assert (key.plant_id, key.rule) == (mine.id, AlertRule.NO_DATA)

    # the inverter answers: the poll's ingest evaluates its plant at once, no round called
    f.devices[silent.serial].set_offline(False)
    clock.advance(SETTINGS.below_best_window / 30)
    await f.poll()
    report = await asyncio.wait_for(reports.get(), 30)
    assert report.at == clock.now()
    assert report.plants == 1  # only the plant with an open alert, not "Garage"
    assert [(e.type, e.reason, e.key) for e in report.events] == [
        (EventType.CLOSED, AlertReason.RECOVERED, key)
    ]
    assert await repo.open_alerts() == {}
    [closed] = await repo.history(mine.id)
    assert closed.closed_at == clock.now()

    # no open alert left: further readings evaluate nothing until the next round
    clock.advance(SETTINGS.below_best_window / 30)
    await f.poll()
    await alerts.close()
    assert reports.empty()
