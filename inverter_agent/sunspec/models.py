"""Decoded SunSpec models as frozen dataclasses; every value that is not implemented is ``None``.

Offsets below are relative to the first data register (after ``ID`` and ``L``), as in the
SunSpec model definitions (sunspec/models, ``json/model_<id>.json``):

* 1 common (L=66): Mn 0..15, Md 16..31, Opt 32..39, Vr 40..47, SN 48..63, DA 64, Pad 65
* 101/102/103 inverter, integer + scale factors (L=50), see :mod:`.inverter`
* 111/112/113 inverter, float32 (L=60), see :mod:`.inverter`
* 120 nameplate (L=26): DERTyp 0, WRtg 1, WRtg_SF 2, VARtg 3, VARtg_SF 4, VArRtgQ1..Q4 5..8,
  VArRtg_SF 9, ARtg 10, ARtg_SF 11, PFRtgQ1..Q4 12..15, PFRtg_SF 16, WHRtg 17, WHRtg_SF 18,
  AhrRtg 19, AhrRtg_SF 20, MaxChaRte 21, MaxChaRte_SF 22, MaxDisChaRte 23, MaxDisChaRte_SF 24,
  Pad 25
* 122 measurements and status (L=44): PVConn 0, StorConn 1, ECPConn 2, ActWh 3..6, ActVAh 7..10,
  ActVArhQ1..Q4 11..26, VArAval 27, VArAval_SF 28, WAval 29, WAval_SF 30, StSetLimMsk 31..32,
  StActCtl 33..34, TmSrc 35..38, Tms 39..40, RtSt 41, Ris 42, Ris_SF 43
* 160 multiple MPPT (L=8+20·N), see :mod:`.mppt`
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from inverter_agent.sunspec.points import Registers
from inverter_agent.sunspec.points import scaled as _s

__all__ = [
    "COMMON_LENGTH",
    "NAMEPLATE_LENGTH",
    "STATUS_LENGTH",
    "CommonModel",
    "Nameplate",
    "OperatingState",
    "Status",
    "decode_common",
    "decode_nameplate",
    "decode_status",
]

COMMON_LENGTH = 66
NAMEPLATE_LENGTH = 26
STATUS_LENGTH = 44


class OperatingState(IntEnum):
    """Operating state ``St`` (models 10x/11x) and ``DCSt`` (model 160)."""

    OFF = 1
    SLEEPING = 2
    STARTING = 3
    MPPT = 4
    THROTTLED = 5
    SHUTTING_DOWN = 6
    FAULT = 7
    STANDBY = 8
    TEST = 9

    @classmethod
    def from_register(cls, value: int | None) -> OperatingState | None:
        """The state, or ``None`` when not implemented or not a SunSpec state."""
        if value is None:
            return None
        try:
            return cls(value)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True, kw_only=True)
class CommonModel:
    """Model 1: who the device is."""

    manufacturer: str | None
    """``Mn``: manufacturer, registered with SunSpec."""
    model: str | None
    """``Md``: the manufacturer's model name."""
    options: str | None
    """``Opt``: manufacturer-specific options."""
    version: str | None
    """``Vr``: firmware version."""
    serial: str | None
    """``SN``: serial number."""
    device_address: int | None
    """``DA``: Modbus device address."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Nameplate:
    """Model 120: ratings."""

    der_type: int | None
    """``DERTyp``: 4 = PV, 82 = PV with storage."""
    w_rtg: float | None
    """``WRtg``: continuous power output capability, W."""
    va_rtg: float | None
    """``VARtg``: continuous apparent power capability, VA."""
    var_rtg: tuple[float | None, float | None, float | None, float | None]
    """``VArRtgQ1..Q4``: reactive power capability per quadrant, var."""
    a_rtg: float | None
    """``ARtg``: maximum RMS AC current, A."""
    pf_rtg: tuple[float | None, float | None, float | None, float | None]
    """``PFRtgQ1..Q4``: minimum power factor per quadrant."""
    wh_rtg: float | None
    """``WHRtg``: storage energy rating, Wh."""
    ahr_rtg: float | None
    """``AhrRtg``: storage capacity, Ah."""
    max_cha_rte: float | None
    """``MaxChaRte``: maximum charge rate, W."""
    max_dis_cha_rte: float | None
    """``MaxDisChaRte``: maximum discharge rate, W."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Status:
    """Model 122: extended measurements and status."""

    pv_conn: int | None
    """``PVConn`` bits: 0 connected, 1 available, 2 operating, 3 test."""
    stor_conn: int | None
    """``StorConn`` bits, as ``pv_conn``."""
    ecp_conn: int | None
    """``ECPConn``: 1 = connected to the grid."""
    act_wh: int | None
    """``ActWh``: lifetime active energy, Wh."""
    act_vah: int | None
    """``ActVAh``: lifetime apparent energy, VAh."""
    act_varh: tuple[int | None, int | None, int | None, int | None]
    """``ActVArhQ1..Q4``: lifetime reactive energy per quadrant, varh."""
    var_aval: float | None
    """``VArAval``: reactive power available without reducing W, var."""
    w_aval: float | None
    """``WAval``: active power available, W."""
    st_set_lim_msk: int | None
    """``StSetLimMsk``: set-point limits reached (bits)."""
    st_act_ctl: int | None
    """``StActCtl``: active controls (bits)."""
    tm_src: str | None
    """``TmSrc``: source of time synchronisation."""
    tms: int | None
    """``Tms``: device time, seconds since 2000-01-01 00:00 UTC."""
    rt_st: int | None
    """``RtSt``: active ride-through (bits)."""
    ris: float | None
    """``Ris``: isolation resistance, ohm."""


