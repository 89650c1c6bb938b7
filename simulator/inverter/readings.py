"""What an inverter knows about itself: identity, nameplate and one instant's readings.

Plain frozen data: the sun model produces :class:`Readings`, the register image encodes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

__all__ = ["Identity", "MpptReading", "Nameplate", "OperatingState", "Readings"]


class OperatingState(IntEnum):
    """SunSpec ``St`` (models 103/113) and ``DCSt`` (model 160) values."""

    OFF = 1
    SLEEPING = 2
    STARTING = 3
    MPPT = 4
    THROTTLED = 5
    SHUTTING_DOWN = 6
    FAULT = 7
    STANDBY = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """The common model (1) strings of one inverter."""

    #: manufacturer name (``Mn``, at most 32 characters)
    manufacturer: str
    #: model name (``Md``, at most 32 characters)
    model: str
    #: options (``Opt``, at most 16 characters)
    options: str
    #: firmware version (``Vr``, at most 16 characters)
    version: str
    #: serial number (``SN``, at most 32 characters)
    serial: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Nameplate:
    """The nameplate model (120) ratings of a PV inverter."""

    #: continuous active power rating in W (``WRtg``)
    w_rating: int
    #: continuous apparent power rating in VA (``VARtg``)
    va_rating: int
    #: continuous reactive power rating in var, every quadrant (``VArRtgQ1..4``)
    var_rating: int
    #: maximum RMS AC current in A (``ARtg``)
    a_rating: float
    #: minimum power factor, every quadrant (``PFRtgQ1..4``)
    pf_min: float


@dataclass(frozen=True, slots=True, kw_only=True)
class MpptReading:
    """One DC input (a module of model 160)."""

    #: DC current in A
    current: float
    #: DC voltage in V
    voltage: float
    #: DC power in W
    power: float
    #: lifetime energy in Wh
    energy_wh: int
    #: temperature in degrees Celsius
    temperature: float
    #: operating state of this input
    state: OperatingState


@dataclass(frozen=True, slots=True, kw_only=True)
class Readings:
    """The measured values of one instant (models 103/113, 122, 160)."""

    #: seconds since 2000-01-01 00:00 UTC (``Tms``)
    timestamp: int
    #: total AC power in W
    ac_power: float
    #: phase currents in A (A, B, C)
    phase_currents: tuple[float, float, float]
    #: phase-to-neutral voltages in V (AN, BN, CN)
    phase_voltages: tuple[float, float, float]
    #: phase-to-phase voltages in V (AB, BC, CA)
    line_voltages: tuple[float, float, float]
    #: line frequency in Hz
    frequency: float
    #: lifetime AC energy in Wh
    energy_wh: int
    #: cabinet temperature in degrees Celsius
    cabinet_temperature: float
    #: heat sink temperature in degrees Celsius
    heatsink_temperature: float
    #: operating state
    state: OperatingState
    #: the DC inputs
    mppts: tuple[MpptReading, ...]
    #: SunSpec event bits ``Evt1`` (bit 7: over-temperature, ...)
    events: int = 0

    @property
    def ac_current(self) -> float:
        """Total AC current in A (sum of the phases)."""
        return sum(self.phase_currents)

    @property
    def dc_power(self) -> float:
        """Total DC power in W."""
        return sum(m.power for m in self.mppts)

    @property
    def dc_current(self) -> float:
        """Total DC current in A."""
        return sum(m.current for m in self.mppts)

    @property
    def dc_voltage(self) -> float:
        """Mean DC voltage in V."""
        return sum(m.voltage for m in self.mppts) / len(self.mppts) if self.mppts else 0.0
