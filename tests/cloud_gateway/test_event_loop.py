"""The gateway's own tests run on uvloop, its supported second loop (ADR 0027); the
``cloud-gateway serve`` processes and end-to-end tests keep its default, asyncio's."""

from __future__ import annotations

import asyncio
import os

import uvloop


async def test_gateway_tests_run_on_uvloop_unless_asyncio_is_asked_for() -> None:
    on_uvloop = isinstance(asyncio.get_running_loop(), uvloop.Loop)
    assert on_uvloop is (os.environ.get("TEST_LOOP", "split") != "asyncio")
