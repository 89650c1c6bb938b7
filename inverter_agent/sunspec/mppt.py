"""Model 160: multiple MPPT inverter extension (one repeating group per DC input).

Offsets relative to the first data register (L = 8 + 20·N)::

    fixed part   0 DCA_SF  1 DCV_SF  2 DCW_SF  3 DCWH_SF  4-5 Evt (bitfield32)  6 N  7 TmsPer
    module k     at 8 + 20·k:
                 0 ID  1-8 IDStr (string)  9 DCA  10 DCV  11 DCW  12-13 DCWH (acc32)
                 14-15 Tms (uint32)  16 Tmp (int16, °C, unscaled)  17 DCSt  18-19 DCEvt

``N`` may be "not implemented"; the module count then follows from ``L``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inverter_agent.errors import SunSpecError
from inverter_agent.sunspec.models import OperatingState
from inverter_agent.sunspec.points import Registers, scaled

__all__ = ["MPPT_MODEL", "Mppt", "MpptModule", "decode_mppt"]

MPPT_MODEL = 160
_FIXED = 8
_MODULE = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class MpptModule:
    """One DC input (tracker) of model 160."""

    input_id: int | None
    """``ID``: input id."""
    label: str | None
    """``IDStr``: input name."""
    dc_a: float | None
    """``DCA``: DC current, A."""
    dc_v: float | None
    """``DCV``: DC voltage, V."""
    dc_w: float | None
    """``DCW``: DC power, W."""
    dc_wh: float | None
    """``DCWH``: lifetime DC energy, Wh."""
    tms: int | None
    """``Tms``: timestamp, seconds since 2000-01-01 00:00 UTC."""
    tmp: int | None
    """``Tmp``: module temperature, °C."""
    state: OperatingState | None
    """``DCSt``: operating state of this input."""
    events: int | None
    """``DCEvt``: event bits of this input."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Mppt:
    """Model 160 as a whole."""

    events: int | None
    """``Evt``: global event bits."""
    timestamp_period: int | None
    """``TmsPer``: timestamp period."""
    modules: tuple[MpptModule, ...]
    """The DC inputs."""


def mppt_length(modules: int) -> int:
    """``L`` of a model 160 with ``modules`` inputs."""
    return _FIXED + _MODULE * modules


def decode_mppt(data: Sequence[int]) -> Mppt:
    """Decode the data registers of model 160 (``len(data)`` is its ``L``)."""
    r = Registers(data, model_id=MPPT_MODEL, length=_FIXED)
    count = r.uint16(6)
    if count is None:
        count = (len(r) - _FIXED) // _MODULE
    elif mppt_length(count) > len(r):
        raise SunSpecError(
            f"model 160: N={count} needs {mppt_length(count)} registers, L is {len(r)}"
        )
    dca_sf, dcv_sf, dcw_sf, dcwh_sf = r.sunssf(0), r.sunssf(1), r.sunssf(2), r.sunssf(3)
    modules = []
    for k in range(count):
        at = _FIXED + _MODULE * k
        modules.append(
            MpptModule(
                input_id=r.uint16(at),
                label=r.string(at + 1, 8),
                dc_a=scaled(r.uint16(at + 9), dca_sf),
                dc_v=scaled(r.uint16(at + 10), dcv_sf),
                dc_w=scaled(r.uint16(at + 11), dcw_sf),
                dc_wh=scaled(r.acc32(at + 12), dcwh_sf),
                tms=r.uint32(at + 14),
                tmp=r.int16(at + 16),
                state=OperatingState.from_register(r.enum16(at + 17)),
                events=r.bitfield32(at + 18),
            )
        )
    return Mppt(events=r.bitfield32(4), timestamp_period=r.uint16(7), modules=tuple(modules))
