"""Modbus RTU on the wire: frames, CRC-16 and character timing (pure).

A frame is the unit id, the PDU and the CRC, low byte first::

    +------+------------------+---------+---------+
    | unit | PDU (1..253)     | CRC lo  | CRC hi  |
    +------+------------------+---------+---------+

Each character on the line takes ``1 start + 8 data + parity? + stop bits`` bit times: 10 for
8N1, 11 for 8E1, 8O1 and 8N2. Frames are separated by at least 3.5 character times of
silence; above 19200 baud the specification fixes that gap at 1.75 ms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "UNKNOWN_LENGTH",
    "CrcError",
    "SerialLine",
    "crc16",
    "decode_frame",
    "encode_frame",
    "request_frame_length",
]

#: :func:`request_frame_length` cannot tell (unknown function code): wait for silence
UNKNOWN_LENGTH = -1

Parity = Literal["N", "E", "O"]


class CrcError(ValueError):
    """A frame whose CRC does not match: the device ignores it."""


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """The Modbus CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF)."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc


def encode_frame(unit: int, pdu: bytes) -> bytes:
    """The RTU frame carrying ``pdu`` for ``unit``."""
    body = bytes([unit]) + pdu
    return body + crc16(body).to_bytes(2, "little")


def decode_frame(frame: bytes) -> tuple[int, bytes]:
    """``(unit, pdu)`` of a whole frame; :class:`CrcError` if it is damaged."""
    if len(frame) < 4:
        raise CrcError(f"frame too short: {len(frame)} bytes")
    if crc16(frame[:-2]) != int.from_bytes(frame[-2:], "little"):
        raise CrcError("CRC mismatch")
    return frame[0], frame[1:-2]


def request_frame_length(buffer: bytes) -> int | None:
    """The length of the request frame starting ``buffer``.

    ``None`` while too few bytes have arrived to tell, :data:`UNKNOWN_LENGTH` for a
    function code whose request length this device does not know.
    """
    if len(buffer) < 2:
        return None
    function = buffer[1]
    if function in (1, 2, 3, 4, 5, 6):
        return 8
    if function in (15, 16):
        return None if len(buffer) < 7 else 9 + buffer[6]
    return UNKNOWN_LENGTH


@dataclass(frozen=True, slots=True, kw_only=True)
class SerialLine:
    """Speed and framing of a serial line."""

    #: bits per second
    baud: int = 9600
    #: ``N`` none, ``E`` even, ``O`` odd
    parity: Parity = "E"
    #: 1 or 2
    stopbits: int = 1

    def __post_init__(self) -> None:
        if self.baud <= 0:
            raise ValueError(f"baud rate must be positive, not {self.baud}")
        if self.parity not in ("N", "E", "O"):
            raise ValueError(f"parity must be N, E or O, not {self.parity!r}")
        if self.stopbits not in (1, 2):
            raise ValueError(f"stop bits must be 1 or 2, not {self.stopbits}")

    @property
    def bits_per_char(self) -> int:
        """Start bit, 8 data bits, parity bit if any, stop bits."""
        return 1 + 8 + (0 if self.parity == "N" else 1) + self.stopbits

    @property
    def char_time(self) -> float:
        """Seconds one character occupies the line."""
        return self.bits_per_char / self.baud

    @property
    def frame_gap(self) -> float:
        """The silence between frames: 3.5 characters, or 1.75 ms above 19200 baud."""
        return 0.00175 if self.baud > 19200 else 3.5 * self.char_time

    def wire_time(self, nbytes: int) -> float:
        """Seconds ``nbytes`` characters occupy the line."""
        return nbytes * self.char_time
