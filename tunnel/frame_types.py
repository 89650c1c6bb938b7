"""The frame vocabulary of tunnel protocol v1: frame types, reasons and frame classes.

Frames are frozen, slotted dataclasses; :data:`Frame` is their union. Their wire form
lives in :mod:`tunnel.frames` (re-exported there, import from there). Constructors check
ranges and raise :class:`~tunnel.errors.ProtocolError` (a ``ValueError``) so that a frame
that exists can always be encoded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, ClassVar, Final

from tunnel.errors import ProtocolError

__all__ = [
    "Ack",
    "Close",
    "Control",
    "Credit",
    "Data",
    "Frame",
    "FrameType",
    "Hello",
    "OpenFail",
    "OpenFailReason",
    "OpenOk",
    "OpenStream",
    "Ping",
    "Pong",
    "RefusalReason",
    "Refuse",
    "Reset",
    "Telemetry",
    "Welcome",
]

MAX_U32: Final = 0xFFFF_FFFF
MAX_U64: Final = 0xFFFF_FFFF_FFFF_FFFF


class FrameType(IntEnum):
    """The second header byte."""

    HELLO = 0x01
    WELCOME = 0x02
    REFUSE = 0x03
    OPEN = 0x10
    OPEN_OK = 0x11
    OPEN_FAIL = 0x12
    DATA = 0x13
    CREDIT = 0x14
    CLOSE = 0x15
    RESET = 0x16
    TELEMETRY = 0x20
    ACK = 0x21
    CONTROL = 0x22
    PING = 0x30
    PONG = 0x31


class RefusalReason(StrEnum):
    """Why the gateway refuses (or ends) a session; carried by REFUSE."""

    EXPIRED = "expired"
    """No entitlement window covers now (package, trial or licence ran out)."""
    NOT_ENROLLED = "not_enrolled"
    """The certificate belongs to no enrolled device."""
    REVOKED = "revoked"
    """The device certificate was revoked."""
    FORBIDDEN = "forbidden"
    """The device is blocked by an operator."""
    OUTDATED = "outdated"
    """No common protocol version; the device software must be updated."""
    OVERLOADED = "overloaded"
    """The gateway node is full; try again after ``retry_after``."""
    MAINTENANCE = "maintenance"
    """The gateway is in maintenance; try again after ``retry_after``."""


class OpenFailReason(StrEnum):
    """Why the device could not open a stream to its local target; carried by OPEN_FAIL."""

    UNREACHABLE = "unreachable"
    """The local target did not answer (connection refused, no route)."""
    TIMEOUT = "timeout"
    """Connecting to the local target timed out."""
    NOT_ALLOWED = "not_allowed"
    """The target is not on the device's allow-list."""
    BAD_TARGET = "bad_target"
    """The target string could not be understood."""
    OVERLOADED = "overloaded"
    """The device has too many open streams."""
    ERROR = "error"
    """Any other failure; ``detail`` says more."""


