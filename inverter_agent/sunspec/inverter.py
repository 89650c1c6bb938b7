"""Inverter models: 101/102/103 (integer with scale factors) and 111/112/113 (float32).

The last digit is the phase count (1 single, 2 split, 3 three phase); the layout within each
family is the same. Offsets relative to the first data register:

Integer models (L=50)::

     0 A        1 AphA     2 AphB     3 AphC     4 A_SF
     5 PPVphAB  6 PPVphBC  7 PPVphCA  8 PhVphA   9 PhVphB  10 PhVphC  11 V_SF
    12 W (int16)           13 W_SF    14 Hz      15 Hz_SF
    16 VA (int16)          17 VA_SF   18 VAr (int16)        19 VAr_SF
    20 PF (int16)          21 PF_SF   22-23 WH (acc32)      24 WH_SF
    25 DCA      26 DCA_SF  27 DCV     28 DCV_SF  29 DCW (int16)        30 DCW_SF
    31 TmpCab   32 TmpSnk  33 TmpTrns 34 TmpOt   35 Tmp_SF (temperatures int16)
    36 St       37 StVnd   38-39 Evt1 40-41 Evt2 42-49 EvtVnd1..4

Float models (L=60), every measurement a float32 (two registers), in the same order::

     0 A   2 AphA  4 AphB  6 AphC  8 PPVphAB 10 PPVphBC 12 PPVphCA 14 PhVphA 16 PhVphB
    18 PhVphC 20 W 22 Hz 24 VA 26 VAr 28 PF 30 WH 32 DCA 34 DCV 36 DCW
    38 TmpCab 40 TmpSnk 42 TmpTrns 44 TmpOt 46 St 47 StVnd 48-49 Evt1 50-51 Evt2 52-59 EvtVnd1..4
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inverter_agent.errors import SunSpecError
from inverter_agent.sunspec.models import OperatingState
from inverter_agent.sunspec.points import Registers, scaled

__all__ = [
    "FLOAT_INVERTER_MODELS",
    "INTEGER_INVERTER_MODELS",
    "INVERTER_MODELS",
    "InverterReading",
    "decode_inverter",
]

INTEGER_INVERTER_MODELS = (101, 102, 103)
FLOAT_INVERTER_MODELS = (111, 112, 113)
INVERTER_MODELS = INTEGER_INVERTER_MODELS + FLOAT_INVERTER_MODELS
_INTEGER_LENGTH = 50
_FLOAT_LENGTH = 60

Triple = tuple[float | None, float | None, float | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class InverterReading:
    """One decoded inverter model (101-103 or 111-113)."""

    model_id: int
    """Which model it came from."""
    phases: int
    """1, 2 (split phase) or 3."""
    a: float | None
    """``A``: total AC current, A."""
    a_ph: Triple
    """``AphA``, ``AphB``, ``AphC``: phase currents, A."""
    v_ph_ph: Triple
    """``PPVphAB``, ``PPVphBC``, ``PPVphCA``: phase-to-phase voltages, V."""
    v_ph: Triple
    """``PhVphA``, ``PhVphB``, ``PhVphC``: phase-to-neutral voltages, V."""
    w: float | None
    """``W``: AC active power, W."""
    hz: float | None
    """``Hz``: line frequency."""
    va: float | None
    """``VA``: apparent power."""
    var: float | None
    """``VAr``: reactive power."""
    pf: float | None
    """``PF``: power factor in percent."""
    wh: float | None
    """``WH``: lifetime AC energy, Wh."""
    dc_a: float | None
    """``DCA``: DC current, A."""
    dc_v: float | None
    """``DCV``: DC voltage, V."""
    dc_w: float | None
    """``DCW``: DC power, W."""
    tmp_cab: float | None
    """``TmpCab``: cabinet temperature, °C."""
    tmp_snk: float | None
    """``TmpSnk``: heat-sink temperature, °C."""
    tmp_trns: float | None
    """``TmpTrns``: transformer temperature, °C."""
    tmp_ot: float | None
    """``TmpOt``: other temperature, °C."""
    state: OperatingState | None
    """``St``: operating state."""
    vendor_state: int | None
    """``StVnd``: vendor-specific state code."""
    events: int | None
    """``Evt1``: event bits (0 ground fault … 15 hardware test failure)."""
    events2: int | None
    """``Evt2``: reserved event bits."""
    vendor_events: tuple[int | None, int | None, int | None, int | None]
    """``EvtVnd1..4``: vendor event bits."""


def decode_inverter(model_id: int, data: Sequence[int]) -> InverterReading:
    """Decode the data registers of model ``model_id`` (101-103 or 111-113)."""
    if model_id in INTEGER_INVERTER_MODELS:
        return _decode_integer(model_id, Registers(data, model_id=model_id, length=_INTEGER_LENGTH))
    if model_id in FLOAT_INVERTER_MODELS:
        return _decode_float(model_id, Registers(data, model_id=model_id, length=_FLOAT_LENGTH))
    raise SunSpecError(f"model {model_id} is not an inverter model")


def _decode_integer(model_id: int, r: Registers) -> InverterReading:
    a_sf, v_sf, tmp_sf = r.sunssf(4), r.sunssf(11), r.sunssf(35)

    def a(offset: int) -> float | None:
        return scaled(r.uint16(offset), a_sf)

    def v(offset: int) -> float | None:
        return scaled(r.uint16(offset), v_sf)

    def tmp(offset: int) -> float | None:
        return scaled(r.int16(offset), tmp_sf)

    return InverterReading(
        model_id=model_id,
        phases=model_id % 10,
        a=a(0),
        a_ph=(a(1), a(2), a(3)),
        v_ph_ph=(v(5), v(6), v(7)),
        v_ph=(v(8), v(9), v(10)),
        w=r.scaled_int16(12, 13),
        hz=r.scaled_uint16(14, 15),
        va=r.scaled_int16(16, 17),
        var=r.scaled_int16(18, 19),
        pf=r.scaled_int16(20, 21),
        wh=scaled(r.acc32(22), r.sunssf(24)),
        dc_a=r.scaled_uint16(25, 26),
        dc_v=r.scaled_uint16(27, 28),
        dc_w=r.scaled_int16(29, 30),
        tmp_cab=tmp(31),
        tmp_snk=tmp(32),
        tmp_trns=tmp(33),
        tmp_ot=tmp(34),
        state=OperatingState.from_register(r.enum16(36)),
        vendor_state=r.enum16(37),
        events=r.bitfield32(38),
        events2=r.bitfield32(40),
        vendor_events=(r.bitfield32(42), r.bitfield32(44), r.bitfield32(46), r.bitfield32(48)),
    )


def _decode_float(model_id: int, r: Registers) -> InverterReading:
    f = r.float32
    return InverterReading(
        model_id=model_id,
        phases=model_id % 10,
        a=f(0),
        a_ph=(f(2), f(4), f(6)),
        v_ph_ph=(f(8), f(10), f(12)),
        v_ph=(f(14), f(16), f(18)),
        w=f(20),
        hz=f(22),
        va=f(24),
        var=f(26),
        pf=f(28),
        wh=f(30),
        dc_a=f(32),
        dc_v=f(34),
        dc_w=f(36),
        tmp_cab=f(38),
        tmp_snk=f(40),
        tmp_trns=f(42),
        tmp_ot=f(44),
        state=OperatingState.from_register(r.enum16(46)),
        vendor_state=r.enum16(47),
        events=r.bitfield32(48),
        events2=r.bitfield32(50),
        vendor_events=(r.bitfield32(52), r.bitfield32(54), r.bitfield32(56), r.bitfield32(58)),
    )
