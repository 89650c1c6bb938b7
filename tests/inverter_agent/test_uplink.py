"""The uplink: outbox → TELEMETRY(seq) → ACK(seq) → delete, over real tunnel sessions in memory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from inverter_agent.outbox import Outbox
from inverter_agent.tunnel_link import SessionChannel, tunnel_url
from inverter_agent.uplink import Uplink
from tests.inverter_agent.gateway_pair import MemoryLink

TIMEOUT = 10.0


class CountingLink:
    """Wraps a :class:`MemoryLink`; counts frames in flight (sent, ACK not yet seen)."""

    def __init__(self, inner: MemoryLink, watch_for: int) -> None:
        self.inner = inner
        self.in_flight = 0
        self.most_in_flight = 0
        self.reached = asyncio.Event()
        self._watch_for = watch_for

    async def wait_channel(self) -> CountingLink:
        self._channel = await self.inner.wait_channel()
        return self

    async def send(self, seq: int, payload: bytes) -> asyncio.Future[None]:
        ack = await self._channel.send(seq, payload)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        if self.in_flight >= self._watch_for:
            self.reached.set()
        ack.add_done_callback(self._settled)
        return ack

    def _settled(self, _ack: asyncio.Future[None]) -> None:
        self.in_flight -= 1


@contextlib.asynccontextmanager
async def running(uplink: Uplink) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(uplink.run(), name="uplink")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def filled_outbox(tmp_path: Path, count: int) -> Outbox:
    outbox = await Outbox.open(tmp_path / "outbox.sqlite3", max_readings=1000)
    await outbox.append_many([f'[{{"v":1,"k":"test","n":{n}}}]'.encode() for n in range(count)])
    return outbox


async def test_outbox_is_drained_in_order_and_deleted_after_ack(tmp_path: Path) -> None:
    link = MemoryLink()
    async with await filled_outbox(tmp_path, 30) as outbox:
        uplink = Uplink(outbox, link, max_in_flight=4)
        async with running(uplink):
            await link.connect()
            async with asyncio.timeout(TIMEOUT):
                await uplink.wait_acked(30)
            assert (await outbox.stats()).pending == 0
            assert [seq for seq, _ in link.received] == list(range(1, 31))
            seq = await outbox.append(b'[{"v":1,"k":"test"}]')
            uplink.notify()
            async with asyncio.timeout(TIMEOUT):
                await uplink.wait_acked(seq)
        await link.close()
    assert uplink.sent_total == 31


async def test_several_batches_travel_unacknowledged(tmp_path: Path) -> None:
    link = MemoryLink()
    link.gate.clear()  # the gateway does not commit yet
    counting = CountingLink(link, watch_for=4)
    async with await filled_outbox(tmp_path, 10) as outbox:
        uplink = Uplink(outbox, counting, max_in_flight=4)
        async with running(uplink):
            await link.connect()
            async with asyncio.timeout(TIMEOUT):
                await counting.reached.wait()
            assert (await outbox.stats()).pending == 10  # nothing deleted without an ACK
            link.gate.set()
            async with asyncio.timeout(TIMEOUT):
                await uplink.wait_acked(10)
        await link.close()
    assert counting.most_in_flight == 4  # pipelined, and never more than allowed


async def test_unacknowledged_batches_are_sent_again_after_a_reconnect(tmp_path: Path) -> None:
    link = MemoryLink()
    link.gate.clear()
    async with await filled_outbox(tmp_path, 5) as outbox:
        uplink = Uplink(outbox, link, max_in_flight=8)
        async with running(uplink):
            first = await link.connect()
            async with asyncio.timeout(TIMEOUT):
                await link.arrived.wait()
            await first.close()  # the session dies before any commit
            assert (await outbox.stats()).pending == 5
            link.gate.set()
            await link.connect()
            async with asyncio.timeout(TIMEOUT):
                await uplink.wait_acked(5)
            assert [seq for seq, _ in link.received] == [1, 2, 3, 4, 5]
            assert uplink.sent_total > 5  # the first session's frames, then all again
        await link.close()


async def test_a_closed_session_is_not_handed_out(tmp_path: Path) -> None:
    link = MemoryLink()
    dead = await link.connect()
    await dead.close()
    live = await link.connect()
    async with asyncio.timeout(TIMEOUT):
        channel = await link.wait_channel()
    assert isinstance(channel, SessionChannel)
    assert channel.session is live.device
    await link.close()


def test_tunnel_url() -> None:
    assert tunnel_url("https://gw.example:8443/") == "wss://gw.example:8443/tunnel/v1"
    assert tunnel_url("http://127.0.0.1:8080") == "ws://127.0.0.1:8080/tunnel/v1"
    assert tunnel_url("https://gw.example/base/") == "wss://gw.example/base/tunnel/v1"


class EndingChannel:
    """A channel whose sends wait until the test ends it with a ConnectionError."""

    def __init__(self) -> None:
        self.sending = asyncio.Event()
        self.end: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def wait_channel(self) -> EndingChannel:
        return self

    async def send(self, seq: int, payload: bytes) -> asyncio.Future[None]:
        self.sending.set()
        await self.end
        raise AssertionError("unreachable: the channel only ends")


async def test_a_cancel_arriving_as_the_channel_ends_stops_the_uplink(tmp_path: Path) -> None:
    """The agent's stop cancels the uplink and closes the tunnel at once: the channel's
    ConnectionError and the cancel reach the uplink together. It must end (cancelled), not
    swallow the cancel with the error and wait for the next channel for ever."""
    channel = EndingChannel()
    async with await filled_outbox(tmp_path, 1) as outbox:
        task = asyncio.create_task(Uplink(outbox, channel).run(), name="uplink")
        async with asyncio.timeout(TIMEOUT):
            await channel.sending.wait()
        channel.end.set_exception(ConnectionError("the session has ended"))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            async with asyncio.timeout(TIMEOUT):
                await task
