"""What ``simulator fleet`` shows while it runs: counts per state and connects per second.

On a terminal one status line is redrawn in place (at most five times a second); otherwise
(a pipe, a CI log) a plain line is printed every ``interval`` seconds and when it ends::

    fleet 100 ccu: 100 started, 3 pending, 97 enrolled, 95 connected, 0 refused,
    2 reconnecting, 12.0 connects/s, 120 connects in all
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

__all__ = ["FleetCounts", "Progress"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetCounts:
    """A snapshot of the fleet."""

    started: int
    """Devices whose daemon runs."""
    pending: int
    """Devices showing a pairing code (waiting for the owner)."""
    enrolled: int
    """Devices with a certificate (their tunnel connector exists)."""
    connected: int
    """Devices with a live tunnel session."""
    refused: int
    """Enrolled devices, not connected, whose last attempt the gateway refused."""
    reconnecting: int
    """Enrolled devices connecting or backing off for another reason."""
    connects: int
    """Tunnel sessions seen in all (first connects and reconnects)."""
    reconnects: int
    """Sessions after a device's first one in this run."""
    claimed: int
    """Pairing codes the fleet entered in the portal and the portal accepted."""
    connects_per_s: float
    """Sessions started per second, over the last second or so."""


def status_line(kind: str, total: int, counts: FleetCounts) -> str:
    """The one-line summary."""
    return (
        f"fleet {total} {kind}: {counts.started} started, {counts.pending} pending, "
        f"{counts.enrolled} enrolled, {counts.connected} connected, {counts.refused} refused, "
        f"{counts.reconnecting} reconnecting, {counts.connects_per_s:.1f} connects/s, "
        f"{counts.connects} connects in all"
    )


class Progress:
    """Writes the status to ``stream``: in place on a terminal, periodic lines otherwise."""

    def __init__(
        self, stream: TextIO, kind: str, total: int, *, interval: float, tty: bool | None = None
    ) -> None:
        self._stream = stream
        self._kind = kind
        self._total = total
        self._interval = interval
        self._tty = stream.isatty() if tty is None else tty
        self._last: float | None = None
        self._drawn = False

    def update(self, counts: FleetCounts, now: float) -> None:
        """Show ``counts`` if it is time to (``now``: a monotonic instant)."""
        pause = 0.2 if self._tty else self._interval
        if self._last is not None and now - self._last < pause:
            return
        self._last = now
        self._write(counts)

    def message(self, text: str) -> None:
        """A line of its own (a pairing code, a warning) above the status line."""
        if self._tty and self._drawn:
            self._stream.write("\r\x1b[2K")
            self._drawn = False
        self._stream.write(text + "\n")
        self._stream.flush()

    def finish(self, counts: FleetCounts) -> None:
        """The final status, on a line of its own."""
        self._write(counts)
        if self._tty:
            self._stream.write("\n")
            self._drawn = False
        self._stream.flush()

    def _write(self, counts: FleetCounts) -> None:
        line = status_line(self._kind, self._total, counts)
        if self._tty:
            self._stream.write("\r\x1b[2K" + line)
            self._drawn = True
        else:
            self._stream.write(line + "\n")
        self._stream.flush()
