"""SunSpec models 1, 103, 113, 120, 122 and 160 as register lists (pure).

Each builder returns the whole model including its ``ID`` and ``L`` registers, laid out
point by point as in the SunSpec model definitions (sunspec/models ``json/model_<id>.json``).
Points this simulator does not implement carry the type's "not implemented" value.

Scale factors used (value = register * 10**sf):

======  ==========================================  ====
model   points                                      sf
======  ==========================================  ====
103     A, AphA..C                                  -2
103     PPVphAB..CA, PhVphA..C                      -1
103     W, VA, VAr (W_SF +1 above 32 kW)             0
103     Hz                                          -2
103     WH                                           0
103     DCA / DCV / DCW                             -2 / -1 / 0
103     TmpCab, TmpSnk                              -1
120     WRtg, VARtg, VArRtg (+1 above 65 kW)         0
120     ARtg / PFRtg                                -1 / -2
122     WAval 0, Ris 3 (kOhm -> Ohm)
160     DCA / DCV / DCW / DCWH                      -2 / -1 / 0 / 0
======  ==========================================  ====
"""

from __future__ import annotations

from simulator.inverter import encoding as enc
from simulator.inverter.readings import Identity, MpptReading, Nameplate, Readings

__all__ = [
    "MODEL_LENGTHS",
    "common_model",
    "inverter_model_103",
    "inverter_model_113",
    "mppt_model",
    "nameplate_model",
    "status_model",
]

#: the fixed ``L`` of each model (160: 8 + 20 per module)
MODEL_LENGTHS: dict[int, int] = {1: 66, 103: 50, 113: 60, 120: 26, 122: 44}
_MPPT_FIXED = 8
_MPPT_MODULE = 20


class _Model:
    """Collects the points of one model and checks the declared length."""

    def __init__(self, model_id: int, length: int) -> None:
        self._length = length
        self._regs = [model_id, length]

    def add(self, *points: list[int]) -> None:
        for regs in points:
            self._regs.extend(regs)

    def build(self) -> list[int]:
        if len(self._regs) != self._length + 2:
            raise RuntimeError(f"model {self._regs[0]}: {len(self._regs) - 2} != L {self._length}")
        return self._regs


def common_model(identity: Identity, device_address: int) -> list[int]:
    """Model 1 (common), L = 66."""
    model = _Model(1, 66)
    model.add(
        enc.string(identity.manufacturer, 16),
        enc.string(identity.model, 16),
        enc.string(identity.options, 8),
        enc.string(identity.version, 8),
        enc.string(identity.serial, 16),
        enc.uint16(device_address),
        enc.pad(),
    )
    return model.build()


def _power_sf(watts: float) -> int:
    return 0 if abs(watts) <= 32_000 else 1


def inverter_model_103(readings: Readings, w_rating: int) -> list[int]:
    """Model 103 (three-phase inverter, integer and scale factors), L = 50."""
    r = readings
    w_sf = _power_sf(w_rating)
    model = _Model(103, 50)
    model.add(
        enc.uint16(enc.scaled(r.ac_current, -2)),
        *(enc.uint16(enc.scaled(a, -2)) for a in r.phase_currents),
        enc.sunssf(-2),
        *(enc.uint16(enc.scaled(v, -1)) for v in r.line_voltages),
        *(enc.uint16(enc.scaled(v, -1)) for v in r.phase_voltages),
        enc.sunssf(-1),
        enc.int16(enc.scaled(r.ac_power, w_sf)),
        enc.sunssf(w_sf),
        enc.uint16(enc.scaled(r.frequency, -2)),
        enc.sunssf(-2),
        enc.int16(enc.scaled(r.ac_power, w_sf)),  # VA: unity power factor
        enc.sunssf(w_sf),
        enc.int16(0),  # VAr
        enc.sunssf(w_sf),
        enc.int16(None),  # PF: not implemented
        enc.sunssf(None),
        enc.acc32(r.energy_wh),
        enc.sunssf(0),
        enc.uint16(enc.scaled(r.dc_current, -2)),
        enc.sunssf(-2),
        enc.uint16(enc.scaled(r.dc_voltage, -1)),
        enc.sunssf(-1),
        enc.int16(enc.scaled(r.dc_power, w_sf)),
        enc.sunssf(w_sf),
        enc.int16(enc.scaled(r.cabinet_temperature, -1)),
        enc.int16(enc.scaled(r.heatsink_temperature, -1)),
        enc.int16(None),  # TmpTrns
        enc.int16(None),  # TmpOt
        enc.sunssf(-1),
        enc.enum16(int(r.state)),
        enc.enum16(None),  # StVnd
        enc.bitfield32(r.events),  # Evt1
        enc.bitfield32(0),  # Evt2
        *(enc.bitfield32(None) for _ in range(4)),  # EvtVnd1..4
    )
    return model.build()


