"""Both session ends over an in-memory transport pair."""

from __future__ import annotations

import asyncio
import gc
import os
import warnings

import pytest

from tests.tunnel.sessions import HELLO, StallingTransport, connected, echo, handshake, until
from tunnel.device_end import DeviceSession
from tunnel.errors import OpenFailedError, RefusedError, SessionClosedError, StreamResetError
from tunnel.frames import Control, Hello, OpenFailReason, RefusalReason
from tunnel.gateway_end import GatewaySession
from tunnel.session import DisconnectReason
from tunnel.streams import Stream
from tunnel.transport import memory_pair
from tunnel.window import MAX_WINDOW, WindowBudget


async def test_open_echo_and_half_close() -> None:
    async with connected() as pair:
        stream = await pair.gateway.open_stream("http://127.0.0.1:80/")
        assert stream.target == "http://127.0.0.1:80/"
        await stream.write(b"hello ")
        await stream.write(b"world")
        await stream.write_eof()
        assert await stream.read() == b"hello world"
        assert await stream.read() == b""
        await stream.wait_finished()
        assert (stream.bytes_out, stream.bytes_in) == (11, 11)
        assert pair.gateway.stats().open_streams == 0
        await until(lambda: not pair.device.streams)


async def test_device_sees_the_target_and_can_answer_after_eof() -> None:
    seen: list[str] = []

    async def handler(stream: Stream) -> None:
        seen.append(stream.target)
        request = await stream.read()
        assert await stream.read() == b""  # the gateway half-closed
        await stream.write(b"got " + request)

    gw_t, dev_t = memory_pair()
    device = DeviceSession(dev_t, on_open=handler)
    async with connected(GatewaySession(gw_t), device) as pair:
        stream = await pair.gateway.open_stream("ccu-webui")
        await stream.write(b"GET")
        await stream.write_eof()
        assert await stream.readexactly(7) == b"got GET"
        assert await stream.read() == b""
    assert seen == ["ccu-webui"]


async def test_open_fail_carries_the_device_reason() -> None:
    async def handler(stream: Stream) -> None:
        if stream.target == "refused":
            raise ConnectionRefusedError("connect to 127.0.0.1:1 refused")
        stream.fail_open(OpenFailReason.NOT_ALLOWED, "not on the allow-list")

    gw_t, dev_t = memory_pair()
    async with connected(GatewaySession(gw_t), DeviceSession(dev_t, on_open=handler)) as pair:
        with pytest.raises(OpenFailedError) as refused:
            await pair.gateway.open_stream("refused")
        assert refused.value.reason == OpenFailReason.UNREACHABLE
        assert "refused" in refused.value.detail
        with pytest.raises(OpenFailedError) as denied:
            await pair.gateway.open_stream("192.168.1.1:22")
        assert denied.value.reason == OpenFailReason.NOT_ALLOWED
        assert pair.gateway.stats().open_streams == 0


async def test_a_device_without_a_handler_refuses_streams() -> None:
    gw_t, dev_t = memory_pair()
    async with connected(GatewaySession(gw_t), DeviceSession(dev_t)) as pair:
        with pytest.raises(OpenFailedError, match="not_allowed"):
            await pair.gateway.open_stream("x")


async def test_reset_aborts_both_ends() -> None:
    started = asyncio.Event()
    outcome: list[BaseException] = []

    async def handler(stream: Stream) -> None:
        stream.accept()
        started.set()
        try:
            await stream.read()
        except StreamResetError as exc:
            outcome.append(exc)
            raise

    gw_t, dev_t = memory_pair()
    async with connected(GatewaySession(gw_t), DeviceSession(dev_t, on_open=handler)) as pair:
        stream = await pair.gateway.open_stream("x")
        await started.wait()
        stream.reset("browser went away")
        with pytest.raises(StreamResetError):
            await stream.read()
        await until(lambda: bool(outcome))
        assert "browser went away" in str(outcome[0])
        assert pair.gateway.streams == []
        assert pair.device.streams == []


@pytest.mark.parametrize(("budget", "bound"), [(0, 64 * 1024), (10**9, MAX_WINDOW)])
async def test_credit_bounds_the_receive_buffer(budget: int, bound: int) -> None:
    """Without budget the window stays at its initial 64 KiB; with one it may grow, but
    never beyond the protocol's 1 MiB."""
    window = 64 * 1024
    payload = os.urandom(3 * 1024 * 1024 + 17)
    peak = 0

    async def slow_reader(stream: Stream) -> None:
        nonlocal peak
        received = bytearray()
        while chunk := await stream.read(10_000):
            peak = max(peak, stream.buffered + len(chunk))
            received += chunk
            await asyncio.sleep(0)
        await stream.write(str(len(received)).encode())

    gw_t, dev_t = memory_pair()
    gateway = GatewaySession(gw_t, window=window)
    device = DeviceSession(
        dev_t, on_open=slow_reader, window=window, window_budget=WindowBudget(limit=budget)
    )
    async with connected(gateway, device) as pair:
        stream = await pair.gateway.open_stream("sink")
        await stream.write(payload)
        await stream.write_eof()
        assert await stream.read() == str(len(payload)).encode()
        assert stream.credit_stalls > 0
        assert pair.gateway.stats().credit_stalls >= stream.credit_stalls
    assert 0 < peak <= bound


