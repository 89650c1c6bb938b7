"""One SunSpec inverter on a bus: discovery once, dynamic blocks every poll.

Discovery finds the ``SunS`` marker at 40000, 0 or 50000 (a base whose read is refused with a
Modbus exception, or holds no marker, is skipped), walks the model chain header by header, and
reads the static models once: common (1) and nameplate (120). A poll reads the dynamic blocks:
the inverter model (101-103 or 111-113), status (122) and MPPT (160) when present.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from inverter_agent.bus import RegisterReader
from inverter_agent.errors import DeviceRejectedError, SunSpecError
from inverter_agent.sunspec import (
    BASE_ADDRESSES,
    COMMON_MODEL,
    INVERTER_MODELS,
    MPPT_MODEL,
    NAMEPLATE_MODEL,
    STATUS_MODEL,
    ChainWalker,
    CommonModel,
    InverterReading,
    ModelBlock,
    ModelLayout,
    Mppt,
    Nameplate,
    Status,
    decode_common,
    decode_inverter,
    decode_mppt,
    decode_nameplate,
    decode_status,
    is_marker,
)

__all__ = ["Discovery", "Snapshot", "SunSpecInverter", "discover", "poll"]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Discovery:
    """What discovery learnt about one inverter; read once."""

    unit_id: int
    """Modbus unit id."""
    layout: ModelLayout
    """Where the models are."""
    common: CommonModel
    """Model 1."""
    nameplate: Nameplate | None
    """Model 120, when present."""
    inverter: ModelBlock
    """The inverter model (101-103 or 111-113)."""
    status: ModelBlock | None
    """Model 122, when present."""
    mppt: ModelBlock | None
    """Model 160, when present."""

    @property
    def poll_blocks(self) -> tuple[int, ...]:
        """Register counts read by each poll."""
        blocks = (self.inverter, self.status, self.mppt)
        return tuple(b.length for b in blocks if b is not None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """One poll's decoded models."""

    discovery: Discovery
    """The inverter polled."""
    inverter: InverterReading
    """The inverter model."""
    status: Status | None
    """Model 122."""
    mppt: Mppt | None
    """Model 160."""


async def find_layout(
    reader: RegisterReader, unit_id: int, bases: tuple[int, ...] = BASE_ADDRESSES
) -> ModelLayout:
    """Find the marker and walk the model chain."""
    for base in bases:
        try:
            marker = await reader.read_holding_registers(unit_id, base, 2)
        except DeviceRejectedError:
            continue
        if not is_marker(marker):
            continue
        walker = ChainWalker(base)
        while not walker.done:
            model_id, length = await reader.read_holding_registers(unit_id, walker.address, 2)
            walker.feed(model_id, length)
        return walker.layout()
    raise SunSpecError(f"unit {unit_id}: no SunS marker at {', '.join(map(str, bases))}")


async def discover(
    reader: RegisterReader, unit_id: int, bases: tuple[int, ...] = BASE_ADDRESSES
) -> Discovery:
    """Discovery of one inverter: layout and static models."""
    layout = await find_layout(reader, unit_id, bases)
    common_block = layout.find(COMMON_MODEL)
    inverter_block = layout.find(*INVERTER_MODELS)
    if common_block is None or inverter_block is None:
        raise SunSpecError(f"unit {unit_id}: no inverter model in {layout.model_ids}")
    common = decode_common(await _read_block(reader, unit_id, common_block))
    plate_block = layout.find(NAMEPLATE_MODEL)
    nameplate = None
    if plate_block is not None:
        nameplate = decode_nameplate(await _read_block(reader, unit_id, plate_block))
    found = Discovery(
        unit_id=unit_id,
        layout=layout,
        common=common,
        nameplate=nameplate,
        inverter=inverter_block,
        status=layout.find(STATUS_MODEL),
        mppt=layout.find(MPPT_MODEL),
    )
    _LOGGER.info(
        "unit %d: %s %s serial %s, models %s at %d",
        unit_id,
        common.manufacturer,
        common.model,
        common.serial,
        layout.model_ids,
        layout.base,
    )
    return found


async def poll(reader: RegisterReader, found: Discovery) -> Snapshot:
    """Read and decode the dynamic blocks."""
    unit = found.unit_id
    inverter = decode_inverter(
        found.inverter.model_id, await _read_block(reader, unit, found.inverter)
    )
    status = None
    if found.status is not None:
        status = decode_status(await _read_block(reader, unit, found.status))
    mppt = None
    if found.mppt is not None:
        mppt = decode_mppt(await _read_block(reader, unit, found.mppt))
    return Snapshot(discovery=found, inverter=inverter, status=status, mppt=mppt)


async def _read_block(reader: RegisterReader, unit_id: int, block: ModelBlock) -> list[int]:
    return await reader.read_holding_registers(unit_id, block.data_address, block.length)


class SunSpecInverter:
    """An inverter that discovers itself on first poll and after :meth:`forget`."""

    def __init__(self, reader: RegisterReader, unit_id: int) -> None:
        self._reader = reader
        self.unit_id = unit_id
        self.discovery: Discovery | None = None

    async def poll(self) -> Snapshot:
        if self.discovery is None:
            self.discovery = await discover(self._reader, self.unit_id)
        return await poll(self._reader, self.discovery)

    def forget(self) -> None:
        """Discover again on the next poll (the device may have been replaced)."""
        self.discovery = None
