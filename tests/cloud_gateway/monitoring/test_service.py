"""AlertService on SQLite and PostgreSQL with the simulator's inverters and the injected clock.

Every simulated minute the agent's poll reads each inverter that answers and the readings go
through the real ingest into the store; the service then runs its round from the store.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise

from cloud_gateway.accounts.model import Account
from cloud_gateway.config import SmtpConfig
from cloud_gateway.devices.model import Device
from cloud_gateway.monitoring.alert_rules import AlertSettings
from cloud_gateway.monitoring.alert_state import AlertRule, EventType
from cloud_gateway.monitoring.repository import MonitoringRepository
from cloud_gateway.monitoring.service import AlertService, RoundReport
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.notify.worker import MailWorker
from cloud_gateway.plants.access import PlantAccess, TrialPolicy
from cloud_gateway.plants.model import Inverter, Plant, PlantFields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.store import Store
from cloud_gateway.telemetry.ingest import TelemetryIngest
from cloud_gateway.telemetry.repository_outbox import MqttOutboxRepository
from simulator.inverter.device import SimulatedInverter
from simulator.inverter.physics import ArrayDesign
from simulator.inverter.readings import Identity
from simulator.inverter.sun import Site as SimSite
from tests.cloud_gateway.monitoring.helpers import AZIMUTH, LAT, LON, RATED_W, TILT, local
from tests.cloud_gateway.plants.helpers import account, agent, reading
from tests.support.smtp import RecordingSmtp
from tunnel.clock import ManualClock

DAY = date(2026, 6, 21)
SETTINGS = AlertSettings(
    no_data_after=timedelta(minutes=30),
    below_best_share=0.2,
    below_best_window=timedelta(minutes=30),
)


@dataclass
class Fleet:
    """Plants with simulated inverters, fed through the real ingest minute by minute."""

    store: Store
    clock: ManualClock
    owner: Account
    device: Device
    ingest: TelemetryIngest
    devices: dict[str, SimulatedInverter]
    seq: int = 0

    async def add_plant(self, name: str, units: range) -> tuple[Plant, list[Inverter]]:
        fields = PlantFields(
            name=name,
            latitude=LAT,
            longitude=LON,
            tilt_deg=TILT,
            azimuth_deg=AZIMUTH,
            module_area_m2=len(units) * 5.5 / 0.2,
        )
        created = await self.store.repo(PlantRepository).create(
            self.owner.id, fields, self.clock.now()
        )
        added = []
        for unit in units:
            serial = f"SW24{unit:07d}"
            self.devices[serial] = SimulatedInverter(
                unit_id=unit,
                identity=Identity(
                    manufacturer="Sonnwerk", model="SW 5K", options="", version="1", serial=serial
                ),
                design=ArrayDesign(rated_power=RATED_W),
                site=SimSite(latitude=LAT, longitude=LON, tilt=TILT, azimuth=AZIMUTH),
                clock=self.clock,
                lifetime_wh=1_000_000 * unit,
            )
            added.append(
                await self.store.repo(InverterRepository).add(
                    plant_id=created.id,
                    account_id=self.owner.id,
                    serial=serial,
                    name=f"WR {unit}",
                    now=self.clock.now(),
                )
            )
        return created, added

    async def poll(self) -> None:
        """The agent's poll: every inverter that answers sends one reading."""
        for serial, inverter in self.devices.items():
            if inverter.offline:
                continue
            now = self.clock.now()
            values = inverter.readings()
            self.seq += 1
            payload = reading(serial, now, values.ac_power, float(values.energy_wh))
            await self.ingest.ingest(self.device, self.seq, payload)


async def fleet(store: Store, clock: ManualClock) -> Fleet:
    owner = await account(store, clock, "anna")
    return Fleet(
        store=store,
        clock=clock,
        owner=owner,
        device=await agent(store, clock, owner),
        ingest=TelemetryIngest(store, clock, access=TrialPolicy(), topic_prefix=None),
        devices={},
    )


def service(store: Store, clock: ManualClock) -> AlertService:
    return AlertService(store, clock, TrialPolicy(), topic_prefix="cc")


