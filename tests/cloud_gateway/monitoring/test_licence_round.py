"""R-MON-16 in the alert round: only plants with a current trial or licence window alert.

The gateway's policy (``LicencePlantAccess`` over the entitlements service) decides every plant
of a round from ONE query; a plant whose window ends has its open alerts closed (reason
``unlicensed``, no mail) and alerts no more; a plant without a window never alerts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.entitlements.windows import Subject
from cloud_gateway.monitoring.alert_state import AlertReason, AlertRule, EventType
from cloud_gateway.monitoring.repository import MonitoringRepository
from cloud_gateway.monitoring.service import AlertService
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.plants.licence_access import LicencePlantAccess
from cloud_gateway.store import Store
from tests.cloud_gateway.monitoring.helpers import local
from tests.cloud_gateway.monitoring.test_service import DAY, SETTINGS, fleet, run
from tunnel.clock import ManualClock


@contextmanager
def window_queries(store: Store) -> Iterator[list[str]]:
    """The statements that read the entitlement windows while the block runs."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "entitlement_windows" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    engine = store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def test_only_plants_with_a_current_window_alert_decided_in_one_query(
    store: Store,
) -> None:
    # both plants activated 41 days ago: their 40-day trials are over
    clock = ManualClock(local(DAY, 10) - timedelta(days=41))
    f = await fleet(store, clock)
    lapsed, [lapsed_inv] = await f.add_plant("Alt", range(1, 2))
    granted, [granted_inv] = await f.add_plant("Lizenz", range(2, 3))
    clock.set(local(DAY, 10))
    repo = store.repo(MonitoringRepository)
    for p in (lapsed, granted):
        await repo.save_settings(p.id, SETTINGS, muted=False, now=clock.now())
    entitlements = EntitlementService(store, clock)
    # "Lizenz" holds a window until 11:30 today; "Alt" none
    await entitlements.grant(
        actor_account_id=f.owner.id,
        subject=Subject.PLANT,
        subject_id=granted.id,
        start=local(DAY, 0),
        end=local(DAY, 11, 30),
        note="test",
    )
    f.devices[lapsed_inv.serial].set_offline()
    f.devices[granted_inv.serial].set_offline()
    alerts = AlertService(store, clock, LicencePlantAccess(entitlements), topic_prefix="cc")

    with window_queries(store) as queries:
        report = await alerts.evaluate(clock.now())
    assert report.plants == 2
    assert len(queries) == 1  # every plant of the round decided by one query
    # never heard from since their activation: the licensed plant's inverter alerts at once,
    # the lapsed one does not, then or later
    assert [e.type for e in report.events] == [EventType.OPENED]
    assert await run(f, alerts, local(DAY, 11)) == []
    [key] = await repo.open_alerts()
    assert (key.plant_id, key.inverter_id, key.rule) == (
        granted.id,
        granted_inv.id,
        AlertRule.NO_DATA,
    )
    assert len(await store.repo(OutboxRepository).list_recent()) == 1

    # the window ends at 11:30: the open alert closes (no mail) and none opens again
    assert await run(f, alerts, local(DAY, 11, 29)) == []
    clock.advance(timedelta(minutes=1))
    report = await alerts.evaluate(clock.now())
    assert [(e.type, e.reason, e.notify) for e in report.events] == [
        (EventType.CLOSED, AlertReason.UNLICENSED, False)
    ]
    assert await run(f, alerts, local(DAY, 14)) == []
    assert await repo.open_alerts() == {}
    assert await repo.history(lapsed.id) == []
    [ended] = await repo.history(granted.id)
    assert ended.close_reason == "unlicensed"
    assert len(await store.repo(OutboxRepository).list_recent()) == 1  # only the opening mail
