"""Gateway admission control: a bound on tunnel handshakes in progress, and a short queue.

After a gateway restart its whole fleet comes back at once. Handshakes (TLS, WebSocket
upgrade, HELLO, certificate and entitlement look-ups, WELCOME) then compete for one CPU;
past a point they all get slow, devices time out and retry, and nobody gets through.
:class:`HandshakeGate` lets at most ``limit`` handshakes run at a time. A device beyond
that waits in a FIFO queue for a free place as long as the queue, at the measured
completion rate, would let it in within ``max_wait`` seconds (well inside the device's
10 s handshake timeout), and is refused if it still waits after ``queue_timeout``
(the estimate was wrong, say the event loop fell behind); refused means
REFUSE(``overloaded``) with a ``retry_after`` from :meth:`HandshakeGate.retry_after`::

    ticket = await gate.enter()
    if ticket is None:
        await session.refuse(RefusalReason.OVERLOADED, gate.retry_after())
        return
    with ticket:                       # leaves the gate, counted as done
        ... receive HELLO, check, WELCOME ...

The TLS handshake and the WebSocket upgrade happen before the gate (asyncio completes
the TLS handshake before the HTTP handler runs), so a refused device has already cost
most of what an admitted one costs: waiting is nearly always cheaper than refusing.

Refused devices are sent back to distinct future slots: the gate keeps a horizon, and
each refusal takes the next slot of ``1 / (rate * return_share)`` seconds after it (at
least ``min_retry`` from now), so they come back at a fraction of the rate the gateway
completes handshakes, leaving the rest for devices arriving on their own. (Drawing every
delay uniformly from one window would bunch the returns near its start.)

The rate is what the gate completes per second *while it has work* (completions in the
window divided by the seconds in it with a handshake in progress), not per second of the
window: after a storm, while the refused devices wait for their slots, the gate is idle
much of the time, and counting those idle seconds made the rate look lower, the next
refusals' slots sparser, the gate idler still (issue 18: slots 91 s ahead from a node that
could have taken them within half the time).

Bookkeeping with an injected clock and random source; only :meth:`HandshakeGate.enter`
touches asyncio (a future per queued device, answered True by a handover or False by the
queue timeout's timer; :meth:`HandshakeGate.enter` never raises but ``CancelledError``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Final

__all__ = ["HandshakeGate", "HandshakeTicket"]

_RATE_WINDOW: Final = 5.0
"""Seconds over which the completion rate is counted."""
_MIN_BUSY: Final = 1.0
"""Busy seconds the rate is divided by at least (completions bunched into a moment do not
make an unbounded rate)."""


class HandshakeTicket:
    """One admitted handshake; leaving it (``with`` or :meth:`leave`) frees its place."""

    __slots__ = ("_gate", "_left")

    def __init__(self, gate: HandshakeGate) -> None:
        self._gate = gate
        self._left = False

    def leave(self) -> None:
        if not self._left:
            self._left = True
            self._gate._leave()

    def __enter__(self) -> HandshakeTicket:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.leave()


class HandshakeGate:
    """At most ``limit`` handshakes at once, a short queue, the rest told when to come back."""

    def __init__(
        self,
        limit: int = 64,
        *,
        max_wait: float = 4.0,
        queue_timeout: float = 6.0,
        min_retry: float = 5.0,
        max_retry: float = 600.0,
        min_rate: float = 20.0,
        return_share: float = 0.5,
        now: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if limit < 1 or not 0 <= max_wait <= queue_timeout or not 0 < min_retry <= max_retry:
            raise ValueError(
                "HandshakeGate needs limit >= 1, 0 <= max_wait <= queue_timeout"
                " and 0 < min_retry <= max_retry"
            )
        if min_rate <= 0 or not 0 < return_share <= 1:
            raise ValueError("HandshakeGate needs min_rate > 0 and 0 < return_share <= 1")
        self.limit = limit
        self.max_wait = max_wait
        """Longest expected wait in the queue; a device that would wait longer is refused."""
        self.queue_timeout = queue_timeout
        """Longest real wait (event-loop seconds): a device still queued then is refused
        while it can still hear why (its own handshake timeout is 10 s)."""
        self.min_retry = min_retry
        """Shortest retry delay handed out."""
        self.max_retry = max_retry
        """Longest retry delay handed out (the slots beyond it share this delay)."""
        self.min_rate = min_rate
        """Completions per second assumed before enough were measured."""
        self.return_share = return_share
        """Share of the completion rate given to refused devices coming back."""
        self.in_progress = 0
        self.admitted_total = 0
        """Handshakes let in, at once or after queueing."""
        self.queued_total = 0
        """Of those, the ones that waited in the queue first."""
        self.refused_total = 0
        self._now = now
        self._rand = rand
        self._done: deque[float] = deque()  # completion instants within the rate window
        self._busy: deque[tuple[float, float]] = deque()  # ended busy spans in the window
        self._busy_since: float | None = None  # start of the current busy span
        self._waiting: deque[asyncio.Future[bool]] = deque()
        self._horizon = 0.0  # the latest instant a refused device was sent back to

    @property
    def waiting(self) -> int:
        """Devices queued for a place."""
        return len(self._waiting)

    def try_enter(self) -> HandshakeTicket | None:
        """A ticket if there is a free place and nobody queued before us, else None."""
        if self.in_progress >= self.limit or self._waiting:
            return None
        if self.in_progress == 0:
            self._busy_since = self._now()
        self.in_progress += 1
        self.admitted_total += 1
        return HandshakeTicket(self)

    def expected_wait(self) -> float:
        """Seconds a device queued now would wait, at the recent completion rate."""
        return (len(self._waiting) + 1) / self.rate()

    async def enter(self) -> HandshakeTicket | None:
        """A ticket, after queueing for at most about ``max_wait``; None: refuse the device."""
        ticket = self.try_enter()
        if ticket is not None:
            return ticket
        if self.expected_wait() > self.max_wait:
            self.refused_total += 1
            return None
        loop = asyncio.get_running_loop()
        place: asyncio.Future[bool] = loop.create_future()
        self._waiting.append(place)
        # The queue timeout is a timer of the gate, not a cancellation of the waiting task:
        # it takes the place out of the queue and answers it in one step, so no handover
        # can meet a place that is timing out (an overloaded loop runs both in one turn).
        timer = loop.call_later(self.queue_timeout, self._expire, place)
        try:
            admitted = await place
        except asyncio.CancelledError:
            if place.done() and not place.cancelled() and place.result():
                self._release()  # handed a place in the same instant: pass it on
            else:
                self._forget(place)
            raise
        finally:
            timer.cancel()
        if not admitted:
            self.refused_total += 1
            return None
        self.admitted_total += 1
        self.queued_total += 1
        return HandshakeTicket(self)

    def rate(self) -> float:
        """Handshakes completed per busy second, recently (at least ``min_rate``): what the
        gate manages while it has work, however long it sat idle in between."""
        self._trim()
        return max(len(self._done) / max(self._busy_seconds(), _MIN_BUSY), self.min_rate)

    def _busy_seconds(self) -> float:
        """Seconds of the rate window with a handshake in progress."""
        now = self._now()
        start = now - _RATE_WINDOW
        busy = sum(end - max(begin, start) for begin, end in self._busy)
        if self._busy_since is not None:
            busy += now - max(self._busy_since, start)
        return busy

    def retry_after(self) -> float:
        """The retry delay for a device refused now: the next free return slot.

        Slots are ``1 / (rate * return_share)`` seconds apart and start ``min_retry``
        from now at the earliest; within its slot the device's instant is random.
        """
        now = self._now()
        spacing = 1.0 / (self.rate() * self.return_share)
        start = max(self._horizon, now + self.min_retry)
        self._horizon = start + spacing
        return min(start - now + self._rand() * spacing, self.max_retry)

    def _leave(self) -> None:
        self._done.append(self._now())
        self._release()

    def _release(self) -> None:
        """Hand the place to the first queued device that still waits, or free it."""
        while self._waiting:
            place = self._waiting.popleft()
            if not place.done():
                place.set_result(True)
                return
        self.in_progress -= 1
        if self.in_progress == 0 and self._busy_since is not None:
            self._busy.append((self._busy_since, self._now()))
            self._busy_since = None

    def _expire(self, place: asyncio.Future[bool]) -> None:
        """``queue_timeout`` has passed for a device still queued: it is refused."""
        if not place.done():
            self._forget(place)
            place.set_result(False)

    def _forget(self, place: asyncio.Future[bool]) -> None:
        """Take a place out of the queue if it is still there (a handover may have
        dropped it already: a cancelled place is skipped, not given)."""
        with contextlib.suppress(ValueError):
            self._waiting.remove(place)

    def _trim(self) -> None:
        horizon = self._now() - _RATE_WINDOW
        done = self._done
        while done and done[0] < horizon:
            done.popleft()
        busy = self._busy
        while busy and busy[0][1] < horizon:
            busy.popleft()
