"""Receive windows that grow with the bandwidth-delay product; pure, no tasks, no I/O.

A stream starts with the session's initial window (256 KiB by default), or with a head
start (:data:`START_WINDOW`, 1 MiB) when it opens alone on its tunnel and the budgets have
room (:meth:`TunnelWindows.opening`). Each time the receiver returns credit (once half the
window was consumed) it asks its :class:`WindowTuner` how large the window should be from
now on::

    budget = WindowBudget(limit=8 * MIB, parent=shared_budget())   # one per tunnel
    windows = TunnelWindows(initial=256 * KIB, budget=budget, now=clock, rtt=lambda: 0.05)
    tuner = windows.tuner()                 # one per stream
    size = tuner.update(131072)             # the window after this CREDIT of 128 KiB
    tuner.release()                         # the stream ended: its growth is returned

The rule (:func:`next_size`) is the one TCP receive-buffer autotuning (Linux's
``tcp_rcv_space_adjust``) and HTTP/2 / QUIC implementations use: the window should hold
twice what the stream takes per round trip (credit returns at half a window), measured as
the bytes this CREDIT returns over the time since the last one, times the RTT. Below that
the sender was held back by the window, not by the link, and the window grows to that
need (:func:`needed`), at most doubling per update. For the first update the clock starts
at the stream's first received byte, so a window-bound stream already grows at its first
CREDIT. It settles at twice the measured bandwidth-delay product, and never beyond
:data:`MAX_WINDOW`, the protocol's 1 MiB bound: growing needs no protocol change, a larger
window is just a larger CREDIT.

Growth beyond the initial window is reserved from a per-tunnel :class:`WindowBudget`,
which reserves in turn from a process-wide one; a stream grows only by what both still
have. A budget under pressure (7/8 used) halves the windows above their initial size at
their next update, returning the bytes; so does a tunnel where more than one stream
received or sent data within the last two RTTs (:meth:`TunnelWindows.contended`): a grown
window lets a bulk stream keep its bytes queued ahead of a WebUI's in the one connection.
A stream that sends counts as soon as its bytes are queued (a WebUI request goes out while a
backup downloads), so the backup's window shrinks at its next update, about one round trip
and one queue earlier than when the request's answer arrives. A window costs memory only
while the application leaves bytes unread: an idle tunnel holds one budget object and no
reservations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

__all__ = [
    "MAX_WINDOW",
    "START_WINDOW",
    "TunnelWindows",
    "WindowBudget",
    "WindowTuner",
    "needed",
    "next_size",
    "shared_budget",
]

MAX_WINDOW: Final = 1024 * 1024
"""The protocol's bound on a stream's receive window (docs/protocol.md)."""
STEP: Final = 16 * 1024
"""Window sizes that :func:`needed` gives are multiples of this."""
START_WINDOW: Final = MAX_WINDOW
"""The window of a stream that opens alone on its tunnel (:meth:`TunnelWindows.opening`)."""
TUNNEL_BUDGET: Final = 8 * 1024 * 1024
"""Window growth one tunnel may reserve, over all its streams."""
GLOBAL_BUDGET: Final = 256 * 1024 * 1024
"""Window growth all tunnels of the process may reserve together."""


class WindowBudget:
    """Bytes of window growth that may be reserved; nested (tunnel -> process)."""

    __slots__ = ("limit", "parent", "used")

    def __init__(self, *, limit: int, parent: WindowBudget | None = None) -> None:
        if limit < 0:
            raise ValueError("limit must not be negative")
        self.limit = limit
        self.parent = parent
        self.used = 0

    @property
    def free(self) -> int:
        """What a reservation could get now (here and in every parent)."""
        own = self.limit - self.used
        return own if self.parent is None else min(own, self.parent.free)

    @property
    def roomy(self) -> bool:
        """Less than half used, here and in every parent: room for a head start."""
        if self.used * 2 >= self.limit:
            return False
        return self.parent is None or self.parent.roomy

    @property
    def under_pressure(self) -> bool:
        """7/8 or more used, here or in a parent: windows should shrink."""
        if self.used * 8 >= self.limit * 7 and self.used:
            return True
        return self.parent is not None and self.parent.under_pressure

    def reserve(self, want: int) -> int:
        """Reserve up to ``want`` bytes; the count reserved (maybe 0)."""
        got = max(0, min(want, self.free))
        budget: WindowBudget | None = self
        while budget is not None:
            budget.used += got
            budget = budget.parent
        return got

    def release(self, amount: int) -> None:
        """Return ``amount`` reserved bytes."""
        budget: WindowBudget | None = self
        while budget is not None:
            budget.used = max(0, budget.used - amount)
            budget = budget.parent


_SHARED: WindowBudget | None = None


def shared_budget() -> WindowBudget:
    """The process-wide budget every tunnel's budget reserves from by default."""
    global _SHARED  # noqa: PLW0603 - one per process by definition
    if _SHARED is None:
        _SHARED = WindowBudget(limit=GLOBAL_BUDGET)
    return _SHARED


