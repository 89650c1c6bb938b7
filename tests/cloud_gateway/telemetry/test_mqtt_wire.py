"""The MQTT 3.1.1 publishing subset: literal packets, the reader, a refusing broker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from cloud_gateway.telemetry.mqtt_wire import (
    MqttError,
    PacketReader,
    connect,
    encode_connect,
    encode_publish,
    remaining_length,
)
from tests.support.mqtt import BROKER_HOST, BROKER_PORT


@pytest.mark.parametrize(
    ("n", "encoded"),
    [
        (0, b"\x00"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (16_383, b"\xff\x7f"),
        (16_384, b"\x80\x80\x01"),
        (2_097_151, b"\xff\xff\x7f"),
        (2_097_152, b"\x80\x80\x80\x01"),
        (268_435_455, b"\xff\xff\xff\x7f"),
    ],
)
def test_remaining_length_matches_the_standard_table(n: int, encoded: bytes) -> None:
    assert remaining_length(n) == encoded  # MQTT 3.1.1, table 2.4


def test_remaining_length_beyond_four_bytes_is_refused() -> None:
    with pytest.raises(MqttError):
        remaining_length(268_435_456)


def test_connect_is_level_4_with_a_clean_session() -> None:
    assert encode_connect("gw", 30) == (
        b"\x10\x0e"  # CONNECT, 14 bytes follow
        b"\x00\x04MQTT\x04"  # protocol name, level 4 (3.1.1)
        b"\x02\x00\x1e"  # flags: clean session; keep-alive 30 s
        b"\x00\x02gw"  # client id
    )


def test_publish_has_qos_1_and_the_packet_id() -> None:
    assert encode_publish(b"a/b", 0x0102, b"{}") == (
        b"\x32\x09\x00\x03a/b\x01\x02{}"  # PUBLISH QoS 1, topic, packet id, payload
    )
    for bad in (0, 65_536):
        with pytest.raises(MqttError):
            encode_publish(b"a", bad, b"")


def test_reader_joins_packets_split_anywhere() -> None:
    big = encode_publish(b"t", 7, bytes(300))  # two length bytes
    stream = b"\x20\x02\x00\x00" + b"\x40\x02\x00\x07" + big + b"\xd0\x00"
    for cut in range(1, len(stream)):
        reader = PacketReader()
        packets = reader.feed(stream[:cut]) + reader.feed(stream[cut:])
        assert [p[0] for p in packets] == [0x20, 0x40, 0x32, 0xD0]
        assert packets[1][1] == b"\x00\x07"
        assert packets[2][1] == big[3:]


def test_reader_refuses_a_five_byte_length() -> None:
    with pytest.raises(MqttError):
        PacketReader().feed(b"\x40\xff\xff\xff\xff\x01")


def test_reader_refuses_a_long_packet_before_buffering_it() -> None:
    with pytest.raises(MqttError, match="acks"):
        PacketReader().feed(b"\x30\x80\x80\x40")  # a 1 MiB PUBLISH announced


@contextlib.asynccontextmanager
async def _fake_broker(answer: bytes) -> AsyncIterator[int]:
    """A listener that answers the CONNECT with ``answer`` (what Mosquitto cannot be made
    to send without its own configuration); yields its port."""
    handlers: list[asyncio.Task[None]] = []

    async def talk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read(1024)  # the CONNECT
            writer.write(answer)
            await writer.drain()
            await reader.read(1024)  # until the client goes
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.create_task(talk(reader, writer)))

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()
        await asyncio.gather(*handlers)


async def test_a_refused_connect_is_an_error_naming_the_reason() -> None:
    async with _fake_broker(b"\x20\x02\x00\x05") as port:
        with pytest.raises(MqttError, match="not authorised"):
            await connect("127.0.0.1", port, client_id="gw", on_puback=lambda _ids: None)


async def test_a_packet_a_publisher_never_expects_ends_the_connection() -> None:
    # CONNACK accepted, then a PUBLISH towards us: we subscribed to nothing.
    async with _fake_broker(b"\x20\x02\x00\x00" + encode_publish(b"x", 1, b"")) as port:
        connection = await connect("127.0.0.1", port, client_id="gw", on_puback=lambda _ids: None)
        error = await connection.closed
        assert isinstance(error, MqttError)
        assert not connection.is_open


async def test_pubacks_from_mosquitto_name_the_packet_ids() -> None:
    acked: list[int] = []
    done = asyncio.Event()

    def on_puback(ids: list[int]) -> None:
        acked.extend(ids)
        if len(acked) == 3:
            done.set()

    connection = await connect(BROKER_HOST, BROKER_PORT, client_id="wire-test", on_puback=on_puback)
    try:
        connection.publish(encode_publish(b"test/wire/x", i, b"%d" % i) for i in (5, 6, 7))
        async with asyncio.timeout(10):
            await done.wait()
    finally:
        connection.close()
    assert sorted(acked) == [5, 6, 7]
