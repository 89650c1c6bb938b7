"""The gateway's tests run on the loop the gateway runs on: uvloop (ADR 0027)."""

from __future__ import annotations

import asyncio
import os

import uvloop


async def test_gateway_tests_run_on_uvloop_unless_asyncio_is_asked_for() -> None:
    on_uvloop = isinstance(asyncio.get_running_loop(), uvloop.Loop)
    assert on_uvloop is (os.environ.get("TEST_LOOP", "product") != "asyncio")
