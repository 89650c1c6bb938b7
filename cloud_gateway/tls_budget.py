"""A budget of TLS handshakes in progress, decided before any TLS work (ADR 0032).

asyncio's TLS listener completes the handshake of every accepted connection before the
application sees it: in a reconnect storm the gateway paid OpenSSL for attempts the device
had already abandoned (30,610 connections accepted for 7,444 sessions, 48 s in OpenSSL), and
the tunnel's :class:`~tunnel.admission.HandshakeGate` could only refuse after that. The
listeners (:mod:`cloud_gateway.tls_stage`) accept plain TCP and ask this budget first:

* at most ``handshakes`` TLS handshakes run at once;
* beyond that a connection waits in a FIFO queue of at most ``queue`` places for at most
  ``queue_wait_s`` seconds, its socket unread (the ClientHello stays in the kernel);
* one source address holds at most ``per_source`` places (running plus queued);
* anything else is closed at once: the device sees a failed connection attempt and backs
  off as after any network error.

A queued connection whose peer has gone (FIN or RST: the device gave up) is dropped when
its turn comes, and a sweep every :data:`SWEEP_S` seconds frees such places earlier; neither
costs a handshake. The bookkeeping is synchronous; only the queue timers and the sweep use
the running loop.
"""

from __future__ import annotations

import asyncio
import select
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cloud_gateway.config import HttpConfig

__all__ = [
    "SWEEP_S",
    "TlsBudget",
    "TlsBudgetLimits",
    "TlsBudgetMetrics",
    "TlsClaim",
    "TlsWaiter",
    "peers_gone",
]

SWEEP_S: Final = 0.25
"""How often the queue is searched for connections whose peer has gone."""

_GONE: Final = select.POLLHUP | select.POLLERR | select.POLLNVAL | getattr(select, "POLLRDHUP", 0)
"""poll() events meaning the peer closed or reset (POLLRDHUP: Linux, even with unread data)."""


def peers_gone(fds: list[int]) -> set[int]:
    """The descriptors among ``fds`` whose peer has closed or reset the connection.

    One ``poll`` without waiting. A peer that sent its ClientHello and then FIN still counts
    as gone on Linux (POLLRDHUP), where a peek at the data would only see the ClientHello.
    """
    poller = select.poll()
    for fd in fds:
        if fd >= 0:
            poller.register(fd, _GONE)
    gone = {fd for fd, events in poller.poll(0) if events & _GONE}
    return gone | {fd for fd in fds if fd < 0}


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsBudgetLimits:
    """The figures of the budget (``[http] tls_handshakes_*``, docs/operations.md)."""

    handshakes: int = 64
    """TLS handshakes in progress at once."""
    queue: int = 256
    """Connections waiting for a handshake place."""
    queue_wait_s: float = 3.0
    """Longest wait for a place; with ``tls_handshake_timeout_s`` (10 s) under a device's
    15 s connect timeout."""
    per_source: int = 16
    """Places (running and queued) one source address may hold."""

    @classmethod
    def of(cls, http: HttpConfig) -> TlsBudgetLimits:
        """The figures configured in ``[http]``."""
        return cls(
            handshakes=http.tls_handshakes_max,
            queue=http.tls_handshake_queue,
            queue_wait_s=http.tls_handshake_queue_wait_s,
            per_source=http.tls_handshakes_per_source,
        )

    def __post_init__(self) -> None:
        if self.handshakes < 1 or self.queue < 0 or self.per_source < 1:
            raise ValueError("TLS budget: handshakes and per_source >= 1, queue >= 0")
        if self.queue_wait_s <= 0:
            raise ValueError("TLS budget: queue_wait_s must be positive")


class TlsWaiter(Protocol):
    """A connection asking for a handshake place (the listener's pre-TLS protocol)."""

    def fileno(self) -> int:
        """Its socket, or -1 once closed."""

    def start(self, claim: TlsClaim) -> None:
        """A place is granted: begin the TLS handshake, then call ``claim.done()``."""

    def drop(self) -> None:
        """No place after all (queue wait over, peer gone, listener stopped): close."""


class TlsClaim:
    """One connection's place in the budget, running or queued; :meth:`done` gives it back."""

    __slots__ = ("_budget", "_timer", "running", "source", "waiter")

    def __init__(self, budget: TlsBudget, source: str, waiter: TlsWaiter) -> None:
        self._budget = budget
        self.source = source
        self.waiter = waiter
        self.running = False
        self._timer: asyncio.TimerHandle | None = None

    def done(self) -> None:
        """The handshake ended (any outcome) or the queued connection went away."""
        self._budget._done(self)