def decode_common(data: Sequence[int]) -> CommonModel:
    """Decode the data registers of model 1."""
    r = Registers(data, model_id=1, length=64)  # DA and Pad are optional
    return CommonModel(
        manufacturer=r.string(0, 16),
        model=r.string(16, 16),
        options=r.string(32, 8),
        version=r.string(40, 8),
        serial=r.string(48, 16),
        device_address=r.uint16(64) if len(r) > 64 else None,
    )


def decode_nameplate(data: Sequence[int]) -> Nameplate:
    """Decode the data registers of model 120."""
    r = Registers(data, model_id=120, length=NAMEPLATE_LENGTH - 1)  # Pad is optional
    var_sf = r.sunssf(9)
    pf_sf = r.sunssf(16)
    return Nameplate(
        der_type=r.enum16(0),
        w_rtg=r.scaled_uint16(1, 2),
        va_rtg=r.scaled_uint16(3, 4),
        var_rtg=(
            _s(r.int16(5), var_sf),
            _s(r.int16(6), var_sf),
            _s(r.int16(7), var_sf),
            _s(r.int16(8), var_sf),
        ),
        a_rtg=r.scaled_uint16(10, 11),
        pf_rtg=(
            _s(r.int16(12), pf_sf),
            _s(r.int16(13), pf_sf),
            _s(r.int16(14), pf_sf),
            _s(r.int16(15), pf_sf),
        ),
        wh_rtg=r.scaled_uint16(17, 18),
        ahr_rtg=r.scaled_uint16(19, 20),
        max_cha_rte=r.scaled_uint16(21, 22),
        max_dis_cha_rte=r.scaled_uint16(23, 24),
    )


def decode_status(data: Sequence[int]) -> Status:
    """Decode the data registers of model 122."""
    r = Registers(data, model_id=122, length=STATUS_LENGTH)
    return Status(
        pv_conn=r.bitfield16(0),
        stor_conn=r.bitfield16(1),
        ecp_conn=r.bitfield16(2),
        act_wh=r.acc64(3),
        act_vah=r.acc64(7),
        act_varh=(r.acc64(11), r.acc64(15), r.acc64(19), r.acc64(23)),
        var_aval=r.scaled_int16(27, 28),
        w_aval=r.scaled_uint16(29, 30),
        st_set_lim_msk=r.bitfield32(31),
        st_act_ctl=r.bitfield32(33),
        tm_src=r.string(35, 4),
        tms=r.uint32(39),
        rt_st=r.bitfield16(41),
        ris=r.scaled_uint16(42, 43),
    )
