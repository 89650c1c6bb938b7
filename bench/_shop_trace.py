"""One checkout as a timeline: ``python -m bench._shop_trace [sqlite|postgresql] [psp|paypal]``.

Where does one buyer's time go? This runs :func:`bench._shop_checkout.checkout_run` with one
buyer alone (after the warm-up) and records, in the gateway's process while timed, each
request (its wall time and the process's CPU time while it ran), each outgoing HTTP call (to
the provider's API), each SQL statement, commit and rollback, with milliseconds since the
buyers started. It prints the run's summary line, then the timeline (``--sql``: with every
statement). The hooks wrap aiohttp's ``Application._handle`` and ``ClientSession._request``
and listen to SQLAlchemy's engine events; they are for this diagnosis only. ``ROLLBACK`` is
SQLAlchemy's event: on SQLite the driver skips a rollback with no transaction open (ADR 0029).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from aiohttp import ClientSession, web

from bench import _shop_checkout
from bench._loop import run_gateway
from bench._proc import Node

__all__ = ["main"]


class _Timeline:
    """Events with their time since :meth:`start` (only between start and stop)."""

    def __init__(self) -> None:
        self.events: list[tuple[float, str, str, str]] = []
        self._t0: float | None = None

    def start(self) -> None:
        self._t0 = time.perf_counter()

    def stop(self) -> None:
        self._t0 = None

    def log(self, kind: str, what: str, took: str = "") -> None:
        if self._t0 is not None:
            self.events.append(((time.perf_counter() - self._t0) * 1000, kind, took, what))


def _hook_http(timeline: _Timeline) -> None:
    handle: Callable[..., Any] = web.Application._handle
    request_out: Callable[..., Any] = ClientSession._request

    async def handled(self: web.Application, request: web.Request) -> web.StreamResponse:
        began, cpu = time.perf_counter(), time.process_time()
        what = f"{request.method} {request.path[:60]}"
        timeline.log("REQ>", what)
        try:
            response: web.StreamResponse = await handle(self, request)
            return response
        finally:
            wall = (time.perf_counter() - began) * 1000
            used = (time.process_time() - cpu) * 1000
            timeline.log("REQ<", what, f"{wall:.1f} ({used:.1f} CPU)")

    async def sent(self: ClientSession, method: str, url: Any, **kw: Any) -> Any:
        began = time.perf_counter()
        try:
            return await request_out(self, method, url, **kw)
        finally:
            took = f"{(time.perf_counter() - began) * 1000:.1f}"
            timeline.log("HTTP", f"{method} {str(url)[-60:]}", took)

    web.Application._handle = handled  # type: ignore[method-assign]
    ClientSession._request = sent  # type: ignore[method-assign,assignment]


def _hook_sql(timeline: _Timeline) -> None:
    start = _shop_checkout.start_gateway  # type: ignore[attr-defined]

    async def started(*args: Any, **kwargs: Any) -> Any:
        gateway = await start(*args, **kwargs)
        engine = gateway.store.engine.sync_engine

        def statement(_conn: Any, _cursor: Any, sql: str, *_rest: Any) -> None:
            timeline.log("SQL", " ".join(sql.split())[:90])

        sa.event.listen(engine, "before_cursor_execute", statement)
        sa.event.listen(engine, "commit", lambda _conn: timeline.log("COMMIT", ""))
        sa.event.listen(engine, "rollback", lambda _conn: timeline.log("ROLLBACK", ""))
        return gateway

    _shop_checkout.start_gateway = started  # type: ignore[attr-defined]


async def _traced(backend: str, provider: str, timeline: _Timeline) -> dict[str, Any]:
    event = _shop_checkout._event

    async def marked(buyers_node: Node) -> dict[str, Any]:
        line = await event(buyers_node)
        if line.get("ready"):
            timeline.start()
        if "samples" in line:
            timeline.stop()
        return line

    _shop_checkout._event = marked
    run = await _shop_checkout.checkout_run(1, backend=backend, provider=provider, alone=True)
    return run.summary()


def main() -> None:
    """Trace one checkout and print the timeline."""
    args = sys.argv[1:]
    backend = next((a for a in args if a in ("sqlite", "postgresql")), "sqlite")
    provider = next((a for a in args if a in ("psp", "paypal")), "psp")
    timeline = _Timeline()
    _hook_http(timeline)
    _hook_sql(timeline)
    summary = run_gateway(_traced(backend, provider, timeline))
    print(json.dumps({"backend": backend, "provider": provider, **summary}))
    for at, kind, took, what in timeline.events:
        if kind != "SQL" or "--sql" in args:
            print(f"{at:8.1f} {kind:8} {took:18} {what}")


if __name__ == "__main__":
    main()
