"""Tunnel protocol v1 wire format: pure encode/decode of every frame, no I/O.

One frame travels in one binary WebSocket message: an 8-byte header, then the payload.
The payload runs to the end of the message, so the header carries no length field.

::

     0               1               2               3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +---------------+---------------+---------------+---------------+
    | wire version  |  frame type   |     flags     |   reserved    |
    +---------------+---------------+---------------+---------------+
    |                     stream id (big endian)                    |
    +---------------------------------------------------------------+
    |                      payload (0..n bytes)                     |
    +---------------------------------------------------------------+

* wire version is :data:`WIRE_VERSION`; the header layout changes only with it. The
  protocol version proper (frame semantics) is negotiated in HELLO/WELCOME.
* flags and reserved are sent as 0 and ignored on receipt (room for later versions).
* stream id is 0 for session frames (HELLO ... PONG except the stream frames) and
  non-zero for OPEN, OPEN_OK, OPEN_FAIL, DATA, CREDIT, CLOSE and RESET.

Payloads: control-plane frames carry compact JSON objects (``payloads`` module); DATA
carries raw bytes; CREDIT/OPEN_OK a u32; TELEMETRY a u64 sequence then opaque bytes;
ACK/PING/PONG a u64. :func:`decode` raises :class:`~tunnel.errors.ProtocolError` and
nothing else on any malformed input. See ``docs/protocol.md``.
"""

from __future__ import annotations

import struct
from typing import Final

from tunnel.errors import ProtocolError
from tunnel.frame_types import (
    Ack,
    Close,
    Control,
    Credit,
    Data,
    Frame,
    FrameType,
    Hello,
    OpenFail,
    OpenFailReason,
    OpenOk,
    OpenStream,
    Ping,
    Pong,
    RefusalReason,
    Refuse,
    Reset,
    Telemetry,
    Welcome,
)
from tunnel.payloads import (
    decode_hello,
    decode_open,
    decode_open_fail,
    decode_refuse,
    decode_welcome,
    dump_json,
    load_json_object,
    utf8,
)

__all__ = [
    "HEADER",
    "MAX_PAYLOAD",
    "PROTOCOL_VERSIONS",
    "WIRE_VERSION",
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
    "decode",
    "encode",
]

WIRE_VERSION: Final = 1
"""Version of the header layout, first byte of every frame."""
PROTOCOL_VERSIONS: Final = (1,)
"""Protocol versions this code speaks, offered in HELLO and accepted by the gateway."""
MAX_PAYLOAD: Final = 1024 * 1024
"""Largest payload :func:`decode` accepts (DATA chunks are much smaller)."""

HEADER: Final = struct.Struct("!BBBxI")
"""wire version, frame type, flags, reserved (pad), stream id."""
_U32: Final = struct.Struct("!I")
_U64: Final = struct.Struct("!Q")

_STREAM_TYPES: Final = frozenset(
    {
        FrameType.OPEN,
        FrameType.OPEN_OK,
        FrameType.OPEN_FAIL,
        FrameType.DATA,
        FrameType.CREDIT,
        FrameType.CLOSE,
        FrameType.RESET,
    }
)


def encode(frame: Frame) -> bytes:
    """The bytes of one WebSocket message carrying ``frame``."""
    if type(frame) is Data:  # the hot path: one pack, one concatenation
        return HEADER.pack(WIRE_VERSION, FrameType.DATA, 0, frame.stream_id) + frame.data
    stream_id = 0
    match frame:
        case Hello() | Welcome() | Refuse():
            payload = dump_json(frame.to_json())
        case OpenStream() | OpenFail():
            stream_id = frame.stream_id
            payload = dump_json(frame.to_json())
        case (
            OpenOk(stream_id=stream_id, window=value) | Credit(stream_id=stream_id, increment=value)
        ):
            payload = _U32.pack(value)
        case Data(stream_id=stream_id, data=data):
            payload = bytes(data)
        case Close(stream_id=stream_id):
            payload = b""
        case Reset(stream_id=stream_id, reason=reason):
            payload = reason.encode("utf-8")
        case Telemetry(seq=seq, payload=body):
            payload = _U64.pack(seq) + body
        case Ack(seq=value) | Ping(nonce=value) | Pong(nonce=value):
            payload = _U64.pack(value)
        case Control(body=body):
            payload = dump_json(dict(body))
    return HEADER.pack(WIRE_VERSION, frame.TYPE, 0, stream_id) + payload


