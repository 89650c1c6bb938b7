"""SunSpec register maps, pure: marker and model chain, typed points, decoded models.

No asyncio and no Modbus here: the bus code reads registers and hands them to these functions.
"""

from __future__ import annotations

from inverter_agent.sunspec.chain import (
    BASE_ADDRESSES,
    END_MODEL_ID,
    MARKER,
    ChainWalker,
    ModelBlock,
    ModelLayout,
    is_marker,
    model_data,
    parse_chain,
)
from inverter_agent.sunspec.inverter import INVERTER_MODELS, InverterReading, decode_inverter
from inverter_agent.sunspec.models import (
    CommonModel,
    Nameplate,
    OperatingState,
    Status,
    decode_common,
    decode_nameplate,
    decode_status,
)
from inverter_agent.sunspec.mppt import MPPT_MODEL, Mppt, MpptModule, decode_mppt, mppt_length

__all__ = [
    "BASE_ADDRESSES",
    "COMMON_MODEL",
    "END_MODEL_ID",
    "INVERTER_MODELS",
    "MARKER",
    "MPPT_MODEL",
    "NAMEPLATE_MODEL",
    "STATUS_MODEL",
    "ChainWalker",
    "CommonModel",
    "InverterReading",
    "ModelBlock",
    "ModelLayout",
    "Mppt",
    "MpptModule",
    "Nameplate",
    "OperatingState",
    "Status",
    "decode_common",
    "decode_inverter",
    "decode_mppt",
    "decode_nameplate",
    "decode_status",
    "is_marker",
    "model_data",
    "mppt_length",
    "parse_chain",
]

COMMON_MODEL = 1
NAMEPLATE_MODEL = 120
STATUS_MODEL = 122
