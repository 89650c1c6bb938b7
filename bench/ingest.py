"""Telemetry ingest: readings/s from agents through tunnels to committed-and-ACKed.

Path ``tunnel`` (the headline numbers): the real gateway runs in its own process
(``bench/_ingest_nodes.py gateway``: TLS, ``/tunnel/v1``, client certificates from its device
CA, the telemetry ingest, the MQTT outbox publisher when a broker listens on 127.0.0.1:1883);
``agents`` inverter agents run in one more process, each a real
:class:`~tunnel.connector.TunnelConnector` with its own certificate, sending its pre-encoded
outbox entries as TELEMETRY frames with at most ``max_in_flight`` waiting for their ACK (as
``inverter_agent/uplink.py`` does). The clock runs from "go" until the last ACK arrived.

A frame is one outbox entry: the JSON array of one bus cycle, one reading per inverter on the
bus, encoded by the agent's own code with every field a three-phase inverter with two MPPT
inputs reports. Every reading belongs to a registered inverter of a plant in its trial, so
dedup keys, readings, day counters and MQTT outbox rows are all written. A second run sends
one reading per frame (the worst case for per-frame costs).

Path ``ingest-service`` (secondary): the same frames handed to :class:`TelemetryIngest` in
this process, one at a time per agent (no TLS, no frames, no second process).

The raw baseline inserts the same rows (same inverter and device ids, the same stored values)
into the same ``readings`` table with the driver's own ``executemany`` (sqlite3, asyncpg) in one
transaction. The ingest writes PostgreSQL readings with ``COPY``; ``raw_copy_per_s_postgresql``
is COPY of the same rows, for reference.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bench._ingest_nodes import CYCLE_MS, UNIT_MS, agent_frames
from bench._proc import node
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.devices.model import Device, DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.plants.access import TrialPolicy
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.plants.schema import inverter_days, inverters, readings
from cloud_gateway.store import Store
from cloud_gateway.telemetry.ingest import TelemetryIngest
from cloud_gateway.telemetry.repository import READING_COLUMNS, sqlite_stamp
from cloud_gateway.telemetry.schema import mqtt_outbox, telemetry_batches
from cloud_gateway.tunnels.device_ca import DeviceCa, serial_hex
from cloud_gateway.tunnels.schema import device_certificates
from tunnel.clock import ManualClock

__all__ = ["Shape", "empty_database", "issue_certificates", "run"]

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
MQTT_BROKER = ("127.0.0.1", 1883)
MAX_IN_FLIGHT = 8
"""Frames an agent keeps unacknowledged (the agent's default ``gateway.max_in_flight``)."""
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

    @property
    def frames(self) -> int:
        return self.agents * self.cycles


@dataclass(frozen=True, slots=True)
class _Fleet:
    devices: list[Device]
    serials: dict[int, list[tuple[int, str]]]
    """device id -> (inverter id, serial) of the inverters on its bus."""
    start_ms: int
    """``ts`` of the first reading of every agent's first cycle."""


def _start_ms(now: datetime, shape: Shape) -> int:
    """Readings of the last ``cycles`` bus cycles before ``now``."""
    ms = int(now.timestamp()) * 1000
    return ms - ms % CYCLE_MS - shape.cycles * CYCLE_MS


async def _prepare(store: Store, now: datetime, shape: Shape) -> _Fleet:
    owner = await store.repo(AccountRepository).create(
        username="bench", email="bench@example.org", password_hash="x", created_at=now
    )
    plant = await store.repo(PlantRepository).create(owner.id, PlantFields(name="Bench"), now)
    devices = [
        await store.repo(DeviceRepository).create(
            slug=f"bench-{a}", kind=DeviceKind.INVERTER_AGENT, created_at=now, account_id=owner.id
        )
        for a in range(shape.agents)
    ]
    # The first inverter through the repository (it starts the plant's trial, so the MQTT
    # outbox is written), the other thousands at once.
    await store.repo(InverterRepository).add(
        plant_id=plant.id, account_id=owner.id, serial="B-0-0", name="", now=now
    )
    async with store.engine.begin() as conn:
        await conn.execute(
            inverters.insert(),
            [
                {"plant_id": plant.id, "serial": f"B-{a}-{u}", "activated_at": now}
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
    return _Fleet(devices, serials, _start_ms(now, shape))


def issue_certificates(
    devices: Sequence[Device], ca: DeviceCa, folder: Path, now: datetime
) -> list[dict[str, Any]]:
    """Key and certificate files (``<slug>.key``, ``<slug>.pem``) of every device; the
    certificates' records for the store."""
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for device in devices:
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device.slug)]))
            .sign(key, hashes.SHA256())
        )
        cert = ca.issue(csr, slug=device.slug, now=now, days=30)
        key_path = folder / f"{device.slug}.key"
        key_path.touch(mode=0o600)
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        (folder / f"{device.slug}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        records.append(
            {
                "serial": serial_hex(cert),
                "device_id": device.id,
                "not_before": cert.not_valid_before_utc,
                "not_after": cert.not_valid_after_utc,
                "issued_at": now,
            }
        )
    return records


