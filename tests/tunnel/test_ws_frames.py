"""RFC 6455 framing of the device's WebSocket client, with literal bytes."""

from __future__ import annotations

import struct
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tunnel import ws_frames
from tunnel.ws_frames import (
    REFUSED,
    FrameError,
    FrameParser,
    KeySource,
    Opcode,
    encode,
    mask,
    native_mask,
    parse_close,
)

KEY = b"\x37\xfa\x21\x3d"


def server_frame(opcode: int, payload: bytes, *, fin: bool = True, first_bits: int = 0) -> bytes:
    """An unmasked frame as a server sends it."""
    first = (0x80 if fin else 0) | first_bits | opcode
    size = len(payload)
    if size < 126:
        return bytes((first, size)) + payload
    if size < 0x10000:
        return struct.pack("!BBH", first, 126, size) + payload
    return struct.pack("!BBQ", first, 127, size) + payload


def test_encode_small_frame_is_masked() -> None:
    # RFC 6455 5.7: "Hello" masked with 37 fa 21 3d
    assert encode(Opcode.TEXT, b"Hello", KEY) == bytes.fromhex("818537fa213d7f9f4d5158")
    assert encode(Opcode.BINARY, b"", KEY) == bytes.fromhex("828037fa213d")


def test_encode_length_forms() -> None:
    frame = encode(Opcode.BINARY, bytes(256), KEY)
    assert frame[:4] == bytes.fromhex("82fe0100")
    assert frame[4:8] == KEY
    assert frame[8:] == KEY * 64  # zeros XOR key = the key
    big = encode(Opcode.BINARY, bytes(70_000), KEY)
    assert big[:10] == bytes.fromhex("82ff") + (70_000).to_bytes(8, "big")
    assert len(big) == 10 + 4 + 70_000


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 511, 512, 513, 1000, 32768, 32771])
def test_mask_is_its_own_inverse_on_both_paths(size: int) -> None:
    data = bytes((n * 7) % 251 for n in range(size))
    masked = mask(data, KEY)
    assert len(masked) == size
    assert bytes(mask(masked, KEY)) == data
    expected = bytes(b ^ KEY[i % 4] for i, b in enumerate(data))
    assert bytes(masked) == expected


def test_keys_are_fresh() -> None:
    keys = KeySource()
    drawn = {keys.next() for _ in range(3000)}
    assert all(len(k) == 4 for k in drawn)
    assert len(drawn) > 2990  # random 32-bit keys: collisions are rare


def test_parser_yields_messages_and_control_frames() -> None:
    parser = FrameParser(max_message=100_000)
    wire = (
        server_frame(Opcode.BINARY, b"one")
        + server_frame(Opcode.PING, b"p")
        + server_frame(Opcode.BINARY, b"x" * 300)
        + server_frame(Opcode.BINARY, b"frag-", fin=False)
        + server_frame(Opcode.PONG, b"")  # control frames may come between fragments
        + server_frame(Opcode.CONTINUATION, b"mented")
        + server_frame(Opcode.BINARY, b"y" * 70_000)
        + server_frame(Opcode.CLOSE, b"\x03\xe8bye")
    )
    expected = [
        (Opcode.BINARY, b"one"),
        (Opcode.PING, b"p"),
        (Opcode.BINARY, b"x" * 300),
        (Opcode.PONG, b""),
        (Opcode.BINARY, b"frag-mented"),
        (Opcode.BINARY, b"y" * 70_000),
        (Opcode.CLOSE, b"\x03\xe8bye"),
    ]
    assert parser.feed(wire) == expected
    assert parser.buffered == 0


@given(st.lists(st.integers(min_value=1, max_value=200), max_size=12))
def test_any_split_gives_the_same_messages(cuts: list[int]) -> None:
    wire = (
        server_frame(Opcode.BINARY, b"a" * 130)
        + server_frame(Opcode.BINARY, b"b", fin=False)
        + server_frame(Opcode.CONTINUATION, b"c" * 200)
        + server_frame(Opcode.BINARY, b"d")
    )
    parser = FrameParser(max_message=1000)
    out: list[tuple[int, bytes]] = []
    pos = 0
    for cut in cuts:
        out += parser.feed(wire[pos : pos + cut])
        pos += cut
    out += parser.feed(wire[pos:])
    assert out == [(2, b"a" * 130), (2, b"b" + b"c" * 200), (2, b"d")]