async def test_interactive_stream_is_not_starved_by_bulk() -> None:
    bulk_done = asyncio.Event()

    async def handler(stream: Stream) -> None:
        if stream.target == "bulk":
            while await stream.read(1 << 20):
                pass
            bulk_done.set()
        else:
            await echo(stream)

    gw_t, dev_t = memory_pair()
    async with connected(GatewaySession(gw_t), DeviceSession(dev_t, on_open=handler)) as pair:
        bulk = await pair.gateway.open_stream("bulk")
        chat = await pair.gateway.open_stream("webui")

        async def push() -> None:
            block = bytes(1 << 20)
            for _ in range(24):
                await bulk.write(block)
            await bulk.write_eof()

        pusher = asyncio.create_task(push())
        await asyncio.sleep(0)
        for i in range(20):
            message = f"ping {i}".encode()
            await chat.write(message)
            assert await chat.readexactly(len(message)) == message
        assert not bulk_done.is_set(), "the small echoes waited for the whole bulk transfer"
        await pusher
        await bulk_done.wait()
        await chat.close()


async def test_telemetry_is_acked_only_after_the_gateway_handler_returns() -> None:
    committed: list[tuple[int, bytes]] = []
    commit, entered = asyncio.Event(), asyncio.Event()
    controls: asyncio.Queue[dict[str, object]] = asyncio.Queue()

    async def store(seq: int, payload: bytes) -> None:
        entered.set()
        await commit.wait()
        committed.append((seq, payload))

    async def on_control(body: dict[str, object]) -> None:
        await controls.put(body)

    gw_t, dev_t = memory_pair()
    gateway = GatewaySession(gw_t, on_telemetry=store)
    async with connected(gateway, DeviceSession(dev_t, on_control=on_control)) as pair:
        acks = [await pair.device.send_telemetry(seq, b"batch %d" % seq) for seq in range(5)]
        assert pair.device.unacked == 5
        await entered.wait()
        # Anything the gateway sent before this CONTROL has been read by the device now.
        await pair.gateway.send_control({"flush": True})
        await controls.get()
        assert not any(ack.done() for ack in acks)
        commit.set()
        await asyncio.gather(*acks)
        assert committed == [(seq, b"batch %d" % seq) for seq in range(5)]
        assert pair.device.unacked == 0


async def test_concurrent_telemetry_handles_a_window_at_once_and_acks_each_after_its_call() -> None:
    """With ``telemetry_concurrency`` 3, three calls run at once (a group commit can take
    them together), the fourth waits for a place, and each ACK follows its own call."""
    release: dict[int, asyncio.Event] = {seq: asyncio.Event() for seq in range(5)}
    running: set[int] = set()
    most = 0

    async def store(seq: int, payload: bytes) -> None:
        nonlocal most
        running.add(seq)
        most = max(most, len(running))
        await release[seq].wait()
        running.discard(seq)

    gw_t, dev_t = memory_pair()
    gateway = GatewaySession(gw_t, on_telemetry=store)
    gateway.telemetry_concurrency = 3
    async with connected(gateway, DeviceSession(dev_t)) as pair:
        acks = [await pair.device.send_telemetry(seq, b"batch %d" % seq) for seq in range(5)]
        await until(lambda: running == {0, 1, 2})
        release[1].set()  # the second finishes first: its ACK does not wait for the first
        await acks[1]
        assert not acks[0].done()
        await until(lambda: running == {0, 2, 3})
        for seq in (0, 2, 3, 4):
            release[seq].set()
        await asyncio.gather(*acks)
    assert most == 3


async def test_pending_acks_fail_when_the_session_ends() -> None:
    async def never(seq: int, payload: bytes) -> None:
        await asyncio.Event().wait()

    gw_t, dev_t = memory_pair()
    async with connected(GatewaySession(gw_t, on_telemetry=never), DeviceSession(dev_t)) as pair:
        ack = await pair.device.send_telemetry(1, b"x")
        await pair.gateway.close()
        with pytest.raises(SessionClosedError):
            await ack
        assert await pair.device_run == DisconnectReason.CLEAN


async def test_control_reaches_the_device() -> None:
    received: asyncio.Queue[dict[str, object]] = asyncio.Queue()

    async def on_control(body: dict[str, object]) -> None:
        await received.put(body)

    gw_t, dev_t = memory_pair()
    async with connected(GatewaySession(gw_t), DeviceSession(dev_t, on_control=on_control)) as p:
        await p.gateway.send_control({"entitlement": "active", "until": "2026-02-01"})
        assert await received.get() == {"entitlement": "active", "until": "2026-02-01"}