async def run(
    f: Fleet, alerts: AlertService, until: datetime, step: timedelta = timedelta(minutes=1)
) -> list[EventType]:
    """Poll and evaluate every ``step`` up to ``until``; the events of the rounds."""
    events: list[EventType] = []
    while f.clock.now() < until:
        f.clock.advance(step)
        await f.poll()
        report = await alerts.evaluate(f.clock.now())
        events.extend(e.type for e in report.events)
    return events


def _smtp(server: RecordingSmtp) -> SmtpConfig:
    return SmtpConfig(host=server.host, port=server.port, sender="Gateway <noreply@portal.test>")


async def test_each_alert_opens_once_mails_once_survives_a_restart_and_closes(
    db_url: str, store: Store, smtp_server: RecordingSmtp
) -> None:
    # an unlicensed plant: its trial began 41 days ago and ended
    clock = ManualClock(local(DAY, 10) - timedelta(days=41))
    f = await fleet(store, clock)
    lapsed, lapsed_inverters = await f.add_plant("Alt", range(11, 13))
    clock.set(local(DAY, 10))
    mine, (one, two, _three) = await f.add_plant("Scheune", range(1, 4))
    repo = store.repo(MonitoringRepository)
    await repo.save_settings(mine.id, SETTINGS, muted=False, now=clock.now())
    await repo.save_settings(lapsed.id, SETTINGS, muted=False, now=clock.now())
    f.devices[one.serial].set_offline()
    f.devices[two.serial].set_output_loss(40)
    f.devices[lapsed_inverters[0].serial].set_offline()
    f.devices[lapsed_inverters[1].serial].set_output_loss(40)
    alerts = service(store, clock)

    events = await run(f, alerts, local(DAY, 11, 15))

    assert events == [EventType.OPENED, EventType.OPENED]
    opened = await repo.open_alerts()
    assert {(k.plant_id, k.inverter_id, k.rule) for k in opened} == {
        (mine.id, one.id, AlertRule.NO_DATA),
        (mine.id, two.id, AlertRule.BELOW_BEST),
    }
    mails = await store.repo(OutboxRepository).list_recent()
    assert [m.recipient for m in mails] == ["anna@example.org"] * 2
    assert all("Scheune" in m.subject for m in mails)
    assert await store.repo(MqttOutboxRepository).count() == 2
    worker = MailWorker(store.repo(OutboxRepository), _smtp(smtp_server), clock)
    assert await worker.deliver_pending() == 2
    sent = await smtp_server.wait_for(2)
    assert sorted(m["Subject"] for m in sent) == [
        "Alarm: Scheune, WR 1: Keine Daten",
        "Alarm: Scheune, WR 2: Weniger Ertrag als der beste Wechselrichter",
    ]

    # a restart: a new store and a new service continue from the stored alerts
    await store.close()
    reopened = await Store.open(db_url, run_migrations=False)
    try:
        f.store = reopened
        f.ingest = TelemetryIngest(reopened, clock, access=TrialPolicy(), topic_prefix=None)
        alerts = service(reopened, clock)
        assert await run(f, alerts, local(DAY, 11, 30)) == []
        assert await reopened.repo(MonitoringRepository).open_alerts() == opened

        f.devices[one.serial].set_offline(False)
        f.devices[two.serial].set_output_loss(0)
        events = await run(f, alerts, local(DAY, 12, 30))
        assert events == [EventType.CLOSED, EventType.CLOSED]
        repo = reopened.repo(MonitoringRepository)
        assert await repo.open_alerts() == {}
        history = await repo.history(mine.id)
        assert sorted(a.close_reason or "" for a in history) == ["recovered", "recovered"]
        assert [a.opened_at for a in history if a.rule is AlertRule.NO_DATA] == [
            opened[next(k for k in opened if k.rule is AlertRule.NO_DATA)].opened_at
        ]
        assert await repo.history(lapsed.id) == []
        assert len(await reopened.repo(OutboxRepository).list_recent()) == 4
        worker = MailWorker(reopened.repo(OutboxRepository), _smtp(smtp_server), clock)
        assert await worker.deliver_pending() == 2  # the closing mails, nothing twice
        sent = await smtp_server.wait_for(4)
        assert [m["Subject"].strip().split(":")[0] for m in sent[2:]] == [
            "Entwarnung",
            "Entwarnung",
        ]
        # two opened (retained), two closed each followed by an empty retained message
        assert await reopened.repo(MqttOutboxRepository).count() == 6
    finally:
        await reopened.close()


