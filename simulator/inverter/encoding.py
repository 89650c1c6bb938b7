"""SunSpec point encodings: values to 16-bit registers, big-endian, high word first.

Every encoder takes ``None`` for a point the device does not implement and writes the
"not implemented" value the SunSpec information model defines for that type:

==========  =====================  ==========  =====================
type        not implemented        type        not implemented
==========  =====================  ==========  =====================
uint16      0xFFFF                 int16       0x8000
enum16      0xFFFF                 sunssf      0x8000
bitfield16  0xFFFF                 bitfield32  0xFFFFFFFF
uint32      0xFFFFFFFF             acc32/64    0 (no accumulation)
float32     NaN (0x7FC00000)       string      all 0x0000
pad         0x8000
==========  =====================  ==========  =====================
"""

from __future__ import annotations

import math
import struct

__all__ = [
    "NI_INT16",
    "NI_SUNSSF",
    "NI_UINT16",
    "acc32",
    "acc64",
    "bitfield16",
    "bitfield32",
    "enum16",
    "float32",
    "int16",
    "pad",
    "scaled",
    "string",
    "sunssf",
    "uint16",
    "uint32",
]

NI_UINT16 = 0xFFFF
NI_INT16 = 0x8000
NI_SUNSSF = 0x8000
_NI_32 = 0xFFFFFFFF


def _split32(value: int) -> list[int]:
    return [(value >> 16) & 0xFFFF, value & 0xFFFF]


def uint16(value: int | None) -> list[int]:
    """An unsigned 16-bit point (0..65534; 65535 means not implemented)."""
    if value is None:
        return [NI_UINT16]
    if not 0 <= value < NI_UINT16:
        raise ValueError(f"uint16 out of range: {value}")
    return [value]


def enum16(value: int | None) -> list[int]:
    """An enumerated 16-bit point."""
    return uint16(value)


def bitfield16(value: int | None) -> list[int]:
    """A 16-bit bit field (the top bit is reserved for "not implemented")."""
    if value is None:
        return [NI_UINT16]
    if not 0 <= value < 0x8000:
        raise ValueError(f"bitfield16 out of range: {value}")
    return [value]


def int16(value: int | None) -> list[int]:
    """A signed 16-bit point (-32767..32767; -32768 means not implemented)."""
    if value is None:
        return [NI_INT16]
    if not -0x7FFF <= value <= 0x7FFF:
        raise ValueError(f"int16 out of range: {value}")
    return [value & 0xFFFF]


def sunssf(value: int | None) -> list[int]:
    """A scale factor, an exponent of ten in -10..10."""
    if value is None:
        return [NI_SUNSSF]
    if not -10 <= value <= 10:
        raise ValueError(f"sunssf out of range: {value}")
    return [value & 0xFFFF]


def pad() -> list[int]:
    """A pad register for even alignment."""
    return [0x8000]


def uint32(value: int | None) -> list[int]:
    """An unsigned 32-bit point, high word first."""
    if value is None:
        return _split32(_NI_32)
    if not 0 <= value < _NI_32:
        raise ValueError(f"uint32 out of range: {value}")
    return _split32(value)


def bitfield32(value: int | None) -> list[int]:
    """A 32-bit bit field, high word first."""
    if value is None:
        return _split32(_NI_32)
    if not 0 <= value < 0x80000000:
        raise ValueError(f"bitfield32 out of range: {value}")
    return _split32(value)


def acc32(value: int | None) -> list[int]:
    """A 32-bit accumulator; it wraps around, 0 means not accumulating."""
    return _split32(0 if value is None else value % (1 << 32))


def acc64(value: int | None) -> list[int]:
    """A 64-bit accumulator, most significant word first."""
    raw = 0 if value is None else value % (1 << 64)
    return [(raw >> shift) & 0xFFFF for shift in (48, 32, 16, 0)]


def float32(value: float | None) -> list[int]:
    """An IEEE 754 single, high word first; NaN means not implemented."""
    raw = struct.unpack(">I", struct.pack(">f", math.nan if value is None else value))[0]
    return _split32(raw)


def string(text: str | None, size: int) -> list[int]:
    """``size`` registers of ASCII, two characters each, padded with NUL."""
    data = (text or "").encode("ascii")
    if len(data) > 2 * size:
        raise ValueError(f"string longer than {2 * size} characters: {text!r}")
    data = data.ljust(2 * size, b"\0")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def scaled(value: float | None, sf: int) -> int | None:
    """The integer register value of ``value`` at scale factor ``sf`` (value = int * 10**sf)."""
    if value is None:
        return None
    return round(value / 10.0**sf)
