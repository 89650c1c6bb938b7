"""The event loop of a benchmark's process (ADR 0027).

``BENCH_TUNNEL_LOOP`` chooses per role: ``asyncio`` (the default, as the product ships: every
role on asyncio's loop), ``uvloop-gateway`` (gateway code on uvloop, the gateway's
``event_loop = "uvloop"``), ``uvloop`` (every role on uvloop), ``uvloop-device`` (only the
device side). The metric ``tunnel_loop`` of ``bench tunnel`` says which ran.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

from tunnel.cliutil import EventLoop, loop_factory

__all__ = ["PRODUCT_LOOPS", "run_end", "run_gateway", "tunnel_loops"]

T = TypeVar("T")

PRODUCT_LOOPS = "asyncio"
"""``BENCH_TUNNEL_LOOP`` when unset: each role on the loop the product runs it on."""


def tunnel_loops() -> str:
    """The ``BENCH_TUNNEL_LOOP`` in force."""
    return os.environ.get("BENCH_TUNNEL_LOOP", PRODUCT_LOOPS)


def run_end(main: Coroutine[Any, Any, T], role: str) -> T:
    """Run ``main``, the work of a ``gateway`` or of a ``device`` (agents too), on its loop."""
    on_uvloop = tunnel_loops() in ("uvloop", f"uvloop-{role}")
    new_loop = loop_factory(EventLoop.UVLOOP if on_uvloop else EventLoop.ASYNCIO)
    with asyncio.Runner(loop_factory=new_loop) as runner:
        return runner.run(main)


def run_gateway(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main``, gateway code in this process (its services, its HTTP server), on the
    gateway's loop."""
    return run_end(main, "gateway")
