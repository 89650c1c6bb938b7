"""How long requests occupy a Modbus bus: the scheduler's budget arithmetic; pure.

Modbus RTU, function 3 (read holding registers) for ``n`` registers::

    request   addr fc start(2) count(2) crc(2)            =  8 bytes
    response  addr fc bytecount data(2n) crc(2)           =  5 + 2n bytes

Each byte is one character on the wire: start bit, 8 data bits, a parity bit unless parity is
``N``, one stop bit (10 or 11 bits). Frames are separated by a silence of 3.5 characters (fixed
at 1.75 ms above 19200 baud, as the Modbus serial line specification says). One request costs::

    (8 + 5 + 2n) * bits_per_char / baud  +  2 * t3.5  +  turnaround

``turnaround`` is the device's think time before it answers. Over Modbus TCP the bytes cost next
to nothing; a request costs :data:`TCP_REQUEST_S` plus the turnaround.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from inverter_agent.config import BusConfig, BusKind, Parity

__all__ = [
    "MAX_REGISTERS_PER_READ",
    "TCP_REQUEST_S",
    "BusTiming",
    "read_sizes",
    "request_time",
    "requests_time",
]

MAX_REGISTERS_PER_READ = 125
"""Modbus limit for one read-holding-registers request."""
TCP_REQUEST_S = 0.002
"""What one request costs on Modbus TCP besides the device's turnaround."""
_REQUEST_BYTES = 8
_RESPONSE_OVERHEAD_BYTES = 5
_FAST_BAUD = 19200
_FAST_T35_S = 0.00175


@dataclass(frozen=True, slots=True, kw_only=True)
class BusTiming:
    """What the wire costs on one bus."""

    kind: BusKind
    """TCP or RTU."""
    baudrate: int = 9600
    """RTU baud rate."""
    parity: Parity = Parity.EVEN
    """RTU parity."""
    turnaround_s: float = 0.05
    """Device think time per request."""

    @classmethod
    def of(cls, config: BusConfig) -> BusTiming:
        return cls(
            kind=config.kind,
            baudrate=config.baudrate,
            parity=config.parity,
            turnaround_s=config.turnaround_s,
        )

    @property
    def bits_per_char(self) -> int:
        return 10 if self.parity is Parity.NONE else 11

    @property
    def char_time_s(self) -> float:
        return self.bits_per_char / self.baudrate

    @property
    def frame_gap_s(self) -> float:
        """t3.5: the silence between frames."""
        return _FAST_T35_S if self.baudrate > _FAST_BAUD else 3.5 * self.char_time_s


def read_sizes(count: int) -> list[int]:
    """How a read of ``count`` registers is split into requests of at most 125."""
    full, rest = divmod(count, MAX_REGISTERS_PER_READ)
    return [MAX_REGISTERS_PER_READ] * full + ([rest] if rest else [])


def request_time(timing: BusTiming, registers: int) -> float:
    """Seconds one read request of ``registers`` (≤ 125) keeps the bus busy."""
    if not 1 <= registers <= MAX_REGISTERS_PER_READ:
        raise ValueError(f"one request reads 1..125 registers, not {registers}")
    if timing.kind is BusKind.TCP:
        return TCP_REQUEST_S + timing.turnaround_s
    chars = _REQUEST_BYTES + _RESPONSE_OVERHEAD_BYTES + 2 * registers
    return chars * timing.char_time_s + 2 * timing.frame_gap_s + timing.turnaround_s


def requests_time(timing: BusTiming, blocks: Iterable[int]) -> float:
    """Seconds to read blocks of these register counts, each split at 125."""
    return sum(request_time(timing, n) for block in blocks for n in read_sizes(block))