async def _enrol(store: Store, fleet: _Fleet, ca: DeviceCa, folder: Path, now: datetime) -> None:
    """Issue each agent a client certificate from the gateway's device CA (key file 0600)."""
    records = await asyncio.to_thread(issue_certificates, fleet.devices, ca, folder, now)
    async with store.engine.begin() as conn:
        await conn.execute(device_certificates.insert(), records)


def _frames(fleet: _Fleet, shape: Shape) -> dict[int, list[bytes]]:
    return {
        d.id: agent_frames([s for _i, s in fleet.serials[d.id]], shape.cycles, fleet.start_ms)
        for d in fleet.devices
    }


async def _counts(store: Store) -> dict[str, int]:
    async with store.engine.connect() as conn:
        return {
            table.name: int(await conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
            for table in (readings, telemetry_batches, inverter_days, mqtt_outbox)
        }


def _check(counts: dict[str, int], shape: Shape, *, outbox_kept: bool) -> None:
    """Every reading stored once, every frame's key, day counters and fan-out written."""
    assert counts["readings"] == shape.readings, counts
    assert counts["telemetry_batches"] == shape.frames, counts
    assert counts["inverter_days"] >= shape.agents * shape.per_frame, counts
    if outbox_kept:  # no publisher drained it: at least one state per inverter
        assert counts["mqtt_outbox"] >= shape.agents * shape.per_frame, counts


# -- path "tunnel" -----------------------------------------------------------------------


def _broker_listening() -> bool:
    try:
        with socket.create_connection(MQTT_BROKER, timeout=1.0):
            return True
    except OSError:
        return False


def _write_json(path: Path, body: dict[str, Any]) -> Path:
    path.write_text(json.dumps(body))
    return path


@dataclass(frozen=True, slots=True)
class _TunnelRun:
    rate: float
    gateway_cpu_s: float
    gateway_threads_cpu_s: dict[str, float]
    agents_cpu_s: float
    ack_p50_ms: float
    ack_p99_ms: float
    resent_sessions: int
    """Agent sessions that ended during the run (their unacknowledged frames were resent)."""


def _drive(tmp: Path, db_url: str, fleet: _Fleet, shape: Shape, mqtt: bool) -> _TunnelRun:
    """Start the gateway and agent processes, send everything, wait for the last ACK."""
    gateway_spec: dict[str, Any] = {"state_dir": str(tmp / "gateway"), "db_url": db_url}
    if mqtt:
        host, port = MQTT_BROKER
        gateway_spec["mqtt"] = {"host": host, "port": port, "prefix": f"bench/{uuid.uuid4().hex}"}
    with node(
        "bench._ingest_nodes", "gateway", str(_write_json(tmp / "gw.json", gateway_spec))
    ) as gw:
        started = gw.event()
        certs = tmp / "agents"
        agents_spec = {
            "url": started["url"],
            "server_ca": started["server_ca"],
            "cycles": shape.cycles,
            "start_ms": fleet.start_ms,
            "max_in_flight": MAX_IN_FLIGHT,
            "agents": [
                {
                    "slug": d.slug,
                    "cert": str(certs / f"{d.slug}.pem"),
                    "key": str(certs / f"{d.slug}.key"),
                    "serials": [s for _i, s in fleet.serials[d.id]],
                }
                for d in fleet.devices
            ],
        }
        spec_file = _write_json(tmp / "agents.json", agents_spec)
        with node("bench._ingest_nodes", "agents", str(spec_file)) as load:
            assert load.event()["connected"] == shape.agents
            gw.send({"cmd": "cpu"})
            first = gw.event()
            start = time.monotonic()
            load.send({"cmd": "go"})
            done = load.event()
            assert done["acked"] == shape.frames, done
            elapsed = done["finished"] - start
            gw.send({"cmd": "cpu"})
            last = gw.event()
    threads = {
        name: round(cpu - first["threads"].get(name, 0.0), 2)
        for name, cpu in last["threads"].items()
    }
    return _TunnelRun(
        rate=shape.readings / elapsed,
        gateway_cpu_s=last["cpu_s"] - first["cpu_s"],
        gateway_threads_cpu_s=threads,
        agents_cpu_s=done["cpu_s"],
        ack_p50_ms=done["ack_p50_ms"],
        ack_p99_ms=done["ack_p99_ms"],
        resent_sessions=done["resent_sessions"],
    )


async def _through_tunnel(db_url: str, tmp: Path, shape: Shape) -> tuple[_TunnelRun, _Fleet]:
    now = datetime.now(UTC)
    store = await Store.open(db_url)
    try:
        fleet = await _prepare(store, now, shape)
        ca = await asyncio.to_thread(DeviceCa.ensure, tmp / "gateway", now)
        await _enrol(store, fleet, ca, tmp / "agents", now)
    finally:
        await store.close()
    mqtt = _broker_listening()
    result = await asyncio.to_thread(_drive, tmp, db_url, fleet, shape, mqtt)
    store = await Store.open(db_url, run_migrations=False)
    try:
        _check(await _counts(store), shape, outbox_kept=not mqtt)
    finally:
        await store.close()
    return result, fleet


# -- path "ingest-service" ---------------------------------------------------------------


async def _through_service(db_url: str, shape: Shape) -> float:
    now = datetime.now(UTC)
    clock = ManualClock(now)
    store = await Store.open(db_url)
    try:
        fleet = await _prepare(store, now, shape)
        ingest = TelemetryIngest(store, clock, access=TrialPolicy(), topic_prefix="bench")
        frames = _frames(fleet, shape)

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
        _check(await _counts(store), shape, outbox_kept=True)
    finally:
        await store.close()
    return shape.readings / elapsed


# -- raw baseline ------------------------------------------------------------------------


def _raw_rows(fleet: _Fleet, shape: Shape, *, sqlite_text: bool) -> list[tuple[Any, ...]]:
    """The rows the ingest stored (as ``agent_frames`` made them), as the driver takes them."""
    rows = []
    for d in fleet.devices:
        for n in range(shape.cycles):
            for u, (inverter_id, serial) in enumerate(fleet.serials[d.id]):
                at = datetime.fromtimestamp(
                    (fleet.start_ms + n * CYCLE_MS + u * UNIT_MS) / 1000, UTC
                )
                w = 1000.0 + 7 * n + u
                rows.append(
                    (
                        inverter_id,
                        d.id,
                        serial,
                        sqlite_stamp(at) if sqlite_text else at,
                        w,
                        1_000_000.0 + 3 * n + u,
                        w + 60.0,
                        "mppt",
                    )
                )
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


# -- backends ----------------------------------------------------------------------------


@contextmanager
def _sqlite_url() -> Iterator[tuple[str, Path, Path]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        yield f"sqlite+aiosqlite:///{path}", path, Path(tmp)


@asynccontextmanager
async def _postgresql_db() -> AsyncIterator[tuple[str, str, Path]]:
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            yield (
                f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}",
                f"postgresql://postgres@127.0.0.1:5432/{name}",
                Path(tmp),
            )
    finally:
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def empty_database(backend: str) -> AsyncIterator[str]:
    """The URL of an empty database of ``backend`` (``sqlite`` or ``postgresql``), removed after."""
    if backend == "sqlite":
        with _sqlite_url() as (url, _path, _tmp):
            yield url
    else:
        async with _postgresql_db() as (url, _dsn, _tmp):
            yield url


async def _sqlite(shape: Shape, single: Shape) -> dict[str, Any]:
    with _sqlite_url() as (url, path, tmp):
        tunnel, fleet = await _through_tunnel(url, tmp, shape)
        raw = await asyncio.to_thread(_raw_sqlite, path, _raw_rows(fleet, shape, sqlite_text=True))
    with _sqlite_url() as (url, _path, tmp):
        one, _fleet = await _through_tunnel(url, tmp, single)
    with _sqlite_url() as (url, _path, _tmp):
        service = await _through_service(url, shape)
    return {"tunnel": tunnel, "one": one, "service": service, "raw": raw}


async def _postgresql(shape: Shape, single: Shape) -> dict[str, Any]:
    async with _postgresql_db() as (url, dsn, tmp):
        tunnel, fleet = await _through_tunnel(url, tmp, shape)
        many, copy = await _raw_postgresql(dsn, _raw_rows(fleet, shape, sqlite_text=False))
    async with _postgresql_db() as (url, _dsn, tmp):
        one, _fleet = await _through_tunnel(url, tmp, single)
    async with _postgresql_db() as (url, _dsn, _tmp):
        service = await _through_service(url, shape)
    return {"tunnel": tunnel, "one": one, "service": service, "raw": many, "raw_copy": copy}


def run(*, smoke: bool) -> dict[str, Any]:
    """Both backends; ``smoke`` uses tiny sizes."""
    shape = Shape(4, 3, 5) if smoke else Shape(250, 20, 40)
    single = Shape(4, 1, 5) if smoke else Shape(250, 1, 80)
    sq = asyncio.run(_sqlite(shape, single))
    pg = asyncio.run(_postgresql(shape, single))
    per_reading = {
        f"{part}_cpu_us_per_reading_{backend}": getattr(r["tunnel"], f"{part}_cpu_s")
        / shape.readings
        * 1e6
        for backend, r in (("sqlite", sq), ("postgresql", pg))
        for part in ("gateway", "agents")
    }
    return {
        "metrics": {
            "path": "tunnel",
            "agents": shape.agents,
            "readings_per_frame": shape.per_frame,
            "frames_per_agent": shape.cycles,
            "max_in_flight": MAX_IN_FLIGHT,
            "readings": shape.readings,
            "mqtt_publisher": _broker_listening(),
            "load_average": os.getloadavg()[0],
            "readings_per_s_sqlite": sq["tunnel"].rate,
            "readings_per_s_postgresql": pg["tunnel"].rate,
            "ack_p50_ms_sqlite": sq["tunnel"].ack_p50_ms,
            "ack_p99_ms_sqlite": sq["tunnel"].ack_p99_ms,
            "ack_p50_ms_postgresql": pg["tunnel"].ack_p50_ms,
            "ack_p99_ms_postgresql": pg["tunnel"].ack_p99_ms,
            "resent_sessions_sqlite": sq["tunnel"].resent_sessions,
            "resent_sessions_postgresql": pg["tunnel"].resent_sessions,
            "gateway_threads_cpu_s_sqlite": sq["tunnel"].gateway_threads_cpu_s,
            "gateway_threads_cpu_s_postgresql": pg["tunnel"].gateway_threads_cpu_s,
            **per_reading,
            "one_per_frame_readings": single.readings,
            "one_per_frame_readings_per_s_sqlite": sq["one"].rate,
            "one_per_frame_readings_per_s_postgresql": pg["one"].rate,
            "service_readings_per_s_sqlite": sq["service"],
            "service_readings_per_s_postgresql": pg["service"],
            "raw_per_s_sqlite": sq["raw"],
            "raw_per_s_postgresql": pg["raw"],
            "raw_copy_per_s_postgresql": pg["raw_copy"],
        },
        "ratios": {
            "sqlite_vs_raw": sq["tunnel"].rate / sq["raw"],
            "postgresql_vs_raw": pg["tunnel"].rate / pg["raw"],
            "postgresql_vs_raw_copy": pg["tunnel"].rate / pg["raw_copy"],
            "sqlite_tunnel_vs_service": sq["tunnel"].rate / sq["service"],
            "postgresql_tunnel_vs_service": pg["tunnel"].rate / pg["service"],
        },
    }
