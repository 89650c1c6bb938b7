"""SunSpec register images against literal expectations from the model definitions."""

from __future__ import annotations

import math
import struct

import pytest

from simulator.inverter import encoding as enc
from simulator.inverter.image import (
    InverterModel,
    ModelHeader,
    build_image,
    walk_models,
)
from simulator.inverter.models import (
    common_model,
    inverter_model_103,
    inverter_model_113,
    mppt_model,
    nameplate_model,
    status_model,
)
from simulator.inverter.readings import (
    Identity,
    MpptReading,
    Nameplate,
    OperatingState,
    Readings,
)

IDENTITY = Identity(
    manufacturer="Sonnwerk", model="TRI 10K", options="3P", version="1.2.3", serial="SW1234"
)
NAMEPLATE = Nameplate(w_rating=10000, va_rating=10000, var_rating=6000, a_rating=15.9, pf_min=0.8)
READINGS = Readings(
    timestamp=800_000_000,
    ac_power=6000.0,
    phase_currents=(8.7, 8.7, 8.6),
    phase_voltages=(230.0, 231.0, 229.5),
    line_voltages=(399.2, 398.9, 399.0),
    frequency=50.01,
    energy_wh=1_234_567,
    cabinet_temperature=35.5,
    heatsink_temperature=48.2,
    state=OperatingState.MPPT,
    mppts=(
        MpptReading(
            current=10.0,
            voltage=600.0,
            power=3300.0,
            energy_wh=70000,
            temperature=45.4,
            state=OperatingState.MPPT,
        ),
        MpptReading(
            current=5.5,
            voltage=560.0,
            power=3080.0,
            energy_wh=65000,
            temperature=45.4,
            state=OperatingState.MPPT,
        ),
    ),
)


def f32(value: float) -> list[int]:
    raw = struct.pack(">f", value)
    return [int.from_bytes(raw[:2], "big"), int.from_bytes(raw[2:], "big")]


def test_encodings_and_not_implemented_values() -> None:
    assert enc.uint16(None) == [0xFFFF]
    assert enc.int16(None) == [0x8000]
    assert enc.int16(-1) == [0xFFFF]
    assert enc.sunssf(None) == [0x8000]
    assert enc.sunssf(-2) == [0xFFFE]
    assert enc.acc32(None) == [0, 0]
    assert enc.acc32(0x12345678) == [0x1234, 0x5678]
    assert enc.acc64(0x0102030405060708) == [0x0102, 0x0304, 0x0506, 0x0708]
    assert enc.float32(None) == [0x7FC0, 0x0000]
    assert enc.float32(1.0) == [0x3F80, 0x0000]
    assert enc.bitfield32(None) == [0xFFFF, 0xFFFF]
    assert enc.uint32(None) == [0xFFFF, 0xFFFF]
    assert enc.string("SunS", 2) == [0x5375, 0x6E53]
    assert enc.string(None, 2) == [0, 0]
    with pytest.raises(ValueError, match="uint16"):
        enc.uint16(0xFFFF)
    with pytest.raises(ValueError, match="longer"):
        enc.string("abcde", 2)


def test_common_model_layout() -> None:
    regs = common_model(IDENTITY, device_address=7)
    assert regs[:2] == [1, 66]
    assert len(regs) == 68
    assert regs[2:6] == [0x536F, 0x6E6E, 0x7765, 0x726B]  # "Sonnwerk"
    assert regs[6:18] == [0] * 12
    assert regs[18:22] == [0x5452, 0x4920, 0x3130, 0x4B00]  # "TRI 10K"
    assert regs[34] == 0x3350  # Opt "3P"
    assert regs[42:45] == [0x312E, 0x322E, 0x3300]  # Vr "1.2.3"
    assert regs[50:53] == [0x5357, 0x3132, 0x3334]  # SN "SW1234"
    assert regs[66] == 7  # DA
    assert regs[67] == 0x8000  # Pad


def test_inverter_model_103_literal() -> None:
    regs = inverter_model_103(READINGS, w_rating=10000)
    assert regs == [
        103, 50,
        2600, 870, 870, 860, 0xFFFE,  # A, AphA..C, A_SF -2
        3992, 3989, 3990, 2300, 2310, 2295, 0xFFFF,  # PPV AB..CA, PhV A..C, V_SF -1
        6000, 0,  # W, W_SF
        5001, 0xFFFE,  # Hz, Hz_SF
        6000, 0,  # VA, VA_SF
        0, 0,  # VAr, VAr_SF
        0x8000, 0x8000,  # PF, PF_SF not implemented
        0x0012, 0xD687, 0,  # WH acc32 1234567, WH_SF
        1550, 0xFFFE,  # DCA 15.50, DCA_SF
        5800, 0xFFFF,  # DCV 580.0, DCV_SF
        6380, 0,  # DCW, DCW_SF
        355, 482, 0x8000, 0x8000, 0xFFFF,  # TmpCab, TmpSnk, TmpTrns, TmpOt, Tmp_SF -1
        4, 0xFFFF,  # St MPPT, StVnd not implemented
        0, 0, 0, 0,  # Evt1, Evt2
        *([0xFFFF] * 8),  # EvtVnd1..4 not implemented
    ]  # fmt: skip


