"""Literal SunSpec register images, hand-written from the model definitions.

Each model is a list of registers starting at its ``ID`` register; comments name every point.
``IMAGE`` chains them behind the ``SunS`` marker at 40000, with one model (126) the agent does
not decode, so that it has to be stepped over.
"""

from __future__ import annotations

NI16 = 0xFFFF  # uint16 / enum16 / bitfield16 "not implemented"
NI_S = 0x8000  # int16 / sunssf "not implemented"

COMMON = [
    1, 66,  # ID, L
    0x4163, 0x6D65, 0x2053, 0x6F6C, 0x6172, *[0] * 11,  # Mn "Acme Solar"
    0x4153, 0x2D36, 0x3030, 0x302D, 0x3300, *[0] * 11,  # Md "AS-6000-3"
    *[0] * 8,  # Opt: all zero = not implemented
    0x312E, 0x322E, 0x3300, *[0] * 5,  # Vr "1.2.3"
    0x534E, 0x2D30, 0x3034, 0x3200, *[0] * 12,  # SN "SN-0042"
    1,  # DA
    NI_S,  # Pad
]  # fmt: skip

INVERTER_103 = [
    103, 50,  # ID, L
    1234, 412, 411, 411, 0xFFFE,  # A, AphA, AphB, AphC (A), A_SF = -2
    4002, 3999, 4001,  # PPVphAB, PPVphBC, PPVphCA
    2301, 2309, NI16, 0xFFFF,  # PhVphA, PhVphB, PhVphC (not implemented), V_SF = -1
    5000, 0,  # W = 5000, W_SF = 0
    5002, 0xFFFE,  # Hz = 50.02, Hz_SF = -2
    51, 2,  # VA = 51 x 10^2, VA_SF = 2
    0xFF6A, 0,  # VAr = -150, VAr_SF = 0
    NI_S, NI_S,  # PF, PF_SF: not implemented
    0x0001, 0xE240, 1,  # WH = 123456 (acc32), WH_SF = 1 -> 1234560 Wh
    NI16, 0xFFFF,  # DCA not implemented, DCA_SF = -1
    6502, 0xFFFF,  # DCV = 650.2, DCV_SF = -1
    5200, 0,  # DCW, DCW_SF
    452, 0xFE0C, NI_S, NI_S, 0xFFFF,  # TmpCab 45.2, TmpSnk -50.0, TmpTrns, TmpOt, Tmp_SF = -1
    4,  # St = MPPT
    NI16,  # StVnd
    0x0000, 0x0081,  # Evt1: GROUND_FAULT | OVER_TEMP
    0x0000, 0x0000,  # Evt2
    0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF,  # EvtVnd1..4
]  # fmt: skip

INVERTER_113 = [
    113, 60,  # ID, L
    0x4148, 0x0000,  # A = 12.5
    0x40E6, 0x6666, 0x40E3, 0x3333, 0x40E6, 0x6666,  # AphA 7.2, AphB 7.1, AphC 7.2
    0x43C8, 0x0CCD, 0x7FC0, 0x0000, 0x7FC0, 0x0000,  # PPVphAB 400.1, BC and CA NaN
    0x4366, 0xE666, 0x4366, 0xE666, 0x4366, 0xE666,  # PhVphA/B/C 230.9
    0x459C, 0x4000,  # W = 5000.0
    0x4248, 0x147B,  # Hz = 50.02
    0x459F, 0x6000,  # VA = 5100.0
    0xC316, 0x0000,  # VAr = -150.0
    0x42C4, 0x0000,  # PF = 98.0
    0x4996, 0xB438,  # WH = 1234567.0
    0x7FC0, 0x0000,  # DCA NaN
    0x43CD, 0x0000,  # DCV = 410.0
    0x45A0, 0x2800,  # DCW = 5125.0
    0x4226, 0x0000,  # TmpCab = 41.5
    0x7FC0, 0x0000, 0x7FC0, 0x0000, 0x7FC0, 0x0000,  # TmpSnk, TmpTrns, TmpOt NaN
    7,  # St = FAULT
    12,  # StVnd
    0x0000, 0x0000, 0x0000, 0x0000,  # Evt1, Evt2
    0x0000, 0x0010, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF,  # EvtVnd1..4
]  # fmt: skip

