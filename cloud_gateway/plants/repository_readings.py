"""Telemetry reads: readings, day counters and power series of registered inverters.

Callers pass inverter ids they have already checked against the tenant (via
:class:`~cloud_gateway.plants.repository_inverters.InverterRepository`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from cloud_gateway.plants.day_energy import DayState
from cloud_gateway.plants.schema import inverter_days, readings
from cloud_gateway.store.repository import Repository

__all__ = ["ReadingRepository", "StoredReading"]

_R = readings.c


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredReading:
    """One stored reading of a registered inverter."""

    inverter_id: int
    serial: str
    at: datetime
    power_w: float | None
    energy_wh: float | None
    dc_power_w: float | None
    state: str | None


class ReadingRepository(Repository):
    """Read what the ingest stored."""

    async def between(
        self, inverter_ids: Sequence[int], start: datetime, end: datetime, *, limit: int = 100_000
    ) -> list[StoredReading]:
        """Readings of these inverters in ``[start, end)``, oldest first."""
        if not inverter_ids:
            return []
        query = (
            sa.select(
                _R.inverter_id, _R.serial, _R.at, _R.power_w, _R.energy_wh, _R.dc_power_w, _R.state
            )
            .where(_R.inverter_id.in_(list(inverter_ids)), _R.at >= start, _R.at < end)
            .order_by(_R.at, _R.id)
            .limit(limit)
        )
        async with self._db.connect() as conn:
            rows = await conn.execute(query)
            return [StoredReading(**r._mapping) for r in rows]

    async def count_for_serial(self, serial: str) -> int:
        """How many readings were stored for ``serial`` (registered or not)."""
        async with self._db.connect() as conn:
            found = await conn.scalar(
                sa.select(sa.func.count()).select_from(readings).where(_R.serial == serial)
            )
        return int(found or 0)

    async def day_states(self, inverter_ids: Sequence[int], day: date) -> dict[int, list[DayState]]:
        """The day counters of each inverter slot on ``day`` (one per serial it held)."""
        result: dict[int, list[DayState]] = {i: [] for i in inverter_ids}
        if not inverter_ids:
            return result
        d = inverter_days.c
        async with self._db.connect() as conn:
            rows = await conn.execute(
                inverter_days.select()
                .where(d.inverter_id.in_(list(inverter_ids)), d.day == day)
                .order_by(d.last_at)
            )
            for r in rows:
                result[r.inverter_id].append(
                    DayState(
                        first_at=r.first_at,
                        first_wh=r.first_wh,
                        last_at=r.last_at,
                        last_wh=r.last_wh,
                        last_power_w=r.last_power_w,
                    )
                )
        return result
