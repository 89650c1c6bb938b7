"""The benchmark's client side: plain blocking sockets, the same code for every path.

Each path (direct, ``ssh -R``, our tunnel) is just a TCP port on loopback that leads to
the echo or source target, so only the path in between differs.
"""

from __future__ import annotations

import socket
import statistics
import struct
import threading
import time

__all__ = ["Echoer", "bulk", "echo_rtts", "percentile"]

_SIZE = struct.Struct("!Q")


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def bulk(
    port: int,
    nbytes: int,
    started: threading.Event | None = None,
    arrivals: list[tuple[float, int]] | None = None,
) -> float:
    """Ask the source for ``nbytes`` and receive them; seconds from request to last byte.

    ``arrivals``, if given, receives (``time.monotonic()``, bytes so far) when the request
    goes out (0 bytes) and per piece received."""
    buffer = bytearray(1024 * 1024)
    with _connect(port) as sock:
        begin = time.perf_counter()
        if arrivals is not None:
            arrivals.append((time.monotonic(), 0))
        sock.sendall(_SIZE.pack(nbytes))
        got = 0
        while got < nbytes:
            n = sock.recv_into(buffer)
            if n == 0:
                raise ConnectionError(f"source closed after {got} of {nbytes} bytes")
            got += n
            if arrivals is not None:
                arrivals.append((time.monotonic(), got))
            if started is not None and got >= len(buffer):
                started.set()
        return time.perf_counter() - begin


class Echoer:
    """One connection to the echo target; :meth:`once` times one round trip."""

    def __init__(self, port: int, size: int = 64) -> None:
        self._sock = _connect(port)
        self._message = bytes(range(256))[:size] * (size // 256 + 1)
        self._message = self._message[:size]
        self._buffer = bytearray(size)

    def once(self) -> float:
        begin = time.perf_counter()
        self._sock.sendall(self._message)
        view = memoryview(self._buffer)
        got = 0
        while got < len(self._buffer):
            n = self._sock.recv_into(view[got:])
            if n == 0:
                raise ConnectionError("echo target closed")
            got += n
        elapsed = time.perf_counter() - begin
        if self._buffer != self._message:
            raise ConnectionError("echo came back different")
        return elapsed

    def close(self) -> None:
        self._sock.close()


def echo_rtts(port: int, count: int, warmup: int = 20) -> list[float]:
    """``count`` sequential 64-byte round trips (after ``warmup`` untimed ones)."""
    echoer = Echoer(port)
    try:
        for _ in range(warmup):
            echoer.once()
        return [echoer.once() for _ in range(count)]
    finally:
        echoer.close()


def percentile(samples: list[float], pct: float) -> float:
    """The ``pct`` percentile (0..100) with linear interpolation."""
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=1000, method="inclusive")[round(pct * 10) - 1]
