"""SunSpec point types read from a block of holding registers, "not implemented" as ``None``.

SunSpec marks a point the device does not implement with a reserved value per type:

=========  ===================  ==========================================
type       registers            not implemented
=========  ===================  ==========================================
uint16     1                    0xFFFF
int16      1                    0x8000
enum16     1                    0xFFFF
bitfield16 1                    0xFFFF
sunssf     1                    0x8000 (valid scale factors are -10..10)
uint32     2 (big-endian)       0xFFFFFFFF
bitfield32 2                    0xFFFFFFFF
acc32      2                    0 (an accumulator that never counted)
acc64      4                    0
float32    2 (IEEE 754, BE)     NaN
string     n                    every register 0x0000
=========  ===================  ==========================================

:class:`Registers` reads these types at offsets relative to the first data register of a model
(the register after ``ID`` and ``L``); :func:`scaled` applies a scale factor.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

from inverter_agent.errors import SunSpecError

__all__ = ["Registers", "scaled"]

_SF_MIN, _SF_MAX = -10, 10


def scaled(value: int | None, sf: int | None) -> float | None:
    """``value x 10^sf``; ``None`` when either is not implemented.

    Negative scale factors divide by a power of ten so that ``2301, -1`` is exactly ``230.1``.
    """
    if value is None or sf is None:
        return None
    if sf >= 0:
        return float(value * 10**sf)
    return value / float(10 ** (-sf))


class Registers:
    """A read-only view of one model's data registers (16-bit words)."""

    __slots__ = ("_model_id", "_regs")

    def __init__(self, regs: Sequence[int], *, model_id: int, length: int) -> None:
        if len(regs) < length:
            raise SunSpecError(f"model {model_id}: {len(regs)} registers, the model needs {length}")
        if any(not 0 <= r <= 0xFFFF for r in regs):
            raise SunSpecError(f"model {model_id}: register value out of 0..65535")
        self._regs = tuple(regs)
        self._model_id = model_id

    def __len__(self) -> int:
        return len(self._regs)

    def raw(self, offset: int) -> int:
        return self._regs[offset]

    def uint16(self, offset: int) -> int | None:
        value = self._regs[offset]
        return None if value == 0xFFFF else value

    enum16 = uint16
    bitfield16 = uint16

    def int16(self, offset: int) -> int | None:
        value = self._regs[offset]
        if value == 0x8000:
            return None
        return value - 0x10000 if value & 0x8000 else value

    def sunssf(self, offset: int) -> int | None:
        """A scale factor; ``None`` when not implemented or outside -10..10."""
        value = self.int16(offset)
        if value is None or not _SF_MIN <= value <= _SF_MAX:
            return None
        return value

    def _u32(self, offset: int) -> int:
        return (self._regs[offset] << 16) | self._regs[offset + 1]

    def uint32(self, offset: int) -> int | None:
        value = self._u32(offset)
        return None if value == 0xFFFFFFFF else value

    bitfield32 = uint32

    def acc32(self, offset: int) -> int | None:
        value = self._u32(offset)
        return None if value == 0 else value

    def acc64(self, offset: int) -> int | None:
        value = 0
        for reg in self._regs[offset : offset + 4]:
            value = (value << 16) | reg
        return None if value == 0 else value

    def float32(self, offset: int) -> float | None:
        """An IEEE 754 single, rounded to the 7 significant digits it can carry."""
        (value,) = struct.unpack(">f", struct.pack(">HH", *self._regs[offset : offset + 2]))
        if math.isnan(value) or math.isinf(value):
            return None
        return float(f"{value:.7g}")

    def string(self, offset: int, size: int) -> str | None:
        """``size`` registers of text, NUL-padded; ``None`` when all are zero."""
        words = self._regs[offset : offset + size]
        if not any(words):
            return None
        data = struct.pack(f">{len(words)}H", *words).split(b"\0", 1)[0]
        return data.decode("utf-8", errors="replace").strip()

    def scaled_uint16(self, offset: int, sf_offset: int) -> float | None:
        return scaled(self.uint16(offset), self.sunssf(sf_offset))

    def scaled_int16(self, offset: int, sf_offset: int) -> float | None:
        return scaled(self.int16(offset), self.sunssf(sf_offset))
