"""From sunlight to an inverter's electrical values at one instant (pure).

The array is oversized by 10 % against the AC rating, loses 0.4 %/K above 25 degC cell
temperature, and the inverter converts at 97 % up to its rating (clipping above). A lost
production fault scales the result, so "X % less" is exact. Below 0.5 % of the rating the
inverter sleeps. Grid voltage and frequency wobble slowly and
deterministically with time, so two reads of the same instant agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from simulator.inverter.sun import Site, plane_irradiance, sun_position

__all__ = ["ArrayDesign", "Operating", "operating_point"]

_EFFICIENCY = 0.97
_WAKE_FRACTION = 0.005


@dataclass(frozen=True, slots=True, kw_only=True)
class ArrayDesign:
    """The PV array behind one inverter."""

    #: AC power rating of the inverter in W
    rated_power: int
    #: share of the array on each MPPT input (sums to 1)
    mppt_shares: tuple[float, ...] = (0.55, 0.45)
    #: MPP voltage of each input's string at 25 degC, in V
    mppt_voltages: tuple[float, ...] = (580.0, 520.0)
    #: per-inverter phase for the grid wobble, in radians
    phase: float = 0.0


@dataclass(frozen=True, slots=True)
class Operating:
    """Electrical values at one instant, before faults and counters."""

    ac_power: float
    mppt_power: tuple[float, ...]
    mppt_voltage: tuple[float, ...]
    phase_voltage: tuple[float, float, float]
    frequency: float
    ambient: float
    cell_temperature: float
    awake: bool


def _ambient(site: Site, instant: datetime) -> float:
    day = instant.timetuple().tm_yday
    solar_hours = (instant.hour + instant.minute / 60 + site.longitude / 15) % 24
    seasonal = 10 - 9 * math.cos(2 * math.pi * (day - 20) / 365)
    return seasonal + 4 * math.sin(2 * math.pi * (solar_hours - 9) / 24)


def operating_point(
    site: Site, design: ArrayDesign, instant: datetime, *, output_factor: float = 1.0
) -> Operating:
    """What the inverter does at ``instant``; ``output_factor`` < 1 models lost production."""
    irradiance = plane_irradiance(site, sun_position(site, instant))
    ambient = _ambient(site, instant)
    cell = ambient + irradiance / 800 * 25
    peak = 1.1 * design.rated_power
    dc_total = peak * irradiance / 1000 * (1 - 0.004 * (cell - 25))
    ac = min(design.rated_power, dc_total * _EFFICIENCY) * output_factor
    awake = ac > _WAKE_FRACTION * design.rated_power
    if awake:
        dc_total = ac / _EFFICIENCY
    else:
        ac, dc_total = 0.0, 0.0
    shares = design.mppt_shares
    powers = tuple(dc_total * share for share in shares)
    log_gain = 1 + 0.03 * math.log(max(irradiance, 1.0) / 1000)
    voltages = tuple(
        v * (1 - 0.0035 * (cell - 25)) * log_gain if awake else 0.0 for v in design.mppt_voltages
    )
    t = instant.timestamp()
    base = 230 + 2.5 * math.sin(t / 600 + design.phase)
    phases = (base, base + 0.8 * math.sin(t / 97), base - 0.6 * math.cos(t / 131))
    frequency = 50 + 0.02 * math.sin(t / 53 + design.phase)
    return Operating(ac, powers, voltages, phases, frequency, ambient, cell, awake)
