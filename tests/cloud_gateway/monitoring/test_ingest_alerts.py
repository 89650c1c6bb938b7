"""Alerts evaluated on ingest: a "no data" alert closes with the reading that ends it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

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


async def test_derating_is_decided_by_the_round_for_every_plant_alike(store: Store) -> None:
    """A reading that ends a silence decides "no data" only: a derating that began meanwhile
    opens with the next round, in the plant with the silent inverter and in one without."""
    clock = ManualClock(local(DAY, 10))
    f = await fleet(store, clock)
    scheune, [silent, derated_a, _ok_a] = await f.add_plant("Scheune", range(1, 4))
    garage, [derated_b, _ok_b] = await f.add_plant("Garage", range(4, 6))
    repo = store.repo(MonitoringRepository)
    for p in (scheune, garage):
        await repo.save_settings(p.id, SETTINGS, muted=False, now=clock.now())
    reports: asyncio.Queue[RoundReport] = asyncio.Queue()
    alerts = AlertService(
        store, clock, TrialPolicy(), topic_prefix=None, on_round=reports.put_nowait
    )
    f.ingest.reading_listeners.append(alerts.readings_arrived)
    f.devices[silent.serial].set_offline()
    assert await run(f, alerts, local(DAY, 10, 40)) == [EventType.OPENED]

    # both plants lose 40 % on one inverter for a whole comparison window, no round between
    for inv in (derated_a, derated_b):
        f.devices[inv.serial].set_output_loss(40)
    while clock.now() < local(DAY, 10, 40) + SETTINGS.below_best_window:
        clock.advance(timedelta(minutes=1))
        await f.poll()
    assert reports.empty()

    # the silent inverter answers: its alert closes on ingest, nothing else is decided there
    f.devices[silent.serial].set_offline(False)
    clock.advance(timedelta(seconds=5))
    await f.poll()
    report = await asyncio.wait_for(reports.get(), 30)
    await alerts.close()
    assert [(e.type, e.key.inverter_id, e.key.rule) for e in report.events] == [
        (EventType.CLOSED, silent.id, AlertRule.NO_DATA)
    ]
    assert await repo.open_alerts() == {}

    # the round decides the derating of both plants at the same instant
    round_report = await alerts.evaluate(clock.now())
    assert sorted((e.type, e.key.inverter_id, e.key.rule) for e in round_report.events) == [
        (EventType.OPENED, derated_a.id, AlertRule.BELOW_BEST),
        (EventType.OPENED, derated_b.id, AlertRule.BELOW_BEST),
    ]
