"""Telemetry writes: one transaction per ingest group (readings, dedup keys, days, outbox).

:meth:`TelemetryRepository.transaction` hands the ingest service an :class:`IngestTransaction`
whose steps all run on one connection and commit together: the dedup keys, the readings, the
day counters and the MQTT outbox rows are durable at once or not at all.

The bulk steps bypass SQLAlchemy's per-row parameter processing (about 25 µs a row): they hand
prebuilt tuples to the driver (``exec_driver_sql``), and on PostgreSQL the readings go in with
``COPY`` on the same connection, inside the same transaction (so do the SunSpec events; the
live details are one ``unnest`` upsert). Values are therefore converted
here, per backend, exactly as the column types would: instants as naive UTC text
``YYYY-MM-DD HH:MM:SS.ffffff`` on SQLite (what :class:`~cloud_gateway.store.types.UtcDateTime`
stores, so range queries compare correctly) and aware ``datetime`` on PostgreSQL. On
PostgreSQL the day merge's returned rows also come straight from asyncpg (``fetch`` on the
transaction's connection), without SQLAlchemy's cursor and result processing per row.

Two steps do their read in the write (``RETURNING``, SQLite ≥ 3.35 and PostgreSQL):

* :meth:`IngestTransaction.take_keys` inserts the (device, sequence) keys with ``ON CONFLICT DO
  NOTHING`` and learns from ``RETURNING`` which were new: the dedup check and the record are
  one statement.
* :meth:`IngestTransaction.merge_days` upserts the group's day counters; the database merges
  them with the stored ones (earlier first, later-or-equal last, as :func:`fold` does) and
  returns the merged rows. No cache: several gateway nodes can write the same day safely.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any, TypeVar

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.errors import StoreError
from cloud_gateway.plants.model import Plant
from cloud_gateway.plants.repository import plants_by_id
from cloud_gateway.plants.schema import inverter_live, inverter_nameplates
from cloud_gateway.store.repository import Repository
from cloud_gateway.telemetry.payload import InfoIn

__all__ = [
    "READING_COLUMNS",
    "DayRow",
    "IngestTransaction",
    "ReadingRow",
    "RefusedGroupError",
    "Target",
    "TelemetryRepository",
    "sqlite_stamp",
]

_CHUNK = 400
_T = TypeVar("_T")

READING_COLUMNS = (
    "inverter_id",
    "device_id",
    "serial",
    "at",
    "power_w",
    "energy_wh",
    "dc_power_w",
    "state",
)
"""The columns of a :data:`ReadingRow`, in order."""

ReadingRow = tuple[
    int | None, int, str, datetime, float | None, float | None, float | None, str | None
]
"""(inverter_id, device_id, serial, at, power_w, energy_wh, dc_power_w, state)."""

DayRow = tuple[int, str, date, datetime, float, datetime, float, float | None]
"""(inverter_id, serial, day, first_at, first_wh, last_at, last_wh, last_power_w)."""

_DAY_MERGE = """
 ON CONFLICT (inverter_id, serial, day) DO UPDATE SET
  first_at = CASE WHEN excluded.first_at < inverter_days.first_at
                  THEN excluded.first_at ELSE inverter_days.first_at END,
  first_wh = CASE WHEN excluded.first_at < inverter_days.first_at
                  THEN excluded.first_wh ELSE inverter_days.first_wh END,
  last_at = CASE WHEN excluded.last_at >= inverter_days.last_at
                 THEN excluded.last_at ELSE inverter_days.last_at END,
  last_wh = CASE WHEN excluded.last_at >= inverter_days.last_at
                 THEN excluded.last_wh ELSE inverter_days.last_wh END,
  last_power_w = CASE WHEN excluded.last_at >= inverter_days.last_at
                      THEN excluded.last_power_w ELSE inverter_days.last_power_w END
 RETURNING inverter_id, serial, day, first_wh, last_wh"""
_KEYS_CONFLICT = " ON CONFLICT (device_id, seq) DO NOTHING RETURNING device_id, seq"
_PG_KEYS = """INSERT INTO telemetry_batches (device_id, seq, received_at, rejected)
 SELECT k.d, k.s, $3, k.r FROM unnest($1::int[], $2::bigint[], $4::bool[]) AS k(d, s, r)
 ON CONFLICT (device_id, seq) DO NOTHING RETURNING device_id, seq"""
_PG_DAYS = """INSERT INTO inverter_days
 (inverter_id, serial, day, first_at, first_wh, last_at, last_wh, last_power_w)
 SELECT * FROM unnest($1::int[], $2::varchar[], $3::date[], $4::timestamptz[], $5::float8[],
                      $6::timestamptz[], $7::float8[], $8::float8[])"""
_PG_TARGETS = """SELECT inverters.id, inverters.serial, inverters.plant_id, plants.account_id
 FROM unnest($1::varchar[]) AS wanted(serial)
 JOIN inverters ON inverters.serial = wanted.serial
 JOIN plants ON plants.id = inverters.plant_id"""
_SQLITE_TARGETS = """SELECT inverters.id, inverters.serial, inverters.plant_id, plants.account_id
 FROM inverters JOIN plants ON plants.id = inverters.plant_id
 WHERE inverters.serial IN (SELECT value FROM json_each(?))"""
_SQLITE_READINGS = """INSERT INTO readings
 (inverter_id, device_id, serial, at, power_w, energy_wh, dc_power_w, state)
 VALUES (?,?,?,?,?,?,?,?)"""
_SQLITE_KEYS = "INSERT INTO telemetry_batches (device_id, seq, received_at, rejected) VALUES "
_SQLITE_DAYS = """INSERT INTO inverter_days
 (inverter_id, serial, day, first_at, first_wh, last_at, last_wh, last_power_w) VALUES """
_OUTBOX_COLUMNS = ("topic", "payload", "created_at")
_SQLITE_OUTBOX = "INSERT INTO mqtt_outbox (topic, payload, created_at) VALUES (?, ?, ?)"
_LIVE_MERGE = """
 ON CONFLICT (inverter_id) DO UPDATE SET
  at = excluded.at,
  events = coalesce(excluded.events, inverter_live.events),
  payload = excluded.payload
 WHERE inverter_live.at <= excluded.at"""
_PG_LIVE = """INSERT INTO inverter_live (inverter_id, at, events, payload)
 SELECT * FROM unnest($1::int[], $2::timestamptz[], $3::bigint[], $4::text[])"""
_SQLITE_LIVE = "INSERT INTO inverter_live (inverter_id, at, events, payload) VALUES (?,?,?,?)"
_EVENT_COLUMNS = ("inverter_id", "at", "code", "active")
_SQLITE_EVENTS = "INSERT INTO inverter_events (inverter_id, at, code, active) VALUES (?,?,?,?)"
_SQLITE_ROWS = 500
"""Rows per multi-row ``VALUES`` statement on SQLite (8 parameters each, limit 32766)."""


class RefusedGroupError(StoreError):
    """The database refused the group's data (a constraint or a value), not the connection.

    A smaller group without the offending payload may succeed.
    """


_REFUSED_PG = (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError)


@dataclass(frozen=True, slots=True)
class Target:
    """The registered inverter a serial reported by an agent belongs to."""

    inverter_id: int
    plant_id: int


def _chunks(items: Sequence[_T], size: int = _CHUNK) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def sqlite_stamp(at: datetime) -> str:
    """``at`` as SQLite stores a :class:`UtcDateTime`: naive UTC, always with microseconds."""
    if at.tzinfo is not UTC:
        if at.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        at = at.astimezone(UTC)
    return at.isoformat(" ", "microseconds")[:26]  # without the "+00:00"


def _day(value: Any) -> date:
    if isinstance(value, str):
        return date.fromisoformat(value)
    if not isinstance(value, date):
        raise StoreError(f"the database returned {value!r} for a day")
    return value


class IngestTransaction:
    """The steps of one ingest group, on one open transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._pg = conn.dialect.name == "postgresql"
        self._stamps: dict[datetime, str] = {}
        """SQLite text of instants seen in this transaction (a reading's and its day row's)."""

    def _stamp(self, at: datetime) -> str:
        found = self._stamps.get(at)
        if found is None:
            found = self._stamps[at] = sqlite_stamp(at)
        return found

    async def _driver_rows(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        """The rows ``sql`` returns, run on the driver without SQLAlchemy's processing."""
        result = await self._conn.exec_driver_sql(sql, params)
        return list(result.all())

    def _insert(self, table: sa.Table) -> Any:
        if self._pg:
            return postgresql.insert(table)
        return sqlite.insert(table)

    async def take_keys(
        self, keys: Sequence[tuple[int, int, bool]], now: datetime
    ) -> set[tuple[int, int]]:
        """Record (device, sequence, rejected) keys; returns those not taken before.

        ``keys`` must not repeat a (device, sequence) pair.
        """
        taken: set[tuple[int, int]] = set()
        if not keys:
            return taken
        if self._pg:
            keys = sorted(keys)  # one lock order for concurrent transactions
            rows: list[Any] = await self._driver_rows(
                _PG_KEYS,
                ([d for d, _s, _r in keys], [s for _d, s, _r in keys], now, [r for *_k, r in keys]),
            )
            taken.update((d, s) for d, s in rows)
            return taken
        stamp = sqlite_stamp(now)
        for part in _chunks(keys, _SQLITE_ROWS):
            sql = _SQLITE_KEYS + ",".join(["(?,?,?,?)"] * len(part)) + _KEYS_CONFLICT
            params = tuple(v for d, s, r in part for v in (d, s, stamp, int(r)))
            rows = await self._driver_rows(sql, params)
            taken.update((d, s) for d, s in rows)
        return taken

    async def targets(self, pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], Target]:
        """Registered inverters by (owning account, serial)."""
        wanted = set(pairs)
        if not wanted:
            return {}
        serials = sorted({s for _a, s in wanted})
        if self._pg:
            rows = await self._driver_rows(_PG_TARGETS, (serials,))
        else:
            rows = await self._driver_rows(_SQLITE_TARGETS, (json.dumps(serials),))
        return {
            (account, serial): Target(inverter_id, plant_id)
            for inverter_id, serial, plant_id, account in rows
            if (account, serial) in wanted
        }

    async def plants(self, plant_ids: Iterable[int]) -> dict[int, Plant]:
        """The plants with these ids."""
        return await plants_by_id(self._conn, plant_ids)

    async def save_nameplates(
        self, account_id: int, infos: Sequence[InfoIn], now: datetime
    ) -> None:
        """Remember what the account's agent reported about its inverters."""
        for info in infos:
            values = {
                "manufacturer": info.manufacturer,
                "model": info.model,
                "version": info.version,
                "w_rating": info.w_rating,
                "updated_at": now,
            }
            stmt = self._insert(inverter_nameplates).values(
                account_id=account_id, serial=info.serial, **values
            )
            await self._conn.execute(
                stmt.on_conflict_do_update(index_elements=["account_id", "serial"], set_=values)
            )

    async def insert_readings(self, rows: Sequence[ReadingRow]) -> None:
        """Insert readings: ``COPY`` on PostgreSQL, the driver's ``executemany`` on SQLite."""
        if not rows:
            return
        if not self._pg:
            stamp = self._stamp
            await self._conn.exec_driver_sql(
                _SQLITE_READINGS,
                [(i, d, s, stamp(at), w, wh, dcw, st) for i, d, s, at, w, wh, dcw, st in rows],
            )
            return
        await self._copy("readings", rows, READING_COLUMNS)

    async def _asyncpg(self, what: str) -> asyncpg.Connection:
        """This transaction's asyncpg connection, for steps that bypass SQLAlchemy."""
        raw = await self._conn.get_raw_connection()
        driver = raw.driver_connection
        if not isinstance(driver, asyncpg.Connection):
            raise TypeError(f"{what} needs asyncpg, not {type(driver).__name__}")
        # It must run inside the transaction SQLAlchemy's adapter began with the first
        # statement (take_keys); outside it, it would commit on its own.
        if not driver.is_in_transaction():
            raise StoreError(f"{what} outside the ingest transaction")
        return driver

    async def _copy(
        self, table: str, rows: Sequence[tuple[Any, ...]], columns: Sequence[str]
    ) -> None:
        """PostgreSQL ``COPY … FROM STDIN`` (binary) on this transaction's connection."""
        driver = await self._asyncpg(f"{table} COPY")
        try:
            await driver.copy_records_to_table(table, records=rows, columns=columns)
        except _REFUSED_PG as exc:
            raise RefusedGroupError(f"telemetry commit failed: {exc!r}") from exc
        except asyncpg.PostgresError as exc:
            raise StoreError(f"telemetry commit failed: {exc!r}") from exc

    async def _pg_execute(self, what: str, sql: str, *args: Any) -> None:
        """``sql`` straight on asyncpg (no SQLAlchemy parameter processing per row)."""
        driver = await self._asyncpg(what)
        try:
            await driver.execute(sql, *args)
        except _REFUSED_PG as exc:
            raise RefusedGroupError(f"telemetry commit failed: {exc!r}") from exc
        except asyncpg.PostgresError as exc:
            raise StoreError(f"telemetry commit failed: {exc!r}") from exc

    async def _pg_fetch(self, what: str, sql: str, *args: Any) -> list[Any]:
        """Rows of ``sql`` straight from asyncpg (no SQLAlchemy result processing per row)."""
        driver = await self._asyncpg(what)
        try:
            return list(await driver.fetch(sql, *args))
        except _REFUSED_PG as exc:
            raise RefusedGroupError(f"telemetry commit failed: {exc!r}") from exc
        except asyncpg.PostgresError as exc:
            raise StoreError(f"telemetry commit failed: {exc!r}") from exc

    async def merge_days(self, days: Sequence[DayRow]) -> dict[tuple[int, str, date], float]:
        """Merge the group's day counters into the stored ones; returns energy today per key.

        ``days`` holds one row per (inverter, serial, day). The database keeps the earlier
        first and the later-or-equal last (as :func:`~cloud_gateway.plants.day_energy.fold`
        would, reading by reading) and returns the merged counters.
        """
        if not days:
            return {}
        rows: list[Any]
        if self._pg:
            # one lock order, so concurrent transactions (other nodes) cannot deadlock
            ordered = sorted(days, key=lambda d: (d[0], d[1], d[2]))
            columns = [list(c) for c in zip(*ordered, strict=True)]
            rows = await self._pg_fetch("day merge", _PG_DAYS + _DAY_MERGE, *columns)
        else:
            rows = []
            for part in _chunks(days, _SQLITE_ROWS):
                sql = _SQLITE_DAYS + ",".join(["(?,?,?,?,?,?,?,?)"] * len(part)) + _DAY_MERGE
                params: list[Any] = []
                for inverter_id, serial, day, first_at, first_wh, last_at, last_wh, power in part:
                    first = self._stamp(first_at)
                    last = first if last_at is first_at else self._stamp(last_at)
                    params += (
                        inverter_id,
                        serial,
                        day.isoformat(),
                        first,
                        first_wh,
                        last,
                        last_wh,
                        power,
                    )
                rows.extend(await self._driver_rows(sql, tuple(params)))
        return {(r[0], r[1], _day(r[2])): max(0.0, r[4] - r[3]) for r in rows}

    async def live_events(self, inverter_ids: Sequence[int]) -> dict[int, tuple[datetime, int]]:
        """The newest stored details' instant and the last stored SunSpec event bits of these
        inverters (absent: no details stored)."""
        c = inverter_live.c
        found: dict[int, tuple[datetime, int]] = {}
        for chunk in _chunks(inverter_ids):
            rows = await self._conn.execute(
                sa.select(c.inverter_id, c.at, c.events).where(c.inverter_id.in_(list(chunk)))
            )
            found.update({r.inverter_id: (r.at, int(r.events or 0)) for r in rows})
        return found

    async def save_live(
        self,
        rows: Sequence[tuple[int, datetime, int | None, str]],
        events: Sequence[tuple[int, datetime, int, bool]],
    ) -> None:
        """Each inverter's newest details (inverter, at, event bits, JSON; an older reading
        arriving late changes nothing; a reading without event bits keeps the stored ones)
        and the event bits raised or cleared."""
        if self._pg:
            if rows:
                ordered = sorted(rows, key=itemgetter(0))  # one lock order across nodes
                await self._pg_execute(
                    "live details",
                    _PG_LIVE + _LIVE_MERGE,
                    *(list(c) for c in zip(*ordered, strict=True)),
                )
            if events:
                await self._copy("inverter_events", events, _EVENT_COLUMNS)
            return
        stamp = self._stamp
        if rows:
            await self._conn.exec_driver_sql(
                _SQLITE_LIVE + _LIVE_MERGE,
                [(i, stamp(at), bits, body) for i, at, bits, body in rows],
            )
        if events:
            await self._conn.exec_driver_sql(
                _SQLITE_EVENTS,
                [(i, stamp(at), code, int(active)) for i, at, code, active in events],
            )

    async def enqueue(self, messages: Sequence[tuple[str, bytes]], now: datetime) -> None:
        """Write MQTT messages to the outbox (published after the commit)."""
        if not messages:
            return
        if self._pg:
            await self._copy("mqtt_outbox", [(t, p, now) for t, p in messages], _OUTBOX_COLUMNS)
        else:
            stamp = sqlite_stamp(now)
            await self._conn.exec_driver_sql(_SQLITE_OUTBOX, [(t, p, stamp) for t, p in messages])


class TelemetryRepository(Repository):
    """Opens ingest transactions."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[IngestTransaction]:
        """One transaction; committed when the block ends without an exception."""
        try:
            async with self._db.begin() as conn:
                yield IngestTransaction(conn)
        except (IntegrityError, DataError) as exc:
            raise RefusedGroupError(f"telemetry commit failed: {exc.orig!r}") from exc
        except DBAPIError as exc:
            raise StoreError(f"telemetry commit failed: {exc.orig!r}") from exc