def inverter_model_113(readings: Readings) -> list[int]:
    """Model 113 (three-phase inverter, float32), L = 60."""
    r = readings
    model = _Model(113, 60)
    model.add(
        enc.float32(r.ac_current),
        *(enc.float32(a) for a in r.phase_currents),
        *(enc.float32(v) for v in r.line_voltages),
        *(enc.float32(v) for v in r.phase_voltages),
        enc.float32(r.ac_power),
        enc.float32(r.frequency),
        enc.float32(r.ac_power),  # VA: unity power factor
        enc.float32(0.0),  # VAr
        enc.float32(None),  # PF: not implemented
        enc.float32(float(r.energy_wh)),
        enc.float32(r.dc_current),
        enc.float32(r.dc_voltage),
        enc.float32(r.dc_power),
        enc.float32(r.cabinet_temperature),
        enc.float32(r.heatsink_temperature),
        enc.float32(None),  # TmpTrns
        enc.float32(None),  # TmpOt
        enc.enum16(int(r.state)),
        enc.enum16(None),  # StVnd
        enc.bitfield32(r.events),  # Evt1
        enc.bitfield32(0),  # Evt2
        *(enc.bitfield32(None) for _ in range(4)),
    )
    return model.build()


def nameplate_model(nameplate: Nameplate) -> list[int]:
    """Model 120 (nameplate ratings of a PV inverter), L = 26."""
    n = nameplate
    sf = 0 if max(n.w_rating, n.va_rating) < 65_000 else 1
    pf = enc.scaled(n.pf_min, -2)
    var = enc.scaled(n.var_rating, sf)
    model = _Model(120, 26)
    model.add(
        enc.enum16(4),  # DERTyp: PV
        enc.uint16(enc.scaled(n.w_rating, sf)),
        enc.sunssf(sf),
        enc.uint16(enc.scaled(n.va_rating, sf)),
        enc.sunssf(sf),
        enc.int16(var),
        enc.int16(var),
        enc.int16(None if var is None else -var),
        enc.int16(None if var is None else -var),
        enc.sunssf(sf),
        enc.uint16(enc.scaled(n.a_rating, -1)),
        enc.sunssf(-1),
        enc.int16(pf),
        enc.int16(pf),
        enc.int16(pf),
        enc.int16(pf),
        enc.sunssf(-2),
        *(enc.uint16(None) + enc.sunssf(None) for _ in range(4)),  # storage ratings
        enc.pad(),
    )
    return model.build()


def status_model(readings: Readings, *, operating: bool) -> list[int]:
    """Model 122 (extended measurements and status), L = 44."""
    r = readings
    pv_conn = 0b111 if operating else 0b011  # CONNECTED | AVAILABLE | OPERATING
    model = _Model(122, 44)
    model.add(
        enc.bitfield16(pv_conn),
        enc.bitfield16(0),  # StorConn: no storage
        enc.bitfield16(1),  # ECPConn: connected
        enc.acc64(r.energy_wh),  # ActWh
        enc.acc64(r.energy_wh),  # ActVAh: unity power factor
        *(enc.acc64(None) for _ in range(4)),  # ActVArhQ1..4
        enc.int16(None),  # VArAval
        enc.sunssf(None),
        enc.uint16(enc.scaled(r.ac_power, 0)),  # WAval
        enc.sunssf(0),
        enc.bitfield32(0),  # StSetLimMsk
        enc.bitfield32(0),  # StActCtl
        enc.string("RTC", 4),  # TmSrc
        enc.uint32(r.timestamp),
        enc.bitfield16(0),  # RtSt
        enc.uint16(3000),  # Ris: 3000 kOhm
        enc.sunssf(3),
    )
    return model.build()


def _mppt_module(index: int, reading: MpptReading, timestamp: int) -> list[int]:
    return [
        *enc.uint16(index),
        *enc.string(f"PV{index}", 8),
        *enc.uint16(enc.scaled(reading.current, -2)),
        *enc.uint16(enc.scaled(reading.voltage, -1)),
        *enc.uint16(enc.scaled(reading.power, 0)),
        *enc.acc32(reading.energy_wh),
        *enc.uint32(timestamp),
        *enc.int16(round(reading.temperature)),
        *enc.enum16(int(reading.state)),
        *enc.bitfield32(0),
    ]


def mppt_model(readings: Readings) -> list[int]:
    """Model 160 (multiple MPPT extension), L = 8 + 20 * N."""
    n = len(readings.mppts)
    model = _Model(160, _MPPT_FIXED + _MPPT_MODULE * n)
    model.add(
        enc.sunssf(-2),
        enc.sunssf(-1),
        enc.sunssf(0),
        enc.sunssf(0),
        enc.bitfield32(0),  # Evt
        enc.uint16(n),
        enc.uint16(None),  # TmsPer
    )
    for index, reading in enumerate(readings.mppts, start=1):
        model.add(_mppt_module(index, reading, readings.timestamp))
    return model.build()
