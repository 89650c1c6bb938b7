"""Discovery logic on literal register images read through the RegisterReader protocol."""

from __future__ import annotations

from inverter_agent.errors import DeviceRejectedError
from inverter_agent.inverter import discover
from tests.inverter_agent.sunspec import images


class ImageReader:
    """Registers of one literal image at ``base``; exception 2 everywhere else."""

    def __init__(self, base: int, image: list[int]) -> None:
        self._base = base
        self._image = image
        self.requests: list[tuple[int, int]] = []

    async def read_holding_registers(self, unit_id: int, address: int, count: int) -> list[int]:
        self.requests.append((address, count))
        start = address - self._base
        if start < 0 or start + count > len(self._image):
            raise DeviceRejectedError(f"unit {unit_id}: {address}+{count}", exception_code=2)
        return self._image[start : start + count]


async def test_marker_at_base_zero_after_refused_40000() -> None:
    reader = ImageReader(0, [0x5375, 0x6E53, *images.COMMON, *images.INVERTER_113, *images.END])
    found = await discover(reader, 7)
    assert found.layout.base == 0
    assert found.inverter.model_id == 113
    assert found.nameplate is None
    assert found.status is None
    assert reader.requests[:2] == [(40000, 2), (0, 2)]
