"""The whole SunSpec register image of one inverter, from base address 40000 (pure).

Layout (model 103; with model 113 everything after it moves by 10 registers)::

    40000  0x5375 0x6E53       "SunS" marker
    40002  model 1    L=66     common: Mn, Md, Opt, Vr, SN, DA, Pad
    40070  model 103  L=50     inverter (or 113, L=60)
    40122  model 120  L=26     nameplate        (absent for an "unknown type")
    40150  model 122  L=44     status
    40196  model 160  L=48     MPPT, two modules (8 + 20 * N)
    40246  0xFFFF 0x0000       end model

Outside the SunSpec map, one vendor holding register lives at :data:`CONFIG_RELOAD_ADDRESS`
(41000): writing ``1`` there makes the inverter load its configuration again (see
:mod:`simulator.inverter.device`); reading it returns 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from simulator.inverter import models
from simulator.inverter.readings import Identity, Nameplate, OperatingState, Readings

__all__ = [
    "CONFIG_RELOAD_ADDRESS",
    "END_MODEL_ID",
    "SUNSPEC_BASE",
    "SUNS_MARKER",
    "InverterModel",
    "ModelHeader",
    "build_image",
    "walk_models",
]

SUNSPEC_BASE = 40000
SUNS_MARKER = (0x5375, 0x6E53)
END_MODEL_ID = 0xFFFF
CONFIG_RELOAD_ADDRESS = 41000


class InverterModel(IntEnum):
    """Which SunSpec inverter model the image carries."""

    INTEGER = 103
    FLOAT = 113


@dataclass(frozen=True, slots=True)
class ModelHeader:
    """One model in the chain: its id, the address of its ``ID`` register and ``L``."""

    model_id: int
    address: int
    length: int


def build_image(
    *,
    identity: Identity,
    nameplate: Nameplate | None,
    readings: Readings,
    inverter_model: InverterModel,
    device_address: int,
    rated_power: int,
) -> list[int]:
    """All registers from :data:`SUNSPEC_BASE` up to and including the end model."""
    image = [*SUNS_MARKER, *models.common_model(identity, device_address)]
    if inverter_model is InverterModel.INTEGER:
        image += models.inverter_model_103(readings, rated_power)
    else:
        image += models.inverter_model_113(readings)
    if nameplate is not None:
        image += models.nameplate_model(nameplate)
    operating = readings.state is OperatingState.MPPT
    image += models.status_model(readings, operating=operating)
    image += models.mppt_model(readings)
    image += [END_MODEL_ID, 0]
    return image


def walk_models(image: list[int], base: int = SUNSPEC_BASE) -> list[ModelHeader]:
    """The model chain of an image (the end model included), as a SunSpec client finds it."""
    if tuple(image[:2]) != SUNS_MARKER:
        raise ValueError("no SunS marker")
    found: list[ModelHeader] = []
    offset = 2
    while offset + 1 < len(image):
        model_id, length = image[offset], image[offset + 1]
        found.append(ModelHeader(model_id, base + offset, length))
        if model_id == END_MODEL_ID:
            return found
        offset += 2 + length
    raise ValueError("model chain runs past the image without an end model")
