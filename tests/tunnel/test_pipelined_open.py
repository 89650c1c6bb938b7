"""Pipelined open: request bytes follow OPEN before OPEN_OK, where both ends agreed."""

from __future__ import annotations

import pytest

from tests.tunnel.sessions import connected, until
from tunnel.device_end import DeviceSession
from tunnel.errors import OpenFailedError, ProtocolError
from tunnel.frames import OpenFailReason, OpenOk
from tunnel.gateway_end import GatewaySession
from tunnel.stream_table import OPEN_CREDIT, PIPELINED_OPEN, StreamTable
from tunnel.streams import Stream
from tunnel.transport import memory_pair

REQUEST = b"GET / HTTP/1.1\r\nHost: ccu\r\n\r\n"


class Recorder:
    """A FrameQueue that keeps what the table sends."""

    def __init__(self) -> None:
        self.frames: list[object] = []
        self.ready: list[Stream] = []

    def send_frame(self, frame: object) -> None:
        self.frames.append(frame)

    def schedule(self, stream: Stream) -> None:
        self.ready.append(stream)


async def test_request_bytes_arrive_with_the_open() -> None:
    seen: list[tuple[bool, int]] = []

    async def device_handler(stream: Stream) -> None:
        # Not accepted yet (no OPEN_OK sent), and the request is already here.
        await until(lambda: stream.buffered >= len(REQUEST))
        seen.append((stream.accepted, stream.buffered))
        await stream.write(await stream.readexactly(len(REQUEST)))

    gw_t, dev_t = memory_pair()
    device = DeviceSession(dev_t, on_open=device_handler)
    async with connected(GatewaySession(gw_t), device) as pair:
        assert pair.device.welcome is not None
        assert PIPELINED_OPEN in pair.device.welcome.capabilities
        stream = await pair.gateway.open_stream("webui", pipelined=True)
        assert not stream.accepted  # returned before OPEN_OK
        assert stream.credit == OPEN_CREDIT
        await stream.write(REQUEST)
        await stream.write_eof()
        assert await stream.readexactly(len(REQUEST)) == REQUEST
        assert [stream.accepted] == [True]
    assert seen == [(False, len(REQUEST))]


@pytest.mark.parametrize(("device_offers", "gateway_offers"), [(False, True), (True, False)])
async def test_an_old_peer_gets_the_open_ok_round_trip(
    device_offers: bool, gateway_offers: bool
) -> None:
    gw_t, dev_t = memory_pair()
    gateway = GatewaySession(gw_t, pipelined_open=gateway_offers)
    device = DeviceSession(dev_t, on_open=_echo_all, pipelined_open=device_offers)
    async with connected(gateway, device) as pair:
        assert pair.device.welcome is not None
        assert PIPELINED_OPEN not in pair.device.welcome.capabilities
        stream = await pair.gateway.open_stream("webui", pipelined=True)
        assert stream.accepted  # waited for OPEN_OK as v1 always did
        assert stream.open_credit == 0
        await stream.write(REQUEST)
        await stream.write_eof()
        assert await stream.read(-1) == REQUEST


async def _echo_all(stream: Stream) -> None:
    data = b""
    while chunk := await stream.read():
        data += chunk
    await stream.write(data)


async def test_a_failed_open_shows_on_the_pipelined_stream() -> None:
    async def refuse(stream: Stream) -> None:
        stream.fail_open(OpenFailReason.UNREACHABLE, "nobody home")

    gw_t, dev_t = memory_pair()
    async with connected(GatewaySession(gw_t), DeviceSession(dev_t, on_open=refuse)) as pair:
        stream = await pair.gateway.open_stream("webui", pipelined=True)
        await stream.write(REQUEST)
        with pytest.raises(OpenFailedError):
            await stream.read()
        assert pair.gateway.streams == []
        assert pair.device.streams == []


def test_open_credit_then_the_rest_of_the_window_with_open_ok() -> None:
    wire = Recorder()
    table = StreamTable(wire, odd_ids=True, window=65536, open_credit=1000)
    stream = table.open("webui")
    assert stream.write_nowait(bytes(1500)) == 1000  # no more before OPEN_OK
    assert stream.credit == 0
    table.dispatch(OpenOk(stream.id, 4096))
    assert stream.credit == 3096  # the window counts what was already sent
    assert not any(isinstance(f, OpenOk) for f in wire.frames)  # never answers itself


def test_without_open_credit_nothing_goes_before_open_ok() -> None:
    table = StreamTable(Recorder(), odd_ids=True, window=65536)
    stream = table.open("webui")
    assert stream.write_nowait(REQUEST) == 0
    table.dispatch(OpenOk(stream.id, 4096))
    assert stream.credit == 4096


def test_open_ok_below_the_open_credit_is_a_protocol_error() -> None:
    table = StreamTable(Recorder(), odd_ids=True, window=65536, open_credit=OPEN_CREDIT)
    stream = table.open("webui")
    with pytest.raises(ProtocolError):
        table.dispatch(OpenOk(stream.id, OPEN_CREDIT - 1))