class TlsBudget:
    """Handshakes in progress, their queue and each source's share (one per gateway node)."""

    def __init__(self, limits: TlsBudgetLimits | None = None) -> None:
        self.limits = limits or TlsBudgetLimits()
        self.in_progress = 0
        self.started_total = 0
        """Handshakes begun, at once or after queueing."""
        self.queued_total = 0
        self.refused_full = 0
        """Closed at once: every place and the queue taken."""
        self.refused_source = 0
        """Closed at once: the source address held its share."""
        self.gave_up = 0
        """Queued connections whose peer had gone: dropped without a handshake."""
        self.expired = 0
        """Queued connections still waiting after ``queue_wait_s``: closed."""
        self._queue: deque[TlsClaim] = deque()
        self._sources: Counter[str] = Counter()
        self._sweep: asyncio.TimerHandle | None = None

    @property
    def waiting(self) -> int:
        """Connections queued for a place."""
        return len(self._queue)

    def held_by(self, source: str) -> int:
        """Places (running and queued) held by one source address."""
        return self._sources[source]

    def ask(self, source: str, waiter: TlsWaiter) -> TlsClaim | None:
        """A place, now (``waiter.start`` is called before this returns) or queued; None:
        close the connection at once."""
        limits = self.limits
        if self._sources[source] >= limits.per_source:
            self.refused_source += 1
            return None
        claim = TlsClaim(self, source, waiter)
        if self.in_progress < limits.handshakes and not self._queue:
            self._sources[source] += 1
            self._start(claim)
            return claim
        if len(self._queue) >= limits.queue:
            self.refused_full += 1
            return None
        self._sources[source] += 1
        self._queue.append(claim)
        self.queued_total += 1
        loop = asyncio.get_running_loop()
        claim._timer = loop.call_later(limits.queue_wait_s, self._expire, claim)
        if self._sweep is None:
            self._sweep = loop.call_later(SWEEP_S, self._sweep_queue)
        return claim

    def close(self) -> None:
        """The listeners stop: every queued connection is dropped."""
        while self._queue:
            claim = self._queue.popleft()
            self._forget(claim)
            claim.waiter.drop()
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None

    def _start(self, claim: TlsClaim) -> None:
        claim.running = True
        self.in_progress += 1
        self.started_total += 1
        claim.waiter.start(claim)

    def _done(self, claim: TlsClaim) -> None:
        if claim.running:
            claim.running = False
            self.in_progress -= 1
            self._unhold(claim.source)
            self._next()
        elif claim._timer is not None:  # still queued: its connection went away
            self._queue.remove(claim)
            self._forget(claim)

    def _forget(self, claim: TlsClaim) -> None:
        """A queued claim leaves without a handshake."""
        if claim._timer is not None:
            claim._timer.cancel()
            claim._timer = None
        self._unhold(claim.source)

    def _unhold(self, source: str) -> None:
        held = self._sources[source] - 1
        if held:
            self._sources[source] = held
        else:
            del self._sources[source]  # the Counter holds only sources with places

    def _next(self) -> None:
        """Hand free places to the queue's first connections whose peer is still there."""
        while self._queue and self.in_progress < self.limits.handshakes:
            claim = self._queue.popleft()
            self._forget(claim)
            if peers_gone([claim.waiter.fileno()]):
                self.gave_up += 1
                claim.waiter.drop()
                continue
            self._sources[claim.source] += 1
            self._start(claim)

    def _expire(self, claim: TlsClaim) -> None:
        claim._timer = None  # the timer has run: _forget must not cancel it
        self._queue.remove(claim)
        self._unhold(claim.source)
        self.expired += 1
        claim.waiter.drop()

    def _sweep_queue(self) -> None:
        self._sweep = None
        if not self._queue:
            return
        fds = [claim.waiter.fileno() for claim in self._queue]
        gone = peers_gone(fds)
        if gone:
            leaving = [c for c, fd in zip(self._queue, fds, strict=True) if fd in gone]
            for claim in leaving:
                self._queue.remove(claim)
                self._forget(claim)
                self.gave_up += 1
                claim.waiter.drop()
        if self._queue:
            self._sweep = asyncio.get_running_loop().call_later(SWEEP_S, self._sweep_queue)


class TlsBudgetMetrics(Collector):
    """The budget's counters for ``/metrics``, read at scrape time (docs/operations.md)."""

    def __init__(self, budget: TlsBudget) -> None:
        self._budget = budget

    def collect(self) -> Iterable[Metric]:
        budget = self._budget
        yield CounterMetricFamily(
            "cloudconnector_tls_handshakes_started",
            "TLS handshakes begun, at once or after queueing (this node)",
            value=budget.started_total,
        )
        yield CounterMetricFamily(
            "cloudconnector_tls_handshakes_queued",
            "Connections that waited in the queue for a handshake place",
            value=budget.queued_total,
        )
        yield _by_reason(
            "cloudconnector_tls_handshakes_refused",
            "Connections closed at once before any TLS work, by reason "
            "(full: places and queue taken; source: the address held its share)",
            full=budget.refused_full,
            source=budget.refused_source,
        )
        yield _by_reason(
            "cloudconnector_tls_handshakes_dropped",
            "Queued connections closed without a handshake, by reason "
            "(gave_up: the peer had gone; expired: no place within the queue wait)",
            gave_up=budget.gave_up,
            expired=budget.expired,
        )
        yield GaugeMetricFamily(
            "cloudconnector_tls_handshakes_in_progress",
            "TLS handshakes running now",
            value=budget.in_progress,
        )
        yield GaugeMetricFamily(
            "cloudconnector_tls_handshakes_waiting",
            "Connections queued for a handshake place now",
            value=budget.waiting,
        )
        yield GaugeMetricFamily(
            "cloudconnector_tls_handshakes_max",
            "Handshake places of the budget ([http] tls_handshakes_max)",
            value=budget.limits.handshakes,
        )


def _by_reason(name: str, documentation: str, **counts: int) -> CounterMetricFamily:
    """One counter family with a ``reason`` label per keyword."""
    family = CounterMetricFamily(name, documentation, labels=["reason"])
    for reason, count in counts.items():
        family.add_metric([reason], count)
    return family
