"""Bulk buffers from a heap that keeps its pages, not from fresh mappings (glibc).

A tunnel end moves bulk data in buffers of 128-256 KiB: a socket read, a DATA frame, its
WebSocket frame and TLS records, each a new ``bytes`` object that lives for one callback.
glibc's ``malloc`` serves such sizes from their own ``mmap`` (``M_MMAP_THRESHOLD``: 128 KiB
at start, raised to the largest mapping freed since) and gives the heap's free top back to
the kernel above ``M_TRIM_THRESHOLD`` (twice that): either way the next buffer starts as
fresh zero pages, one page fault and one page clearing per 4 KiB on first touch. In a
loopback bulk transfer that was 12 % of both tunnel ends' CPU (``perf``: ``exc_page_fault``
and ``clear_page_erms`` under ``memmove``; ``docs/benchmarks.md``, issue 19).

:func:`install` fixes both thresholds (which also ends glibc's dynamic adjustment): buffers
below :data:`MMAP_THRESHOLD` come from the heap, and up to :data:`TRIM_THRESHOLD` of free
heap top stays mapped for the next ones. Called once per process before the event loop
starts, as :func:`tunnel.tls_buffers.install` is, by the gateway and both device daemons.
What the process may keep beyond its live objects is at most the trim threshold (2 MiB):
small next to the 256 KiB TLS read buffer per connection that ``tls_buffers`` saves. Not
glibc (musl, macOS): nothing to do, :func:`install` returns False. Nor without ``ctypes``:
the hub's bundled runtime has none, so its start script sets the same thresholds through
glibc's environment (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``;
``packaging/ccu``), which :data:`ENVIRONMENT` spells out.
"""

from __future__ import annotations

import sys
from typing import Final

__all__ = ["ENVIRONMENT", "MMAP_THRESHOLD", "TRIM_THRESHOLD", "install"]

MMAP_THRESHOLD: Final = 1024 * 1024
"""Allocations from this size on get their own mapping (four 256 KiB reads fit below)."""
TRIM_THRESHOLD: Final = 2 * 1024 * 1024
"""Free heap top kept mapped for the next buffers before it goes back to the kernel."""

ENVIRONMENT: Final = {
    "MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD),
    "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD),
}
"""The same thresholds for a process glibc starts (read before ``main``)."""

_M_TRIM_THRESHOLD: Final = -1  # malloc.h
_M_MMAP_THRESHOLD: Final = -3


def install() -> bool:
    """Set glibc's thresholds for this process (idempotent); False where there is no
    glibc ``mallopt`` to call."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes  # noqa: PLC0415 - optional: the hub's bundled runtime has no ctypes
    except ImportError:
        return False
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return False
    if not hasattr(libc, "gnu_get_libc_version"):  # not glibc (musl's mallopt is a stub)
        return False
    mallopt = libc.mallopt
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
