"""The per-inverter figures an alert round needs, read from the telemetry tables.

They follow :mod:`cloud_gateway.monitoring.energy` exactly:

- window energy: the newest counter minus the counter read "at" the window's start (the
  newest reading at or before it within ``gap``, else the oldest after it within ``gap``);
  ``None`` when no reading is that close or the newest is not after the start;
- day energy: the telemetry's "energy today" of the inverter's current serial;
- last reading: today's newest, else the newest of the last week's day rows.

Every lookup goes through a primary key or the readings' ``(inverter_id, at)`` index, once per
inverter, so a round costs the same on the first and the hundredth day of readings.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.monitoring.energy import DEFAULT_GAP
from cloud_gateway.plants.schema import inverter_days, inverters, readings
from cloud_gateway.store.repository import Repository

__all__ = ["FiguresRepository", "InverterFigures"]

_LOOKBACK = timedelta(days=7)
_CHUNK = 1000
_YIELD_ROWS = 1000
"""Rows between two turns given back to the event loop."""
_PAGE = 5000
"""Inverters read per query of a round."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InverterFigures:
    """What the telemetry tables say about one inverter for a round."""

    last_at: datetime | None
    window_wh: float | None
    day_wh: float


async def _paged(
    conn: AsyncConnection, query: sa.Select[Any], key: sa.ColumnElement[int], size: int
) -> AsyncIterator[tuple[int, Any]]:
    """The rows of ``query`` (ordered by the unique ``key``) numbered from 1, read ``size``
    at a time: the driver decodes one page per turn of the event loop, not the whole fleet
    at once, while the ingest shares the loop."""
    after: int | None = None
    count = 0
    while True:
        page = query if after is None else query.where(key > after)
        rows = (await conn.execute(page.limit(size))).all()
        for row in rows:
            count += 1
            yield count, row
        if len(rows) < size:
            return
        after = rows[-1][0]


class FiguresRepository(Repository):
    """One read of every inverter's round figures."""

    async def figures(
        self,
        today: date,
        window_start: datetime,
        *,
        gap: timedelta = DEFAULT_GAP,
        plant_ids: Collection[int] | None = None,
        page: int = _PAGE,
    ) -> dict[int, InverterFigures]:
        """Last reading, window energy and day energy of every registered inverter (of these
        plants, when given), read ``page`` inverters at a time."""
        d, r, i = inverter_days.c, readings.c, inverters.c

        def base(before: bool) -> sa.ScalarSelect[float]:
            side = (
                sa.and_(r.at <= window_start, r.at >= window_start - gap)
                if before
                else sa.and_(r.at > window_start, r.at <= window_start + gap)
            )
            return (
                sa.select(r.energy_wh)
                .where(r.inverter_id == i.id, r.serial == i.serial, r.energy_wh.is_not(None), side)
                .order_by(r.at.desc() if before else r.at.asc())
                .limit(1)
                .scalar_subquery()
            )

        query = sa.select(
            i.id,
            d.first_wh,
            d.last_at,
            d.last_wh,
            base(True).label("before_wh"),
            base(False).label("after_wh"),
        ).select_from(
            inverters.outerjoin(
                inverter_days, sa.and_(d.inverter_id == i.id, d.serial == i.serial, d.day == today)
            )
        )
        if plant_ids is not None:
            query = query.where(i.plant_id.in_(list(plant_ids)))
        result: dict[int, InverterFigures] = {}
        silent: list[int] = []
        async with self._db.connect() as conn:
            async for n_row, row in _paged(conn, query.order_by(i.id), i.id, page):
                if not n_row % _YIELD_ROWS:
                    await asyncio.sleep(0)  # a round shares the event loop with the ingest
                if row.last_at is None:
                    silent.append(row.id)
                    continue
                start_wh = row.before_wh if row.before_wh is not None else row.after_wh
                window = (
                    row.last_wh - start_wh
                    if start_wh is not None and row.last_at > window_start
                    else None
                )
                result[row.id] = InverterFigures(
                    last_at=row.last_at,
                    window_wh=window,
                    day_wh=max(0.0, row.last_wh - row.first_wh),
                )
            for chunk in range(0, len(silent), _CHUNK):
                ids = silent[chunk : chunk + _CHUNK]
                rows = await conn.execute(
                    sa.select(d.inverter_id, sa.func.max(d.last_at).label("last_at"))
                    .where(d.inverter_id.in_(ids), d.day >= today - _LOOKBACK)
                    .group_by(d.inverter_id)
                )
                for row in rows:
                    result[row.inverter_id] = InverterFigures(
                        last_at=row.last_at, window_wh=None, day_wh=0.0
                    )
        return result
