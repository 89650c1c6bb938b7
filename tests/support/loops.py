"""Which event loop a test runs on (``TEST_LOOP``; ADR 0027)."""

from __future__ import annotations

from pathlib import Path

import pytest

_GATEWAY_TESTS = Path(__file__).parents[1] / "cloud_gateway"


def loop_for(item: pytest.Item, mode: str) -> str:
    """The event loop ``item`` runs on under ``TEST_LOOP=mode`` (ADR 0027).

    ``split`` (the default): the gateway's own tests on uvloop (``event_loop = "uvloop"``,
    the gateway's supported option), everything else on asyncio's loop: device ends,
    add-on, agent, and the in-process end-to-end tests and ``cloud-gateway serve``
    processes, which so keep the gateway's default loop tested; ``asyncio`` and ``uvloop``:
    every test on that loop. Always on asyncio's: the browser
    tests (Playwright's driver hangs at start on uvloop's loop) and the tests of asyncio's
    own TLS protocol (``asyncio_loop``: ``tunnel.tls_buffers``).
    """
    if item.get_closest_marker("browser") or item.get_closest_marker("asyncio_loop"):
        return "asyncio"
    if mode == "split":
        return "uvloop" if item.path.is_relative_to(_GATEWAY_TESTS) else "asyncio"
    return mode