def _check_range(what: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ProtocolError(f"{what} {value} outside {low}..{high}")


@dataclass(frozen=True, slots=True)
class _StreamFrame:
    stream_id: int

    def __post_init__(self) -> None:
        _check_range("stream id", self.stream_id, 1, MAX_U32)


@dataclass(frozen=True, slots=True)
class Hello:
    """Device -> gateway, first frame: what the device speaks and is."""

    TYPE: ClassVar[FrameType] = FrameType.HELLO
    versions: tuple[int, ...]
    capabilities: tuple[str, ...]
    software: str
    device_kind: str

    def to_json(self) -> dict[str, Any]:
        return {
            "versions": list(self.versions),
            "capabilities": list(self.capabilities),
            "software": self.software,
            "device_kind": self.device_kind,
        }


@dataclass(frozen=True, slots=True)
class Welcome:
    """Gateway -> device: the session is accepted with these parameters."""

    TYPE: ClassVar[FrameType] = FrameType.WELCOME
    version: int
    capabilities: tuple[str, ...]
    heartbeat: float
    session_id: str
    reconnect_window: float | None = None
    """Seconds over which to spread the first reconnect after this session is lost (the
    node's fleet size / handshake rate); absent: the device's own default."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": self.version,
            "capabilities": list(self.capabilities),
            "heartbeat": self.heartbeat,
            "session_id": self.session_id,
        }
        if self.reconnect_window is not None:
            out["reconnect_window"] = self.reconnect_window
        return out


@dataclass(frozen=True, slots=True)
class Refuse:
    """Gateway -> device: no session (or no more); come back after ``retry_after`` s."""

    TYPE: ClassVar[FrameType] = FrameType.REFUSE
    reason: RefusalReason
    retry_after: float
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"reason": str(self.reason), "retry_after": self.retry_after, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class OpenStream(_StreamFrame):
    """Open a stream to ``target``; the opener can receive ``window`` bytes at first."""

    TYPE: ClassVar[FrameType] = FrameType.OPEN
    target: str
    window: int

    def __post_init__(self) -> None:
        _StreamFrame.__post_init__(self)
        _check_range("window", self.window, 0, MAX_U32)

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "window": self.window}


@dataclass(frozen=True, slots=True)
class OpenOk(_StreamFrame):
    """The stream is open; the accepter can receive ``window`` bytes at first."""

    TYPE: ClassVar[FrameType] = FrameType.OPEN_OK
    window: int

    def __post_init__(self) -> None:
        _StreamFrame.__post_init__(self)
        _check_range("window", self.window, 0, MAX_U32)


@dataclass(frozen=True, slots=True)
class OpenFail(_StreamFrame):
    """The stream could not be opened; the id is free again."""

    TYPE: ClassVar[FrameType] = FrameType.OPEN_FAIL
    reason: OpenFailReason
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"reason": str(self.reason), "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Data(_StreamFrame):
    """Stream bytes; counts against the receiver's credit window."""

    TYPE: ClassVar[FrameType] = FrameType.DATA
    data: bytes


@dataclass(frozen=True, slots=True)
class Credit(_StreamFrame):
    """The receiver consumed bytes: the sender may send ``increment`` more."""

    TYPE: ClassVar[FrameType] = FrameType.CREDIT
    increment: int

    def __post_init__(self) -> None:
        _StreamFrame.__post_init__(self)
        _check_range("credit increment", self.increment, 1, MAX_U32)


@dataclass(frozen=True, slots=True)
class Close(_StreamFrame):
    """Half-close: the sender sends no more DATA on this stream (EOF)."""

    TYPE: ClassVar[FrameType] = FrameType.CLOSE


@dataclass(frozen=True, slots=True)
class Reset(_StreamFrame):
    """Abort the stream in both directions; ``reason`` is for logs."""

    TYPE: ClassVar[FrameType] = FrameType.RESET
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Telemetry:
    """Device -> gateway: one batch of readings, answered by ACK(seq) after commit."""

    TYPE: ClassVar[FrameType] = FrameType.TELEMETRY
    seq: int
    payload: bytes

    def __post_init__(self) -> None:
        _check_range("sequence", self.seq, 0, MAX_U64)


@dataclass(frozen=True, slots=True)
class Ack:
    """Gateway -> device: batch ``seq`` is durably stored."""

    TYPE: ClassVar[FrameType] = FrameType.ACK
    seq: int

    def __post_init__(self) -> None:
        _check_range("sequence", self.seq, 0, MAX_U64)


@dataclass(frozen=True, slots=True)
class Control:
    """Gateway -> device: a JSON object (entitlement changes, revocation notices, ...)."""

    TYPE: ClassVar[FrameType] = FrameType.CONTROL
    body: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Ping:
    """Heartbeat; the peer answers PONG with the same nonce."""

    TYPE: ClassVar[FrameType] = FrameType.PING
    nonce: int

    def __post_init__(self) -> None:
        _check_range("nonce", self.nonce, 0, MAX_U64)


@dataclass(frozen=True, slots=True)
class Pong:
    """Answer to PING."""

    TYPE: ClassVar[FrameType] = FrameType.PONG
    nonce: int

    def __post_init__(self) -> None:
        _check_range("nonce", self.nonce, 0, MAX_U64)


Frame = (
    Hello
    | Welcome
    | Refuse
    | OpenStream
    | OpenOk
    | OpenFail
    | Data
    | Credit
    | Close
    | Reset
    | Telemetry
    | Ack
    | Control
    | Ping
    | Pong
)
"""Any frame of protocol v1."""
