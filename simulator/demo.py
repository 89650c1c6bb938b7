"""``simulator demo``: the whole system on one machine, on SQLite, over TLS on loopback."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from cloud_gateway.config import GatewayConfig, HttpConfig
from cloud_gateway.server import RunningGateway, start_gateway
from tunnel.clock import SystemClock

__all__ = ["run_demo"]

_LOGGER = logging.getLogger(__name__)


async def _start_gateway(state_dir: Path, port: int) -> RunningGateway:
    config = GatewayConfig(state_dir=state_dir / "gateway", http=HttpConfig(port=port))
    try:
        return await start_gateway(config, SystemClock())
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE or port == 0:
            raise
        _LOGGER.warning("port %d is taken, using a free one", port)
        return await start_gateway(replace(config, http=HttpConfig(port=0)), SystemClock())


def describe(gateway: RunningGateway) -> dict[str, Any]:
    """The facts the demo prints: URLs and logins."""
    return {
        "urls": {"portal": gateway.url},
        "ca_cert": str(gateway.tls.ca_cert) if gateway.tls.ca_cert else None,
        "logins": {},
    }


async def run_demo(state_dir: Path, port: int, stop: asyncio.Event, *, print_json: bool) -> int:
    """Start everything, print where to look, run until ``stop`` is set."""
    gateway = await _start_gateway(state_dir, port)
    try:
        facts = describe(gateway)
        if print_json:
            print(json.dumps(facts), flush=True)
        else:
            print(
                "\nCloudConnector demo is running (Ctrl-C stops it)\n"
                f"  Portal:   {facts['urls']['portal']}\n"
                f"  CA:       {facts['ca_cert']} (self-signed; your browser will warn)\n",
                flush=True,
            )
        await stop.wait()
    finally:
        await gateway.stop()
    return 0