NAMEPLATE_120 = [
    120, 26,  # ID, L
    4,  # DERTyp = PV
    60, 2,  # WRtg = 60 x 10^2 W
    6000, 0,  # VARtg, VARtg_SF
    3000, 3000, 0xF448, 0xF448, 0,  # VArRtgQ1..Q4 (Q3/Q4 = -3000), VArRtg_SF
    87, 0xFFFF,  # ARtg = 8.7, ARtg_SF = -1
    80, 80, NI_S, NI_S, 0xFFFE,  # PFRtgQ1..Q4, PFRtg_SF = -2
    NI16, NI_S,  # WHRtg, WHRtg_SF: no storage
    NI16, NI_S,  # AhrRtg, AhrRtg_SF
    NI16, NI_S,  # MaxChaRte, MaxChaRte_SF
    NI16, NI_S,  # MaxDisChaRte, MaxDisChaRte_SF
    NI_S,  # Pad
]  # fmt: skip

UNKNOWN_126 = [126, 4, 1, 2, 3, 4]  # a volt-var model this agent does not decode

STATUS_122 = [
    122, 44,  # ID, L
    0x0007,  # PVConn: connected, available, operating
    NI16,  # StorConn
    0x0001,  # ECPConn: connected
    0x0000, 0x0000, 0x0001, 0xE240,  # ActWh = 123456 (acc64)
    0x0000, 0x0000, 0x0000, 0x0000,  # ActVAh: 0 = not implemented
    0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7,  # ActVArhQ1..Q4
    NI_S, NI_S,  # VArAval, VArAval_SF
    4800, 0,  # WAval, WAval_SF
    0x0000, 0x0001,  # StSetLimMsk: WMax
    0xFFFF, 0xFFFF,  # StActCtl not implemented
    0x4E54, 0x5000, 0, 0,  # TmSrc "NTP"
    0xFFFF, 0xFFFF,  # Tms not implemented
    0x0000,  # RtSt
    25, 6,  # Ris = 25 x 10^6 ohm
]  # fmt: skip

MPPT_160 = [
    160, 48,  # ID, L = 8 + 20 x 2
    0xFFFE, 0xFFFF, 0, 0,  # DCA_SF -2, DCV_SF -1, DCW_SF 0, DCWH_SF 0
    0x0000, 0x0000,  # Evt
    2,  # N
    NI16,  # TmsPer
    # module 1
    1, 0x5056, 0x3100, 0, 0, 0, 0, 0, 0,  # ID, IDStr "PV1"
    812, 3205, 2602,  # DCA 8.12, DCV 320.5, DCW 2602
    0x0000, 0x3039,  # DCWH 12345
    0x2E5C, 0x2A00,  # Tms
    38,  # Tmp
    4,  # DCSt MPPT
    0x0000, 0x0000,  # DCEvt
    # module 2
    2, 0x5056, 0x3200, 0, 0, 0, 0, 0, 0,  # ID, IDStr "PV2"
    NI16, 3190, 2598,  # DCA not implemented, DCV 319.0, DCW 2598
    0x0000, 0x0000,  # DCWH: 0 = not implemented
    0xFFFF, 0xFFFF,  # Tms not implemented
    NI_S,  # Tmp not implemented
    2,  # DCSt SLEEPING
    0x0000, 0x0080,  # DCEvt OVER_TEMP
]  # fmt: skip

END = [0xFFFF, 0]

BASE = 40000
IMAGE = [
    0x5375, 0x6E53,  # "SunS"
    *COMMON, *INVERTER_103, *NAMEPLATE_120, *UNKNOWN_126, *STATUS_122, *MPPT_160, *END,
]  # fmt: skip
"""Starts at :data:`BASE`."""


def data(model: list[int]) -> list[int]:
    """The data registers of a model (without ``ID`` and ``L``)."""
    return model[2:]