def test_text_is_refused_but_the_close_after_it_is_read() -> None:
    parser = FrameParser(max_message=1000)
    wire = server_frame(Opcode.TEXT, b"hello?") + server_frame(Opcode.CLOSE, b"\x03\xe8")
    out = parser.feed(wire)
    assert out[0][0] == REFUSED
    assert out[0][1][:2] == (1003).to_bytes(2, "big")
    assert out[1] == (Opcode.CLOSE, b"\x03\xe8")


def test_oversized_message_is_skipped_across_chunks() -> None:
    parser = FrameParser(max_message=1000)
    wire = server_frame(Opcode.BINARY, b"z" * 5000) + server_frame(Opcode.CLOSE, b"\x03\xe8")
    first = parser.feed(wire[:100])
    assert first == [(REFUSED, (1009).to_bytes(2, "big") + b"message too big")]
    assert parser.buffered == 0  # the skipped payload is not kept
    assert parser.feed(wire[100:3000]) == []
    assert parser.buffered == 0
    assert parser.feed(wire[3000:]) == [(Opcode.CLOSE, b"\x03\xe8")]


def test_fragments_beyond_the_limit_are_refused() -> None:
    parser = FrameParser(max_message=100)
    wire = server_frame(Opcode.BINARY, b"a" * 60, fin=False) + server_frame(
        Opcode.CONTINUATION, b"b" * 60
    )
    assert parser.feed(wire)[0][0] == REFUSED
    assert parser.fragments is None


@pytest.mark.parametrize(
    ("wire", "code"),
    [
        (bytes((0x82, 0x81)) + KEY + b"\x00", 1002),  # masked frame from the server
        (server_frame(Opcode.BINARY, b"x", first_bits=0x40), 1002),  # RSV1 without extension
        (server_frame(Opcode.PING, b"p", fin=False), 1002),  # fragmented control frame
        (bytes((0x89, 126, 0, 126)) + b"p" * 126, 1002),  # control frame over 125 bytes
        (server_frame(Opcode.CONTINUATION, b"x"), 1002),  # continuation without a message
        (server_frame(0x3, b"x"), 1002),  # reserved opcode
        (server_frame(0xB, b"x"), 1002),  # reserved control opcode
    ],
)
def test_malformed_frames_raise(wire: bytes, code: int) -> None:
    with pytest.raises(FrameError) as caught:
        FrameParser(max_message=1000).feed(wire)
    assert caught.value.code == code


def test_new_message_inside_a_fragmented_one_is_malformed() -> None:
    parser = FrameParser(max_message=1000)
    parser.feed(server_frame(Opcode.BINARY, b"a", fin=False))
    with pytest.raises(FrameError):
        parser.feed(server_frame(Opcode.BINARY, b"b"))


def test_parse_close() -> None:
    assert parse_close(b"") == (1005, "")
    assert parse_close(b"\x03\xe9going") == (1001, "going")
    for bad in (b"\x03", b"\x03\xed", b"\x00\x10", b"\x13\x88", b"\x03\xe8\xff"):
        with pytest.raises(FrameError):
            parse_close(bad)


def test_the_c_mask_is_used_and_agrees_with_the_reference() -> None:
    native = native_mask()
    assert native is not None, "websockets' speedups extension should be installed"
    assert ws_frames._mask is native  # encode() masks in C
    if "websockets" not in sys.modules:  # unless another test imported the package itself
        assert "websockets.version" not in sys.modules


@given(st.binary(max_size=70_000), st.binary(min_size=4, max_size=4))
def test_c_mask_equals_pure_python(data: bytes, key: bytes) -> None:
    native = native_mask()
    assert native is not None
    for view in (data, bytearray(data), memoryview(data)):
        assert bytes(native(view, key)) == bytes(mask(view, key))
