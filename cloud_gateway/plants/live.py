"""Power now and energy today per inverter and plant (R-MON-18), from the day counters (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cloud_gateway.plants.day_energy import DayState, slot_energy
from cloud_gateway.plants.model import Inverter

__all__ = ["STALE_AFTER", "InverterLive", "PlantLive", "summarise"]

STALE_AFTER = timedelta(minutes=15)
"""A reading older than this no longer counts as "power now" (the inverter sleeps or is off)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InverterLive:
    """One inverter's figures of today."""

    inverter: Inverter
    power_w: float
    energy_today_wh: float
    last_seen: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantLive:
    """The plant's figures of today: sums over its inverters."""

    inverters: list[InverterLive]
    power_w: float
    energy_today_wh: float
    nominal_power_w: int


def summarise(
    inverters: Sequence[Inverter], days: Mapping[int, Sequence[DayState]], now: datetime
) -> PlantLive:
    """Figures of every inverter and their sums; ``days`` holds today's counters per slot."""
    rows: list[InverterLive] = []
    for inverter in inverters:
        states = days.get(inverter.id, ())
        newest = max(states, key=lambda s: s.last_at, default=None)
        fresh = newest is not None and now - newest.last_at <= STALE_AFTER
        rows.append(
            InverterLive(
                inverter=inverter,
                power_w=(newest.last_power_w or 0.0) if fresh and newest else 0.0,
                energy_today_wh=slot_energy(states),
                last_seen=None if newest is None else newest.last_at,
            )
        )
    return PlantLive(
        inverters=rows,
        power_w=sum(r.power_w for r in rows),
        energy_today_wh=sum(r.energy_today_wh for r in rows),
        nominal_power_w=sum(i.counted_power_w for i in inverters),
    )