def test_inverter_model_113_literal() -> None:
    regs = inverter_model_113(READINGS)
    assert regs[:2] == [113, 60]
    assert len(regs) == 62
    assert regs[2:4] == f32(26.0)
    assert regs[4:6] == f32(8.7)
    assert regs[16:18] == f32(230.0)  # PhVphA
    assert regs[22:24] == f32(6000.0)  # W
    assert regs[24:26] == f32(50.01)  # Hz
    assert regs[30:32] == [0x7FC0, 0]  # PF not implemented
    assert regs[32:34] == f32(1234567.0)  # WH
    assert regs[38:40] == f32(6380.0)  # DCW
    assert regs[44:48] == [0x7FC0, 0, 0x7FC0, 0]  # TmpTrns, TmpOt
    assert regs[48:50] == [4, 0xFFFF]  # St, StVnd
    assert regs[50:54] == [0, 0, 0, 0]
    assert regs[54:62] == [0xFFFF] * 8
    assert not math.isnan(struct.unpack(">f", struct.pack(">HH", *regs[2:4]))[0])


def test_nameplate_model_literal() -> None:
    assert nameplate_model(NAMEPLATE) == [
        120, 26,
        4,  # DERTyp PV
        10000, 0,  # WRtg, WRtg_SF
        10000, 0,  # VARtg, VARtg_SF
        6000, 6000, (-6000) & 0xFFFF, (-6000) & 0xFFFF, 0,  # VArRtgQ1..4, VArRtg_SF
        159, 0xFFFF,  # ARtg 15.9, ARtg_SF -1
        80, 80, 80, 80, 0xFFFE,  # PFRtgQ1..4 0.80, PFRtg_SF -2
        0xFFFF, 0x8000, 0xFFFF, 0x8000, 0xFFFF, 0x8000, 0xFFFF, 0x8000,  # storage: n/a
        0x8000,  # Pad
    ]  # fmt: skip


def test_status_model_literal() -> None:
    regs = status_model(READINGS, operating=True)
    assert regs[:2] == [122, 44]
    assert len(regs) == 46
    assert regs[2:5] == [7, 0, 1]  # PVConn connected|available|operating, StorConn, ECPConn
    assert regs[5:9] == [0, 0, 0x0012, 0xD687]  # ActWh acc64
    assert regs[13:29] == [0] * 16  # ActVArhQ1..4: not accumulated
    assert regs[29:31] == [0x8000, 0x8000]  # VArAval, VArAval_SF
    assert regs[31:33] == [6000, 0]  # WAval, WAval_SF
    assert regs[37:41] == [0x5254, 0x4300, 0, 0]  # TmSrc "RTC"
    assert regs[41:43] == [800_000_000 >> 16, 800_000_000 & 0xFFFF]  # Tms
    assert regs[44:46] == [3000, 3]  # Ris, Ris_SF
    assert status_model(READINGS, operating=False)[2] == 3


def test_mppt_model_literal() -> None:
    regs = mppt_model(READINGS)
    assert regs[:2] == [160, 8 + 20 * 2]
    assert len(regs) == 50
    assert regs[2:10] == [0xFFFE, 0xFFFF, 0, 0, 0, 0, 2, 0xFFFF]  # SFs, Evt, N=2, TmsPer n/a
    module1 = regs[10:30]
    assert module1[0] == 1
    assert module1[1:9] == [0x5056, 0x3100, 0, 0, 0, 0, 0, 0]  # IDStr "PV1"
    assert module1[9:12] == [1000, 6000, 3300]  # DCA 10.00 A, DCV 600.0 V, DCW 3300 W
    assert module1[12:14] == [1, 70000 - 65536]  # DCWH acc32
    assert module1[14:16] == [800_000_000 >> 16, 800_000_000 & 0xFFFF]
    assert module1[16:18] == [45, 4]  # Tmp, DCSt MPPT
    assert module1[18:20] == [0, 0]
    assert regs[30] == 2


@pytest.mark.parametrize(
    ("model", "chain"),
    [
        (
            InverterModel.INTEGER,
            [(1, 40002, 66), (103, 40070, 50), (120, 40122, 26), (122, 40150, 44),
             (160, 40196, 48), (0xFFFF, 40246, 0)],
        ),
        (
            InverterModel.FLOAT,
            [(1, 40002, 66), (113, 40070, 60), (120, 40132, 26), (122, 40160, 44),
             (160, 40206, 48), (0xFFFF, 40256, 0)],
        ),
    ],
)  # fmt: skip
def test_image_chain(model: InverterModel, chain: list[tuple[int, int, int]]) -> None:
    image = build_image(
        identity=IDENTITY,
        nameplate=NAMEPLATE,
        readings=READINGS,
        inverter_model=model,
        device_address=1,
        rated_power=10000,
    )
    assert image[:2] == [0x5375, 0x6E53]
    assert walk_models(image) == [ModelHeader(*c) for c in chain]
    assert image[-2:] == [0xFFFF, 0]
    assert len(image) == chain[-1][1] - 40000 + 2


def test_image_without_nameplate_skips_model_120() -> None:
    image = build_image(
        identity=IDENTITY,
        nameplate=None,
        readings=READINGS,
        inverter_model=InverterModel.INTEGER,
        device_address=1,
        rated_power=10000,
    )
    assert [h.model_id for h in walk_models(image)] == [1, 103, 122, 160, 0xFFFF]


def test_walk_models_refuses_images_without_marker() -> None:
    with pytest.raises(ValueError, match="SunS"):
        walk_models([0, 0, 0xFFFF, 0])
    with pytest.raises(ValueError, match="end model"):
        walk_models([0x5375, 0x6E53, 1, 66])
