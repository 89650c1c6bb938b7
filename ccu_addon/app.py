"""The add-on daemon: wires tunnel, dashboard and CCU event forwarding together."""

from __future__ import annotations

import asyncio
import logging

from ccu_addon.config import AddonConfig

__all__ = ["run_addon"]

_LOGGER = logging.getLogger(__name__)


async def run_addon(config: AddonConfig, stop: asyncio.Event) -> int:
    """Run until ``stop`` is set."""
    config.state_dir.mkdir(parents=True, exist_ok=True)
    _LOGGER.info("ccu-addon started; gateway %s", config.gateway.url)
    await stop.wait()
    _LOGGER.info("ccu-addon stopped")
    return 0
