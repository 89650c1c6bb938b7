"""Literal-byte tests of every frame, and fuzzing of the decoder."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunnel.errors import ProtocolError
from tunnel.frames import (
    HEADER,
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
    decode,
    encode,
)

LITERALS: list[tuple[Frame, bytes]] = [
    (
        Hello(versions=(1,), capabilities=("telemetry",), software="1.0", device_kind="ccu"),
        (
            b"\x01\x01\x00\x00\x00\x00\x00\x00"
            b'{"capabilities":["telemetry"],"device_kind":"ccu","software":"1.0","versions":[1]}'
        ),
    ),
    (
        Welcome(version=1, capabilities=(), heartbeat=15.0, session_id="s1"),
        (
            b"\x01\x02\x00\x00\x00\x00\x00\x00"
            b'{"capabilities":[],"heartbeat":15.0,"session_id":"s1","version":1}'
        ),
    ),
    (
        Welcome(1, (), 15.0, "s2", reconnect_window=120.0),
        (
            b"\x01\x02\x00\x00\x00\x00\x00\x00"
            b'{"capabilities":[],"heartbeat":15.0,"reconnect_window":120.0,"session_id":"s2",'
            b'"version":1}'
        ),
    ),
    (
        Refuse(RefusalReason.EXPIRED, 60.0),
        b'\x01\x03\x00\x00\x00\x00\x00\x00{"detail":"","reason":"expired","retry_after":60.0}',
    ),
    (
        OpenStream(1, "http://127.0.0.1/", 262144),
        b'\x01\x10\x00\x00\x00\x00\x00\x01{"target":"http://127.0.0.1/","window":262144}',
    ),
    (OpenOk(1, 65536), b"\x01\x11\x00\x00\x00\x00\x00\x01\x00\x01\x00\x00"),
    (
        OpenFail(3, OpenFailReason.UNREACHABLE, "x"),
        b'\x01\x12\x00\x00\x00\x00\x00\x03{"detail":"x","reason":"unreachable"}',
    ),
    (Data(1, b"hi"), b"\x01\x13\x00\x00\x00\x00\x00\x01hi"),
    (Credit(0x01020304, 4096), b"\x01\x14\x00\x00\x01\x02\x03\x04\x00\x00\x10\x00"),
    (Close(1), b"\x01\x15\x00\x00\x00\x00\x00\x01"),
    (Reset(1, "bye"), b"\x01\x16\x00\x00\x00\x00\x00\x01bye"),
    (Telemetry(7, b"{}"), b"\x01\x20\x00\x00\x00\x00\x00\x00" + bytes(7) + b"\x07{}"),
    (Ack(2**64 - 1), b"\x01\x21\x00\x00\x00\x00\x00\x00" + b"\xff" * 8),
    (Control({"a": 1}), b'\x01\x22\x00\x00\x00\x00\x00\x00{"a":1}'),
    (Ping(1), b"\x01\x30\x00\x00\x00\x00\x00\x00" + bytes(7) + b"\x01"),
    (Pong(258), b"\x01\x31\x00\x00\x00\x00\x00\x00" + bytes(6) + b"\x01\x02"),
]


@pytest.mark.parametrize(("frame", "wire"), LITERALS, ids=lambda v: getattr(v, "TYPE", ""))
def test_frame_encodes_to_literal_bytes_and_back(frame: Frame, wire: bytes) -> None:
    assert encode(frame) == wire
    assert decode(wire) == frame


def test_every_frame_type_has_a_literal_test() -> None:
    assert {frame.TYPE for frame, _ in LITERALS} == set(FrameType)


def test_header_is_eight_bytes() -> None:
    assert HEADER.size == 8


def test_flags_and_reserved_bytes_are_ignored() -> None:
    assert decode(b"\x01\x15\xff\xff\x00\x00\x00\x09") == Close(9)


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b"\x01\x15\x00", "shorter than the header"),
        (b"\x02\x15\x00\x00\x00\x00\x00\x01", "wire version"),
        (b"\x01\x7f\x00\x00\x00\x00\x00\x01", "unknown frame type"),
        (b"\x01\x13\x00\x00\x00\x00\x00\x00x", "non-zero stream id"),
        (b"\x01\x30\x00\x00\x00\x00\x00\x05" + bytes(8), "stream id 0"),
        (b"\x01\x13\x00\x00\x00\x00\x00\x01", "empty DATA"),
        (b"\x01\x14\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00", "zero"),
        (b"\x01\x14\x00\x00\x00\x00\x00\x01\x00", "4 bytes"),
        (b"\x01\x15\x00\x00\x00\x00\x00\x01x", "no payload"),
        (b"\x01\x21\x00\x00\x00\x00\x00\x00\x01", "8 bytes"),
        (b"\x01\x20\x00\x00\x00\x00\x00\x00\x01", "sequence"),
        (b"\x01\x22\x00\x00\x00\x00\x00\x00[1]", "JSON object"),
        (b"\x01\x22\x00\x00\x00\x00\x00\x00{", "not valid JSON"),
        (b"\x01\x22\x00\x00\x00\x00\x00\x00\xff", "UTF-8"),
        (b'\x01\x22\x00\x00\x00\x00\x00\x00{"a":NaN}', "non-finite"),
        (b"\x01\x22\x00\x00\x00\x00\x00\x00" + b"[" * 100_000, "nested|JSON"),
        (b'\x01\x03\x00\x00\x00\x00\x00\x00{"reason":"bored","retry_after":1}', "unknown"),
        (b'\x01\x03\x00\x00\x00\x00\x00\x00{"reason":"expired","retry_after":-1}', "within"),
        (b'\x01\x01\x00\x00\x00\x00\x00\x00{"versions":[],"device_kind":"ccu"}', "non-empty"),
        (b'\x01\x01\x00\x00\x00\x00\x00\x00{"versions":[true],"device_kind":"x"}', "integers"),
        (b'\x01\x02\x00\x00\x00\x00\x00\x00{"version":1,"heartbeat":0}', "heartbeat"),
        (b'\x01\x10\x00\x00\x00\x00\x00\x01{"target":"t","window":-1}', "window"),
        (b"\x01\x16\x00\x00\x00\x00\x00\x01\xc3", "UTF-8"),
    ],
)
def test_malformed_input_raises_protocol_error(wire: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        decode(wire)


def test_unknown_open_fail_reason_from_a_newer_device_is_kept_as_error() -> None:
    frame = decode(b'\x01\x12\x00\x00\x00\x00\x00\x01{"reason":"asleep","detail":"zzz"}')
    assert frame == OpenFail(1, OpenFailReason.ERROR, "asleep: zzz")


def test_constructors_reject_out_of_range_values() -> None:
    with pytest.raises(ProtocolError):
        Data(0, b"x")
    with pytest.raises(ProtocolError):
        Credit(1, 0)
    with pytest.raises(ProtocolError):
        Ack(-1)


@settings(max_examples=500)
@given(st.binary(max_size=64))
def test_random_bytes_never_raise_a_foreign_error(wire: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode(wire)


_headers = st.sampled_from([HEADER.pack(1, t, 0, s) for t in FrameType for s in (0, 1)])


@settings(max_examples=500)
@given(_headers, st.binary(max_size=64) | st.text(max_size=40).map(str.encode))
def test_valid_headers_with_random_payloads_never_raise_a_foreign_error(
    header: bytes, payload: bytes
) -> None:
    try:
        frame = decode(header + payload)
    except ProtocolError:
        return
    assert decode(encode(frame)) == frame


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
_keys = st.sampled_from(
    [
        "versions",
        "capabilities",
        "software",
        "device_kind",
        "version",
        "heartbeat",
        "session_id",
        "reason",
        "retry_after",
        "detail",
        "target",
        "window",
    ]
)


@settings(max_examples=150)
@given(_headers, st.dictionaries(_keys, _json_values, max_size=6))
def test_json_payloads_with_random_fields_never_raise_a_foreign_error(
    header: bytes, obj: dict[str, object]
) -> None:
    with contextlib.suppress(ProtocolError):
        decode(header + json.dumps(obj).encode())
