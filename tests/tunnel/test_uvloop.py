"""The tunnel on uvloop's event loop (uvloop is a test dependency).

uvloop's transports do not subclass ``asyncio.Transport``; the device's WebSocket client
and the TCP splices take them by their methods (:func:`tunnel.transport.stream_transport`).
The scenario of ``test_tcp_splice`` runs in its own uvloop runner, outside pytest-asyncio's loop.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import trustme
import uvloop

from tests.tunnel.test_tcp_splice import round_trip_small_and_bulk, splice_rig
from tunnel.clock import ManualClock


async def _round_trip(ca: trustme.CA, tmp_path: Path) -> None:
    assert type(asyncio.get_running_loop()).__module__.startswith("uvloop")
    async with asyncio.timeout(20), splice_rig(ca, tmp_path, ManualClock()) as rig:
        await round_trip_small_and_bulk(rig)
        assert not isinstance(rig.splices[0].transport, asyncio.Transport)  # uvloop's own


def test_a_spliced_stream_round_trips_over_uvloop(ca: trustme.CA, tmp_path: Path) -> None:
    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(_round_trip(ca, tmp_path))
    finally:
        loop.close()