def next_size(
    size: int,
    *,
    consumed: int,
    initial: int,
    maximum: int,
    interval: float | None,
    rtt: float | None,
    pressure: bool,
    free: int,
) -> int:
    """The window after a credit update.

    ``consumed`` is what the application took since the previous update (what this
    CREDIT returns; at least half the window), ``interval`` the time since that update
    (None for the first), ``rtt`` the session's round trip (None before the first PONG),
    ``free`` what the budget could still give. Under ``pressure`` a window above
    ``initial`` halves (not below it). Otherwise it grows to what the stream's rate
    needs (:func:`needed`), at most doubling per update, by at most ``free`` and never
    beyond ``maximum``.
    """
    if pressure:
        return max(initial, size // 2) if size > initial else size
    if interval is None or rtt is None or size >= maximum:
        return size
    need = needed(consumed, interval, rtt)
    if size >= need:  # the link, not the window, holds the sender back
        return size
    return size + max(0, min(size, need - size, maximum - size, free))


def needed(consumed: int, interval: float, rtt: float) -> int:
    """The window a stream that took ``consumed`` bytes in ``interval`` seconds needs:
    twice what it takes per round trip (credit returns at half a window), in steps of
    :data:`STEP`.

    By the rate, not by whether "half a window came back within one RTT": a credit
    held back while the local receiver's buffer was full returns a whole window at once,
    after the longer time that took, and such a window-bound stream never grew (the WAN
    bench's upload at 105 of 300 Mbit/s). And no further than that: doubling past the
    need left a backup's window at 1 MiB where 688 KB fill a DSL line, and a page loading
    beside it waited behind the difference (``docs/benchmarks.md``, issue 19).
    """
    if interval <= 0:
        return MAX_WINDOW
    return -(-int(2 * consumed * rtt / interval) // STEP) * STEP


class TunnelWindows:
    """What the streams of one tunnel share: budget, clock and the measured RTT."""

    __slots__ = (
        "_recent",
        "_switched_at",
        "budget",
        "initial",
        "maximum",
        "now",
        "rtt",
        "start",
    )

    def __init__(
        self,
        *,
        initial: int,
        budget: WindowBudget,
        now: Callable[[], float],
        rtt: Callable[[], float | None],
        maximum: int = MAX_WINDOW,
        start: int | None = None,
    ) -> None:
        if not 0 < initial <= maximum <= MAX_WINDOW:
            raise ValueError(f"need 0 < initial <= maximum <= {MAX_WINDOW}")
        start = initial if start is None else start
        if not initial <= start <= maximum:
            raise ValueError("need initial <= start <= maximum")
        self.initial = initial
        """The window every stream may shrink back to; never reserved from the budget."""
        self.start = start
        """The window a stream opening alone starts with (:meth:`opening`)."""
        self.maximum = maximum
        self.budget = budget
        self.now = now
        self.rtt = rtt
        self._recent: WindowTuner | None = None  # the stream that received DATA last
        self._switched_at = -1e9  # when DATA last arrived for another stream than before

    def tuner(self, *, alone: bool = False) -> WindowTuner:
        """The window of a new stream; ``alone``: no other stream of the tunnel is open."""
        return WindowTuner(self, self.opening(alone=alone))

    def opening(self, *, alone: bool) -> int:
        """The window a new stream starts with, its growth reserved from the budget.

        A stream that opens while no other stream of the tunnel is open (a download, a
        backup, the first request of a page) starts at :attr:`start`, as far as the budget
        gives, if the budgets are less than half used: it fills the line from the first
        round trip (ssh starts its channels at 2 MiB) instead of ramping up from
        :attr:`initial` over the first credit updates. Streams that open beside another
        start at :attr:`initial`, so a page's parallel requests hold no head start, a
        backup that starts during a page load none either, and no tunnel holds more than
        one head start at a time (a browser's idle keep-alive connection may keep one).
        The head start is growth like any other: it shrinks under contention and
        pressure at the stream's credit updates and returns at its end.
        """
        extra = self.start - self.initial
        if not alone or extra <= 0 or not self.budget.roomy:
            return self.initial
        return self.initial + self.budget.reserve(extra)

    def saw_data(self, tuner: WindowTuner) -> None:
        """DATA arrived for ``tuner``'s stream, or it queued DATA to send (cheap: called
        per frame)."""
        if tuner is not self._recent:
            if self._recent is not None:
                self._switched_at = self.now()
            self._recent = tuner

    def contended(self, now: float, rtt: float | None) -> bool:
        """More than one stream received or sent data within the last two RTTs (100 ms
        if no RTT yet): windows above the initial one shrink, so a bulk stream keeps fewer
        bytes queued ahead of an interactive one in the shared connection (HTTP/2 servers
        use priorities for this; the window is our knob)."""
        return now - self._switched_at < 2 * (rtt if rtt is not None else 0.05)


class WindowTuner:
    """The receive window of one stream."""

    __slots__ = ("_last", "_windows", "size")

    def __init__(self, windows: TunnelWindows, size: int | None = None) -> None:
        self._windows = windows
        self.size = windows.initial if size is None else size
        """The current window: what the peer may have in flight plus what is unread."""
        self._last: float | None = None

    @property
    def reserved(self) -> int:
        """Bytes of this window taken from the budget."""
        return self.size - self._windows.initial

    def update(self, consumed: int) -> int:
        """A CREDIT for ``consumed`` bytes is due: the window from now on (grown, shrunk
        or the same)."""
        windows = self._windows
        now = windows.now()
        interval = None if self._last is None else now - self._last
        self._last = now
        budget = windows.budget
        rtt = windows.rtt()
        new = next_size(
            self.size,
            consumed=consumed,
            initial=windows.initial,
            maximum=windows.maximum,
            interval=interval,
            rtt=rtt,
            pressure=budget.under_pressure or windows.contended(now, rtt),
            free=budget.free,
        )
        if new > self.size:
            new = self.size + budget.reserve(new - self.size)
        elif new < self.size:
            budget.release(self.size - new)
        self.size = new
        return new

    def saw_data(self) -> None:
        """DATA arrived for this stream.

        The first arrival starts the clock of the first update: a half window that
        arrived within one RTT of the stream's first byte doubles the window already at
        the first CREDIT (one update, about an RTT, earlier than measuring from there)."""
        if self._last is None:
            self._last = self._windows.now()
        self._windows.saw_data(self)

    def sent_data(self) -> None:
        """This stream queued DATA to send (its answer will share the link)."""
        self._windows.saw_data(self)

    def release(self) -> None:
        """The stream ended: return its growth to the budget."""
        if self.size > self._windows.initial:
            self._windows.budget.release(self.size - self._windows.initial)
            self.size = self._windows.initial
