"""Telemetry ingest: readings/s from agents to committed-and-ACKed, on SQLite and PostgreSQL.

Path ``ingest-service``: until the bench goes through real tunnels this drives
:class:`TelemetryIngest` directly, the way the gateway's tunnel session does: each of
``agents`` agents hands over one TELEMETRY payload at a time and waits for its return (the
commit, after which the session sends the ACK) before the next: the gateway's inbound worker
runs one device's TELEMETRY callbacks one after another, whatever the device pipelines.

A payload is what the agent's outbox holds per entry (``inverter_agent.agent.encode_batch``):
the JSON array of one bus cycle, one reading per inverter on the bus. Every reading belongs to
a registered inverter of a plant in its trial, so dedup keys, readings, day counters and MQTT
outbox rows (one per inverter per commit) are all written. A second, smaller run sends one
reading per frame (the worst case for per-frame costs).

The raw baseline inserts the same rows (same inverter and device ids, the same stored values)
into the same ``readings`` table with the driver's own ``executemany`` (sqlite3, asyncpg) in one
transaction. The ingest writes PostgreSQL readings with ``COPY``; ``raw_copy_per_s_postgresql``
is COPY of the same rows, for reference.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from cloud_gateway.plants.access import TrialPolicy
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.store import Store
from cloud_gateway.store.devices import Device, DeviceKind
from cloud_gateway.store.schema_plants import inverters
from cloud_gateway.store.telemetry import READING_COLUMNS, sqlite_stamp
from cloud_gateway.telemetry.ingest import TelemetryIngest
from tunnel.clock import ManualClock

__all__ = ["Shape", "run"]

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
_START = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
_RAW_COLUMNS = ", ".join(READING_COLUMNS)


@dataclass(frozen=True, slots=True)
class Shape:
    """How much is sent: ``agents`` x ``cycles`` frames of ``per_frame`` readings each."""

    agents: int
    per_frame: int
    cycles: int

    @property
    def readings(self) -> int:
        return self.agents * self.per_frame * self.cycles


@dataclass(frozen=True, slots=True)
class _Fleet:
    devices: list[Device]
    serials: dict[int, list[tuple[int, str]]]
    """device id -> (inverter id, serial) of the inverters on its bus."""


def _reading(serial: str, n: int) -> dict[str, Any]:
    at = _START + timedelta(seconds=10 * n)
    return {"v": 1, "k": "reading", "sn": serial, "unit": 1, "ts": int(at.timestamp() * 1000),
            "st": "mppt", "w": 1000.0 + n, "wh": 1_000_000.0 + n, "dcw": 1050.0 + n}  # fmt: skip


def _frame(serials: list[tuple[int, str]], n: int) -> bytes:
    """One bus cycle: a JSON array with one reading per inverter, as the agent encodes it."""
    return json.dumps([_reading(s, n) for _i, s in serials], separators=(",", ":")).encode()


async def _prepare(store: Store, clock: ManualClock, shape: Shape) -> _Fleet:
    owner = await store.accounts.create(
        username="bench", email="bench@example.org", password_hash="x", created_at=clock.now()
    )
    plant = await store.plants.create(owner.id, PlantFields(name="Bench"), clock.now())
    devices = [
        await store.devices.create(
            slug=f"bench-{a}",
            kind=DeviceKind.INVERTER_AGENT,
            created_at=clock.now(),
            account_id=owner.id,
        )
        for a in range(shape.agents)
    ]
    # The first inverter through the repository (it starts the plant's trial, so the MQTT
    # outbox is written), the other thousands at once.
    await store.inverters.add(
        plant_id=plant.id, account_id=owner.id, serial="B-0-0", name="", now=clock.now()
    )
    async with store.engine.begin() as conn:
        await conn.execute(
            inverters.insert(),
            [
                {"plant_id": plant.id, "serial": f"B-{a}-{u}", "activated_at": clock.now()}
                for a in range(shape.agents)
                for u in range(shape.per_frame)
                if a or u
            ],
        )
        found = await conn.execute(
            inverters.select().where(inverters.c.plant_id == plant.id).order_by(inverters.c.id)
        )
        ids = {r.serial: r.id for r in found}
    serials = {
        d.id: [(ids[f"B-{a}-{u}"], f"B-{a}-{u}") for u in range(shape.per_frame)]
        for a, d in enumerate(devices)
    }
    return _Fleet(devices, serials)


async def _through_ingest(url: str, shape: Shape) -> tuple[float, _Fleet]:
    clock = ManualClock(_START)
    store = await Store.open(url)
    try:
        fleet = await _prepare(store, clock, shape)
        ingest = TelemetryIngest(store, clock, access=TrialPolicy(), topic_prefix="bench")
        frames = {
            d.id: [_frame(fleet.serials[d.id], n) for n in range(shape.cycles)]
            for d in fleet.devices
        }

        async def agent(device: Device) -> None:
            for seq, payload in enumerate(frames[device.id], 1):
                result = await ingest.ingest(device, seq, payload)
                assert result.stored == shape.per_frame, result

        start = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for device in fleet.devices:
                group.create_task(agent(device), name=f"agent {device.slug}")
        elapsed = time.perf_counter() - start
        await ingest.close()
        stored = await store.readings.count_for_serial(fleet.serials[fleet.devices[0].id][0][1])
        assert stored == shape.cycles, stored
        fanned_out = await store.mqtt_outbox.count()  # at least one state per inverter
        assert fanned_out >= shape.agents * shape.per_frame, fanned_out
    finally:
        await store.close()
    return shape.readings / elapsed, fleet


def _raw_rows(fleet: _Fleet, shape: Shape, *, sqlite_text: bool) -> list[tuple[Any, ...]]:
    """The rows the ingest stored, as the driver takes them."""
    rows = []
    for d in fleet.devices:
        for n in range(shape.cycles):
            at = _START + timedelta(seconds=10 * n)
            stamp: Any = sqlite_stamp(at) if sqlite_text else at
            rows += [
                (i, d.id, s, stamp, 1000.0 + n, 1_000_000.0 + n, 1050.0 + n, "mppt")
                for i, s in fleet.serials[d.id]
            ]
    return rows


def _raw_sqlite(path: Path, rows: list[tuple[Any, ...]]) -> float:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        start = time.perf_counter()
        with conn:
            conn.executemany(
                f"INSERT INTO readings ({_RAW_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)", rows
            )
        return len(rows) / (time.perf_counter() - start)
    finally:
        conn.close()


async def _raw_postgresql(dsn: str, rows: list[tuple[Any, ...]]) -> tuple[float, float]:
    """(executemany, COPY) rows per second."""
    conn = await asyncpg.connect(dsn)
    try:
        start = time.perf_counter()
        async with conn.transaction():
            await conn.executemany(
                f"INSERT INTO readings ({_RAW_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)", rows
            )
        many = len(rows) / (time.perf_counter() - start)
        start = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table("readings", records=rows, columns=READING_COLUMNS)
        copy = len(rows) / (time.perf_counter() - start)
        return many, copy
    finally:
        await conn.close()


async def _sqlite(shape: Shape, *, raw: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        rate, fleet = await _through_ingest(f"sqlite+aiosqlite:///{path}", shape)
        if not raw:
            return {"rate": rate}
        rows = _raw_rows(fleet, shape, sqlite_text=True)
        return {"rate": rate, "raw": await asyncio.to_thread(_raw_sqlite, path, rows)}


async def _postgresql(shape: Shape, *, raw: bool) -> dict[str, float]:
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        rate, fleet = await _through_ingest(
            f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", shape
        )
        if not raw:
            return {"rate": rate}
        many, copy = await _raw_postgresql(
            f"postgresql://postgres@127.0.0.1:5432/{name}",
            _raw_rows(fleet, shape, sqlite_text=False),
        )
    finally:
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
    return {"rate": rate, "raw": many, "raw_copy": copy}


def run(*, smoke: bool) -> dict[str, Any]:
    """Both backends; ``smoke`` uses tiny sizes."""
    shape = Shape(4, 3, 5) if smoke else Shape(250, 20, 40)
    single = Shape(4, 1, 5) if smoke else Shape(250, 1, 80)
    sq = asyncio.run(_sqlite(shape, raw=True))
    pg = asyncio.run(_postgresql(shape, raw=True))
    sq1 = asyncio.run(_sqlite(single, raw=False))
    pg1 = asyncio.run(_postgresql(single, raw=False))
    return {
        "metrics": {
            "path": "ingest-service",
            "agents": shape.agents,
            "readings_per_frame": shape.per_frame,
            "frames_per_agent": shape.cycles,
            "readings": shape.readings,
            "readings_per_s_sqlite": sq["rate"],
            "readings_per_s_postgresql": pg["rate"],
            "raw_per_s_sqlite": sq["raw"],
            "raw_per_s_postgresql": pg["raw"],
            "raw_copy_per_s_postgresql": pg["raw_copy"],
            "one_per_frame_readings": single.readings,
            "one_per_frame_readings_per_s_sqlite": sq1["rate"],
            "one_per_frame_readings_per_s_postgresql": pg1["rate"],
        },
        "ratios": {
            "sqlite_vs_raw": sq["rate"] / sq["raw"],
            "postgresql_vs_raw": pg["rate"] / pg["raw"],
            "postgresql_vs_raw_copy": pg["rate"] / pg["raw_copy"],
        },
    }
