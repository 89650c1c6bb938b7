"""Gateway admission control: a bound on tunnel handshakes in progress.

After a gateway restart its whole fleet comes back at once. Handshakes (TLS, WebSocket
upgrade, HELLO, certificate and entitlement look-ups, WELCOME) then compete for one CPU;
past a point they all get slow, devices time out and retry, and nobody gets through.
:class:`HandshakeGate` admits at most ``limit`` handshakes at a time and answers the rest
at once with REFUSE(``overloaded``) and a ``retry_after`` drawn uniformly from a window
as long as the backlog needs at the measured completion rate, so refused devices come
back spread out instead of in the next second::

    ticket = gate.try_enter()
    if ticket is None:
        await session.refuse(RefusalReason.OVERLOADED, gate.retry_after())
        return
    with ticket:                       # leaves the gate, counted as done
        ... receive HELLO, check, WELCOME ...

The TLS handshake itself happens before the gate (asyncio completes it before the HTTP
handler runs), so a refusal still costs one; it saves the rest and, above all, the
device's timeout-and-retry loop. Pure asyncio-free bookkeeping with an injected clock
and random source.
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import Final

__all__ = ["HandshakeGate", "HandshakeTicket"]

_RATE_WINDOW: Final = 5.0
"""Seconds over which the completion rate and the refusal backlog are counted."""


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
    """At most ``limit`` handshakes at once; the rest are told when to come back."""

    def __init__(
        self,
        limit: int = 64,
        *,
        min_retry: float = 5.0,
        max_retry: float = 120.0,
        min_rate: float = 50.0,
        now: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if limit < 1 or not 0 < min_retry <= max_retry:
            raise ValueError("HandshakeGate needs limit >= 1 and 0 < min_retry <= max_retry")
        self.limit = limit
        self.min_retry = min_retry
        """Shortest window retry delays are drawn from."""
        self.max_retry = max_retry
        """Longest window retry delays are drawn from."""
        self.min_rate = min_rate
        """Completions per second assumed before enough were measured."""
        self.in_progress = 0
        self.admitted_total = 0
        self.refused_total = 0
        self._now = now
        self._rand = rand
        self._done: list[float] = []  # completion instants within the rate window
        self._promised: list[float] = []  # heap: instants refused devices were sent back to

    def try_enter(self) -> HandshakeTicket | None:
        """A ticket if there is room, else None (refuse the device as overloaded)."""
        if self.in_progress >= self.limit:
            self.refused_total += 1
            return None
        self.in_progress += 1
        self.admitted_total += 1
        return HandshakeTicket(self)

    def rate(self) -> float:
        """Handshakes completed per second, recently (at least ``min_rate``)."""
        self._trim()
        return max(len(self._done) / _RATE_WINDOW, self.min_rate)

    def retry_after(self) -> float:
        """A retry delay for a refused device, uniform over the backlog's window.

        The backlog is every device already sent back and not yet due, plus those in
        progress; the window is how long the recent completion rate needs for them.
        """
        self._trim()
        backlog = len(self._promised) + self.in_progress + 1
        window = min(max(backlog / self.rate(), self.min_retry), self.max_retry)
        delay = self._rand() * window
        heapq.heappush(self._promised, self._now() + delay)
        return delay

    def _leave(self) -> None:
        self.in_progress -= 1
        self._done.append(self._now())

    def _trim(self) -> None:
        now = self._now()
        drop = 0
        while drop < len(self._done) and self._done[drop] < now - _RATE_WINDOW:
            drop += 1
        del self._done[:drop]
        while self._promised and self._promised[0] <= now:
            heapq.heappop(self._promised)