def decode(message: bytes | bytearray | memoryview) -> Frame:
    """Parse one message into a frame; :class:`ProtocolError` on anything malformed."""
    raw = bytes(message)
    size = len(raw)
    if size > HEADER.size and raw[1] == FrameType.DATA and size - HEADER.size <= MAX_PAYLOAD:
        version, _, _, stream_id = HEADER.unpack_from(raw)  # the hot path
        if version == WIRE_VERSION and stream_id:
            return Data(stream_id, raw[HEADER.size :])
    if len(raw) < HEADER.size:
        raise ProtocolError(f"frame of {len(raw)} bytes is shorter than the header")
    version, type_code, _flags, stream_id = HEADER.unpack_from(raw)
    if version != WIRE_VERSION:
        raise ProtocolError(f"unsupported wire version {version}")
    try:
        ftype = FrameType(type_code)
    except ValueError:
        raise ProtocolError(f"unknown frame type 0x{type_code:02x}") from None
    payload = raw[HEADER.size :]
    if len(payload) > MAX_PAYLOAD:
        raise ProtocolError(f"{ftype.name} payload of {len(payload)} bytes is too large")
    if ftype in _STREAM_TYPES:
        if stream_id == 0:
            raise ProtocolError(f"{ftype.name} needs a non-zero stream id")
        return _decode_stream_frame(ftype, stream_id, payload)
    if stream_id != 0:
        raise ProtocolError(f"{ftype.name} must use stream id 0, not {stream_id}")
    return _decode_session_frame(ftype, payload)


def _decode_stream_frame(ftype: FrameType, stream_id: int, payload: bytes) -> Frame:
    match ftype:
        case FrameType.OPEN:
            target, window = decode_open(load_json_object(payload, "OPEN"))
            return OpenStream(stream_id, target, window)
        case FrameType.OPEN_OK:
            return OpenOk(stream_id, _u32(payload, "OPEN_OK"))
        case FrameType.OPEN_FAIL:
            reason, detail = decode_open_fail(load_json_object(payload, "OPEN_FAIL"))
            return OpenFail(stream_id, reason, detail)
        case FrameType.DATA:
            if not payload:
                raise ProtocolError("empty DATA frame")
            return Data(stream_id, payload)
        case FrameType.CREDIT:
            increment = _u32(payload, "CREDIT")
            if increment == 0:
                raise ProtocolError("CREDIT of zero bytes")
            return Credit(stream_id, increment)
        case FrameType.CLOSE:
            if payload:
                raise ProtocolError("CLOSE carries no payload")
            return Close(stream_id)
        case _:
            return Reset(stream_id, utf8(payload, "RESET"))


def _decode_session_frame(ftype: FrameType, payload: bytes) -> Frame:
    match ftype:
        case FrameType.HELLO:
            return decode_hello(load_json_object(payload, "HELLO"))
        case FrameType.WELCOME:
            return decode_welcome(load_json_object(payload, "WELCOME"))
        case FrameType.REFUSE:
            return decode_refuse(load_json_object(payload, "REFUSE"))
        case FrameType.TELEMETRY:
            if len(payload) < _U64.size:
                raise ProtocolError("TELEMETRY shorter than its sequence number")
            (seq,) = _U64.unpack_from(payload)
            return Telemetry(seq, payload[_U64.size :])
        case FrameType.ACK:
            return Ack(_u64(payload, "ACK"))
        case FrameType.CONTROL:
            return Control(load_json_object(payload, "CONTROL"))
        case FrameType.PING:
            return Ping(_u64(payload, "PING"))
        case _:
            return Pong(_u64(payload, "PONG"))


def _u32(payload: bytes, what: str) -> int:
    if len(payload) != _U32.size:
        raise ProtocolError(f"{what} payload must be 4 bytes, got {len(payload)}")
    value: int = _U32.unpack(payload)[0]
    return value


def _u64(payload: bytes, what: str) -> int:
    if len(payload) != _U64.size:
        raise ProtocolError(f"{what} payload must be 8 bytes, got {len(payload)}")
    value: int = _U64.unpack(payload)[0]
    return value
