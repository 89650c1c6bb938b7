"""Remote-access streams spliced to the simulated CCU's WebUI and to allow-listed LAN targets."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from ccu_addon.streams import LocalTarget, StreamSplicer, TargetPolicy, TargetRefusedError
from simulator.ccu.server import SimulatedCcu
from tests.tunnel.sessions import Pair, connected
from tunnel.device_end import DeviceSession
from tunnel.errors import OpenFailedError
from tunnel.frames import OpenFailReason
from tunnel.streams import Stream
from tunnel.transport import memory_pair


async def read_all(stream: Stream) -> bytes:
    parts = []
    while chunk := await stream.read(65536):
        parts.append(chunk)
    return b"".join(parts)


@pytest.fixture
async def echo_server() -> AsyncIterator[int]:
    """A LAN device stand-in: echoes, and closes its side after the peer half-closed."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.write(b"|eof seen")
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


@pytest.fixture
async def ccu() -> AsyncIterator[SimulatedCcu]:
    async with SimulatedCcu() as started:
        yield started


@pytest.fixture
async def tunnel(ccu: SimulatedCcu, echo_server: int) -> AsyncIterator[Pair]:
    policy = TargetPolicy.from_config(ccu.webui_url, [f"127.0.0.1:{echo_server}", "lan:[::1]:8080"])
    gw_t, dev_t = memory_pair()
    device = DeviceSession(dev_t, on_open=StreamSplicer(policy))
    async with connected(device=device, transports=(gw_t, dev_t)) as pair:
        yield pair


def test_target_policy() -> None:
    policy = TargetPolicy.from_config(
        "http://127.0.0.1/", ["192.168.1.20:80", "lan:[fe80::1]:8080"]
    )
    assert policy.resolve("webui") == LocalTarget("127.0.0.1", 80)
    assert policy.resolve("lan:192.168.1.20:80") == LocalTarget("192.168.1.20", 80)
    assert policy.resolve("lan:[FE80::1]:8080") == LocalTarget("fe80::1", 8080)
    for target, reason in [
        ("lan:192.168.1.21:80", OpenFailReason.NOT_ALLOWED),
        ("lan:192.168.1.20:81", OpenFailReason.NOT_ALLOWED),
        ("lan:192.168.1.20", OpenFailReason.BAD_TARGET),
        ("lan:host:0", OpenFailReason.BAD_TARGET),
        ("ssh", OpenFailReason.BAD_TARGET),
        ("127.0.0.1:22", OpenFailReason.BAD_TARGET),
    ]:
        with pytest.raises(TargetRefusedError) as caught:
            policy.resolve(target)
        assert caught.value.reason is reason, target


async def test_webui_stream_carries_raw_http(tunnel: Pair) -> None:
    stream = await tunnel.gateway.open_stream("webui")
    await stream.write(b"GET /webui/style.css HTTP/1.1\r\nHost: ccu\r\nConnection: close\r\n\r\n")
    # like a browser behind the gateway's proxy: no half-close before the answer
    response = await read_all(stream)
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"text/css" in response


async def test_lan_target_on_the_allow_list_with_half_close(tunnel: Pair, echo_server: int) -> None:
    stream = await tunnel.gateway.open_stream(f"lan:127.0.0.1:{echo_server}")
    await stream.write(b"hello ")
    await stream.write(b"lan")
    await stream.write_eof()
    assert await read_all(stream) == b"hello lan|eof seen"


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("lan:127.0.0.1:9", OpenFailReason.NOT_ALLOWED),
        ("lan:10.0.0.1:80", OpenFailReason.NOT_ALLOWED),
        ("shell", OpenFailReason.BAD_TARGET),
    ],
)
async def test_targets_off_the_allow_list_are_refused(
    tunnel: Pair, target: str, reason: OpenFailReason
) -> None:
    with pytest.raises(OpenFailedError) as caught:
        await tunnel.gateway.open_stream(target)
    assert caught.value.reason == reason


async def test_unreachable_target_fails_the_open() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connection refused
        policy = TargetPolicy.from_config(f"http://127.0.0.1:{port}/", [])
        gw_t, dev_t = memory_pair()
        device = DeviceSession(dev_t, on_open=StreamSplicer(policy))
        async with connected(device=device, transports=(gw_t, dev_t)) as pair:
            with pytest.raises(OpenFailedError) as caught:
                await pair.gateway.open_stream("webui")
    assert caught.value.reason == OpenFailReason.UNREACHABLE
