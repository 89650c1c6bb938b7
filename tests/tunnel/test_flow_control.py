"""A hypothesis state machine over two stream tables joined by an in-order wire.

Rules open, accept, write, read, half-close, reset, transmit, deliver and drop a session
in any order. Invariants: no DATA frame ever exceeds the receiver's credit, buffers stay
bounded, and no stream that is closed both ways or reset stays in a table; at the end,
once everyone reads and closes, both tables are empty.

The gateway opens pipelined streams: it may write (and half-close) before OPEN_OK, within
its open credit. Receive windows vary: each end's windows are tuned (tunnel/window.py) on
a manual clock with a round trip the rules change, from a tunnel budget that reserves
from a global one which "other tunnels" fill and empty (memory pressure). Invariants: no
window beyond its maximum, no budget beyond its limit, and a tunnel's reservations are
exactly its live streams' growth; and a window never grows at a credit update while another
stream of its tunnel is sending a request (the contention rule). Each end's head start (the
window of a stream that opens alone, ``TunnelWindows.start``) varies too: a stream opened
beside another starts at the initial window, one opened alone at most at the head start,
and at the initial window while the budgets are half used.
"""

from __future__ import annotations

from collections import deque

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from tunnel.clock import ManualClock
from tunnel.errors import StreamResetError
from tunnel.frames import Data, Frame, OpenFailReason, OpenStream
from tunnel.stream_table import StreamTable
from tunnel.streams import MAX_BUFFER, Stream
from tunnel.window import TunnelWindows, WindowBudget

WINDOW = 4096
OPEN_CREDIT = 1024
MAX_TUNED = 8 * WINDOW
TUNNEL_LIMIT = 6 * WINDOW
GLOBAL_LIMIT = 10 * WINDOW


class Link:
    """What both ends share: the clock, the round trip, the global window budget."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.rtt: float | None = 0.05
        self.budget = WindowBudget(limit=GLOBAL_LIMIT)
        self.others = 0  # reserved by "other tunnels"


class Wire:
    """A FrameQueue that serves control frames first and streams round-robin."""

    def __init__(self) -> None:
        self.control: deque[Frame] = deque()
        self.ready: deque[Stream] = deque()
        self.scheduled: set[Stream] = set()

    def send_frame(self, frame: Frame) -> None:
        self.control.append(frame)

    def schedule(self, stream: Stream) -> None:
        if stream not in self.scheduled:
            self.scheduled.add(stream)
            self.ready.append(stream)

    def pop(self) -> Frame | None:
        if self.control:
            return self.control.popleft()
        while self.ready:
            stream = self.ready.popleft()
            frame = stream.take_frame()
            if stream.has_outgoing:
                self.ready.append(stream)
            else:
                self.scheduled.discard(stream)
            if frame is not None:
                return frame
        return None


def check_opening(windows: TunnelWindows, stream: Stream, *, alone: bool, roomy: bool) -> None:
    """A new stream's window: the head start only alone and with room, within the start."""
    if alone and roomy:
        assert WINDOW <= stream.window_size <= windows.start
    else:
        assert stream.window_size == WINDOW


class End:
    def __init__(self, *, odd: bool, link: Link, start: int = MAX_TUNED) -> None:
        self.wire = Wire()
        self.budget = WindowBudget(limit=TUNNEL_LIMIT, parent=link.budget)
        self.windows = windows = TunnelWindows(
            initial=WINDOW,
            maximum=MAX_TUNED,
            budget=self.budget,
            now=link.clock.monotonic,
            rtt=lambda: link.rtt,
            start=start,
        )
        # The gateway's streams are pipelined: DATA may follow OPEN before OPEN_OK.
        credit = OPEN_CREDIT if odd else 0
        self.table = StreamTable(
            self.wire, odd_ids=odd, window=WINDOW, windows=windows, open_credit=credit
        )
        self.in_flight: deque[Frame] = deque()  # frames on their way *to* this end
        self.known: dict[int, Stream] = {}  # every stream this end ever had

    def deliver(self) -> None:
        frame = self.in_flight.popleft()
        if isinstance(frame, OpenStream):
            alone, roomy = not self.table.streams, self.budget.roomy
            stream = self.table.incoming(frame)
            if stream is not None:
                self.known[stream.id] = stream
                check_opening(self.windows, stream, alone=alone, roomy=roomy)
            return
        if isinstance(frame, Data):
            stream = self.table.get(frame.stream_id)
            if stream is not None:
                assert len(frame.data) <= stream.window, "DATA beyond credit"
        self.table.dispatch(frame)


class FlowControlMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.link = Link()
        self.gateway = End(odd=True, link=self.link)
        self.device = End(odd=False, link=self.link)
        self.sent = 0

    def ends(self) -> tuple[End, End]:
        return self.gateway, self.device

    def pick(self, end: End, index: int) -> Stream | None:
        streams = sorted(end.table.streams, key=lambda s: s.id)
        return streams[index % len(streams)] if streams else None

    def pump(self) -> None:
        """Carry and deliver every frame both ways until the wires are quiet."""
        moved = True
        while moved:
            moved = False
            for sender, receiver in ((self.gateway, self.device), (self.device, self.gateway)):
                while (frame := sender.wire.pop()) is not None:
                    receiver.in_flight.append(frame)
                    moved = True
                while receiver.in_flight:
                    receiver.deliver()
                    moved = True

    @initialize()
    def establish(self) -> None:
        """Start every run with two open streams (the rules can open more)."""
        for name in ("webui", "bulk"):
            stream = self.gateway.table.open(name)
            self.gateway.known[stream.id] = stream
        self.pump()
        for stream in self.device.table.streams:
            stream.accept()
        self.pump()

    @rule()
    def pump_all(self) -> None:
        self.pump()

    @rule(name=st.sampled_from(["webui", "bulk", "api"]))
    def open(self, name: str) -> None:
        gateway = self.gateway
        alone, roomy = not gateway.table.streams, gateway.budget.roomy
        stream = gateway.table.open(name)
        gateway.known[stream.id] = stream
        check_opening(gateway.windows, stream, alone=alone, roomy=roomy)

    @rule(side=st.booleans(), start=st.sampled_from([WINDOW, 2 * WINDOW + 100, MAX_TUNED]))
    def head_start(self, side: bool, start: int) -> None:
        """An end's streams that open alone start at ``start`` from now on."""
        self.ends()[side].windows.start = start

    @rule(index=st.integers(0, 9), fail=st.booleans())
    def answer_open(self, index: int, fail: bool) -> None:
        stream = self.pick(self.device, index)
        if stream is None or stream.accepted:
            return
        if fail:
            stream.fail_open(OpenFailReason.UNREACHABLE, "nobody home")
        else:
            stream.accept()

    @rule(side=st.booleans(), index=st.integers(0, 9), size=st.integers(1, 3 * WINDOW))
    def write(self, side: bool, index: int, size: int) -> None:
        stream = self.pick(self.ends()[side], index)
        if stream is None or stream._eof_out or not (stream.accepted or stream.open_credit):
            return
        self.sent += stream.write_nowait(bytes(size))

    @rule(side=st.booleans(), index=st.integers(0, 9), size=st.integers(-1, 2 * WINDOW))
    def read(self, side: bool, index: int, size: int) -> None:
        stream = self.pick(self.ends()[side], index)
        if stream is not None and stream.accepted:
            stream.read_nowait(size)

    @rule(side=st.booleans(), index=st.integers(0, 9))
    def write_eof(self, side: bool, index: int) -> None:
        stream = self.pick(self.ends()[side], index)
        if stream is not None and (stream.accepted or stream.open_credit):
            stream.write_eof_nowait()

    @rule(side=st.booleans(), index=st.integers(0, 9))
    def reset(self, side: bool, index: int) -> None:
        stream = self.pick(self.ends()[side], index)
        if stream is not None:
            stream.reset("test")

    @rule(side=st.booleans(), count=st.integers(1, 8))
    def transmit(self, side: bool, count: int) -> None:
        sender, receiver = self.ends() if side else self.ends()[::-1]
        for _ in range(count):
            frame = sender.wire.pop()
            if frame is None:
                return
            receiver.in_flight.append(frame)

    @precondition(lambda self: self.gateway.in_flight or self.device.in_flight)
    @rule(side=st.booleans(), count=st.integers(1, 8))
    def deliver(self, side: bool, count: int) -> None:
        end = self.ends()[side]
        for _ in range(min(count, len(end.in_flight))):
            end.deliver()

    @rule()
    def drop(self) -> None:
        for end in self.ends():
            end.table.abort_all(StreamResetError("dropped"))
            end.in_flight.clear()
        self.gateway = End(odd=True, link=self.link, start=self.gateway.windows.start)
        self.device = End(odd=False, link=self.link, start=self.device.windows.start)
        self.establish()

    @rule(side=st.booleans(), index=st.integers(0, 9), rounds=st.integers(1, 6))
    def transfer(self, side: bool, index: int, rounds: int) -> None:
        """A bulk sender and a reader that keeps up: what makes windows grow."""
        sender = self.pick(self.ends()[side], index)
        if sender is None or not sender.accepted or sender._eof_out:
            return
        receiver = self.ends()[not side].known.get(sender.id)
        for _ in range(rounds):
            if sender.finished or sender._eof_out:
                return
            self.sent += sender.write_nowait(bytes(MAX_TUNED))
            self.pump()
            if receiver is not None and receiver.accepted and not receiver.finished:
                receiver.read_nowait()
            self.pump()
            self.link.clock.advance(0.01)

    @rule(index=st.integers(0, 9), other=st.integers(0, 9))
    def request_during_transfer(self, index: int, other: int) -> None:
        """The gateway sends a request on one stream while another receives: the
        receiving stream's window does not grow at its next credit update."""
        bulk, request = self.pick(self.gateway, index), self.pick(self.gateway, other)
        if bulk is None or request is None or bulk is request or not bulk.accepted:
            return
        if request._eof_out or not (request.accepted or request.open_credit):
            return
        sender = self.device.known.get(bulk.id)
        if sender is None or not sender.accepted or sender._eof_out or sender.finished:
            return
        self.sent += request.write_nowait(b"GET / HTTP/1.1\r\n\r\n")
        before = bulk.window_size
        self.sent += sender.write_nowait(bytes(MAX_TUNED))
        self.pump()
        if not bulk.finished:
            bulk.read_nowait()
            assert bulk.window_size <= before, "a window grew while another stream sent"
        self.pump()

    @rule(seconds=st.sampled_from([0.0, 0.001, 0.02, 0.2]))
    def tick(self, seconds: float) -> None:
        self.link.clock.advance(seconds)

    @rule(rtt=st.sampled_from([None, 0.0005, 0.05, 0.5]))
    def change_rtt(self, rtt: float | None) -> None:
        self.link.rtt = rtt

    @rule(amount=st.integers(0, GLOBAL_LIMIT))
    def other_tunnels(self, amount: int) -> None:
        """Other tunnels release what they held and reserve ``amount`` (pressure)."""
        self.link.budget.release(self.link.others)
        self.link.others = self.link.budget.reserve(amount)

    @invariant()
    def buffers_are_bounded(self) -> None:
        for end in self.ends():
            for stream in end.known.values():
                assert 0 <= stream.buffered <= stream.window_size <= MAX_TUNED
                assert 0 <= stream.queued <= MAX_BUFFER
                assert stream.credit >= 0
                assert stream.window >= 0

    @invariant()
    def pipelined_bytes_stay_within_the_open_credit(self) -> None:
        for stream in self.gateway.known.values():
            if not stream.accepted:
                assert stream.bytes_out <= OPEN_CREDIT

    @invariant()
    def budgets_hold(self) -> None:
        link = self.link
        assert 0 <= link.budget.used <= GLOBAL_LIMIT
        assert link.budget.used == link.others + sum(end.budget.used for end in self.ends())
        for end in self.ends():
            assert 0 <= end.budget.used <= TUNNEL_LIMIT
            growth = sum(s.window_size - WINDOW for s in end.table.streams)
            assert end.budget.used == growth

    @invariant()
    def no_finished_stream_stays_in_a_table(self) -> None:
        for end in self.ends():
            for stream in end.table.streams:
                assert not stream.finished
                assert stream.error is None

    @invariant()
    def no_flow_control_violation(self) -> None:
        for end in self.ends():
            for stream in end.known.values():
                assert "flow control" not in str(stream.error or "")

    def teardown(self) -> None:
        """Everyone reads everything and half-closes: both tables must empty."""
        for _ in range(1000):
            if not len(self.gateway.table) and not len(self.device.table):
                break
            for end in self.ends():
                for stream in end.table.streams:
                    if end is self.device:
                        stream.accept()
                    if stream.accepted:
                        stream.read_nowait()
                        stream.write_eof_nowait()
            self.pump()
        assert len(self.gateway.table) == 0
        assert len(self.device.table) == 0


TestFlowControl = FlowControlMachine.TestCase
TestFlowControl.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