async def test_no_data_waits_for_sunrise_and_a_muted_plant_does_not_mail(store: Store) -> None:
    clock = ManualClock(local(DAY, 22))
    f = await fleet(store, clock)
    mine, inverters = await f.add_plant("Scheune", range(1, 3))
    await store.repo(MonitoringRepository).save_settings(
        mine.id, SETTINGS, muted=True, now=clock.now()
    )
    for inv in inverters:
        f.devices[inv.serial].set_offline()
    alerts = service(store, clock)
    tomorrow = DAY + timedelta(days=1)
    # all night: silence, but the sun is down (sunrise in Berlin about 04:44)
    assert await run(f, alerts, local(tomorrow, 5), step=timedelta(minutes=10)) == []
    events = await run(f, alerts, local(tomorrow, 5, 40), step=timedelta(minutes=5))
    assert events == [EventType.OPENED, EventType.OPENED]
    [first, _] = (await store.repo(MonitoringRepository).open_alerts()).values()
    assert local(tomorrow, 5, 14) <= first.opened_at <= local(tomorrow, 5, 25)
    assert await store.repo(OutboxRepository).list_recent() == []
    assert await store.repo(MqttOutboxRepository).count() == 0


async def test_the_scheduler_runs_a_round_each_minute_on_the_clock(store: Store) -> None:
    clock = ManualClock(local(DAY, 12) + timedelta(seconds=20))
    f = await fleet(store, clock)
    mine, [inv] = await f.add_plant("Scheune", range(1, 2))
    await store.repo(MonitoringRepository).save_settings(
        mine.id, SETTINGS, muted=False, now=clock.now()
    )
    reports: asyncio.Queue[RoundReport] = asyncio.Queue()
    alerts = AlertService(
        store, clock, TrialPolicy(), topic_prefix=None, on_round=reports.put_nowait
    )
    task = asyncio.create_task(alerts.run())
    try:
        instants = [(await asyncio.wait_for(reports.get(), 30)).at]
        # never heard from since its activation: 30 sun-up minutes after 12:00:20 no_data opens
        for minute in range(1, 32):
            clock.set(local(DAY, 12, minute))
            report = await asyncio.wait_for(reports.get(), 30)
            instants.append(report.at)
        assert report.open_alerts == 1
        assert [e.key.inverter_id for e in report.events] == [inv.id]
        # one round per minute, on the minute after the first
        assert instants[1] == local(DAY, 12, 1)
        assert all(b - a == timedelta(minutes=1) for a, b in pairwise(instants[1:]))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class _FailsOnce:
    """A plant access policy whose first answer is an unexpected error (not a GatewayError)."""

    def __init__(self) -> None:
        self.failed = asyncio.Event()

    async def decide(self, plant: Plant, at: datetime) -> PlantAccess:
        if not self.failed.is_set():
            self.failed.set()
            raise RuntimeError("a bug somewhere below")
        return await TrialPolicy().decide(plant, at)


async def test_a_failed_round_is_logged_and_the_next_one_runs(store: Store) -> None:
    clock = ManualClock(local(DAY, 12))
    f = await fleet(store, clock)
    await f.add_plant("Scheune", range(1, 2))
    reports: asyncio.Queue[RoundReport] = asyncio.Queue()
    policy = _FailsOnce()
    alerts = AlertService(store, clock, policy, topic_prefix=None, on_round=reports.put_nowait)
    task = asyncio.create_task(alerts.run())
    try:
        await asyncio.wait_for(policy.failed.wait(), 30)  # the first round failed
        clock.set(local(DAY, 12, 1))
        report = await asyncio.wait_for(reports.get(), 30)
        assert report.at == local(DAY, 12, 1)
        assert report.plants == 1
        assert not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
