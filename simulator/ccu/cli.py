"""``simulator ccu``: options and the run loop (the parser is registered by ``simulator.ccu_cli``).

Prints where the simulated CCU listens (one JSON object with ``--print-json``), advances the
live behaviour every ``tick_interval`` seconds, and runs until ``stop`` is set.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from dataclasses import replace
from typing import Any

from simulator.ccu.catalog import InterfaceName
from simulator.ccu.config import CcuConfig
from simulator.ccu.server import SimulatedCcu

__all__ = ["add_arguments", "build_config", "describe", "run"]

#: command-line option → configuration field
_OVERRIDES = {
    "host": "host",
    "webui_port": "webui_port",
    "bidcos_port": "bidcos_port",
    "hmip_port": "hmip_port",
    "seed": "seed",
    "big_file_size": "big_file_size",
    "tick_interval": "tick_interval",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``ccu`` options; unset ones fall back to ``--config`` and then the defaults."""
    parser.add_argument("--host", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--webui-port", type=int, help="WebUI/JSON-RPC port (0: any; CCU: 80)")
    parser.add_argument("--bidcos-port", type=int, help="BidCos-RF XML-RPC port (CCU: 2001)")
    parser.add_argument("--hmip-port", type=int, help="HmIP-RF XML-RPC port (CCU: 2010)")
    parser.add_argument("--seed", type=int, help="seed of the live behaviour (default: 1)")
    parser.add_argument("--big-file-size", type=int, help="bytes of /webui/big.bin")
    parser.add_argument("--tick-interval", type=float, help="seconds between behaviour steps")
    parser.add_argument(
        "--print-json", action="store_true", help="print the ports as one JSON object"
    )


def build_config(args: argparse.Namespace, base: CcuConfig | None = None) -> CcuConfig:
    """``base`` (from ``--config`` or the defaults) with the options given on the command line."""
    changes: dict[str, Any] = {
        field: getattr(args, option)
        for option, field in _OVERRIDES.items()
        if getattr(args, option, None) is not None
    }
    return replace(base or CcuConfig(), **changes)


def describe(ccu: SimulatedCcu) -> dict[str, Any]:
    """What the command prints: ports, URLs and the login."""
    return {
        "ports": ccu.ports,
        "urls": {
            "webui": ccu.webui_url,
            "jsonrpc": f"{ccu.webui_url}/api/homematic.cgi",
            **{str(name): ccu.xmlrpc_url(name) for name in InterfaceName},
        },
        "login": {"username": ccu.config.username, "password": ccu.config.password},
        "serial": ccu.config.serial,
    }


async def _tick_forever(ccu: SimulatedCcu, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        ccu.tick()


async def run(args: argparse.Namespace, stop: asyncio.Event, base: CcuConfig | None = None) -> int:
    """Start the simulated CCU, print where it is, run until ``stop`` is set."""
    config = build_config(args, base)
    async with SimulatedCcu(config) as ccu:
        facts = describe(ccu)
        if args.print_json:
            print(json.dumps(facts), flush=True)
        else:
            lines = [f"  {name:10} {url}" for name, url in facts["urls"].items()]
            login = facts["login"]
            print(
                "Simulated CCU is running (Ctrl-C stops it)\n" + "\n".join(lines) + "\n"
                f"  login      {login['username']} / {login['password']}",
                flush=True,
            )
        ticker = None
        if config.tick_interval > 0:
            ticker = asyncio.create_task(_tick_forever(ccu, config.tick_interval), name="ccu-tick")
        try:
            await stop.wait()
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
    return 0