async def test_refuse_during_the_session_ends_it_with_the_reason() -> None:
    async with connected() as pair:
        await pair.gateway.refuse(RefusalReason.EXPIRED, 3600.0, "package ended")
        assert await pair.device_run == DisconnectReason.REFUSED
        assert pair.device.refusal is not None
        assert pair.device.refusal.reason == RefusalReason.EXPIRED
        assert pair.device.refusal.retry_after == 3600.0
        assert await pair.gateway_run == DisconnectReason.REFUSED


async def test_refuse_in_the_handshake_raises_refused_error() -> None:
    gw_t, dev_t = memory_pair()
    gateway, device = GatewaySession(gw_t), DeviceSession(dev_t)
    attempt = asyncio.create_task(device.handshake(HELLO, timeout=5))
    await gateway.receive_hello()
    await gateway.refuse(RefusalReason.MAINTENANCE, 120.0)
    with pytest.raises(RefusedError) as refused:
        await attempt
    assert (refused.value.reason, refused.value.retry_after) == ("maintenance", 120.0)
    await device.close()


async def test_no_common_version_is_refused_as_outdated() -> None:
    gw_t, dev_t = memory_pair()
    gateway, device = GatewaySession(gw_t), DeviceSession(dev_t)
    future = Hello(versions=(7, 8), capabilities=(), software="9.0", device_kind="ccu")
    attempt = asyncio.create_task(device.handshake(future, timeout=5))
    await gateway.receive_hello()
    with pytest.raises(RefusedError):
        await gateway.accept(session_id="s")
    with pytest.raises(RefusedError, match="outdated"):
        await attempt
    await device.close()


async def test_welcome_sets_the_heartbeat_and_rtt_is_measured() -> None:
    gw_t, dev_t = memory_pair()
    async with connected(GatewaySession(gw_t, heartbeat=0.02), DeviceSession(dev_t)) as pair:
        assert pair.device.heartbeat == 0.02
        await until(lambda: pair.device.rtt is not None and pair.gateway.rtt is not None)
        assert pair.device.stats().rtt is not None
        assert pair.gateway.stats().bytes_received > 0


async def test_silent_peer_is_declared_dead() -> None:
    gw_t, dev_t = memory_pair()
    stalling = StallingTransport(dev_t)
    gateway = GatewaySession(gw_t, heartbeat=0.02)
    device = DeviceSession(stalling)
    async with connected(gateway, device, transports=(gw_t, stalling)) as pair:
        stalling.stall()
        assert await pair.device_run == DisconnectReason.HEARTBEAT_TIMEOUT
        assert await pair.gateway_run in {
            DisconnectReason.HEARTBEAT_TIMEOUT,
            DisconnectReason.CLEAN,
        }


async def test_clean_close_and_streams_fail_after_the_end() -> None:
    async with connected() as pair:
        stream = await pair.gateway.open_stream("x")
        await pair.device.close()
        assert await pair.gateway_run == DisconnectReason.CLEAN
        with pytest.raises(StreamResetError):
            await stream.read()
        with pytest.raises(SessionClosedError):
            await pair.gateway.open_stream("y")


async def test_garbage_from_the_peer_is_a_protocol_error() -> None:
    gw_t, dev_t = memory_pair()
    device = DeviceSession(dev_t)
    hello = asyncio.create_task(device.handshake(HELLO))
    gateway = GatewaySession(gw_t)
    await handshake_by_hand(gateway, hello)
    runner = asyncio.create_task(device.run())
    await gw_t.send(b"\x01\x7f\x00\x00\x00\x00\x00\x00")
    assert await runner == DisconnectReason.PROTOCOL_ERROR
    await gw_t.close()


async def handshake_by_hand(gateway: GatewaySession, hello: asyncio.Task[object]) -> None:
    await gateway.receive_hello()
    await gateway.accept(session_id="s")
    await hello


async def test_a_frame_arriving_while_the_group_winds_down_starts_no_task() -> None:
    """Regression: a CONTROL arriving after run() was cancelled, while its task group waits
    for its tasks, made a worker coroutine the group refused and never awaited."""
    called: list[dict[str, object]] = []

    async def on_control(body: dict[str, object]) -> None:
        called.append(body)

    gw_t, dev_t = memory_pair()
    gateway, device = GatewaySession(gw_t), DeviceSession(dev_t, on_control=on_control)
    await handshake(gateway, device)
    gateway_run = asyncio.create_task(gateway.run())
    device_run = asyncio.create_task(device.run())
    await until(lambda: device.running and gateway.running)
    device_run.cancel()
    await asyncio.sleep(0)  # the cancellation reaches run(): its group cancels the reader
    assert not device_run.done()  # the group still waits for its reader
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert device._dispatch(Control({"disconnect": "now"})) is False
        gc.collect()
    assert [str(w.message) for w in caught] == []
    with pytest.raises(asyncio.CancelledError):
        await device_run
    assert called == []
    assert device.close_reason is DisconnectReason.CLEAN
    await gateway.close()
    await gateway_run
