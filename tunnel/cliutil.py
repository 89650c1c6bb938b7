"""Shared command-line plumbing: logging set-up and the one-line config error contract.

Every CLI of the product exits with code 2 and a single line naming the file and key when
its configuration is bad, never with a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import enum
import importlib
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from tunnel import heap, tls_buffers
from tunnel.errors import ConfigError

__all__ = [
    "EXIT_CONFIG",
    "EventLoop",
    "LoopFactory",
    "add_common_arguments",
    "loop_factory",
    "prepare_tunnel_end",
    "run_async_command",
    "run_guarded",
]

EXIT_CONFIG = 2


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config FILE`` and ``--log-level`` for a command."""
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="TOML configuration file (see docs/config/)"
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="logging threshold (default: INFO)",
    )


def setup_logging(level: str) -> None:
    """Plain, timestamped log lines on stderr."""
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", stream=sys.stderr
    )


def prepare_tunnel_end() -> None:
    """Process set-up of a tunnel end (gateway, add-on, agent), before its event loop opens
    TLS connections: no 256 KiB TLS read buffer per connection and no exception per small
    record (ADR 0007, :mod:`tunnel.tls_buffers`), and bulk buffers from a heap that keeps
    its pages instead of fresh mappings (:mod:`tunnel.heap`)."""
    tls_buffers.install()
    heap.install()


def run_guarded(prog: str, func: Callable[[], int]) -> int:
    """Run ``func``; a :class:`ConfigError` becomes one line on stderr and exit code 2."""
    try:
        return func()
    except ConfigError as exc:
        print(f"{prog}: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


class EventLoop(enum.StrEnum):
    """Which event loop a long-running command runs on (ADR 0027)."""

    AUTO = "auto"
    """uvloop when it is installed, asyncio's own loop otherwise."""
    ASYNCIO = "asyncio"
    UVLOOP = "uvloop"
    """uvloop, or a configuration error when it is not installed."""


LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def loop_factory(
    choice: EventLoop, *, config_path: str = "configuration", key: str = "event_loop"
) -> LoopFactory | None:
    """The loop factory for ``choice`` (``None``: asyncio's default loop); uvloop is
    imported here, when the command starts, not with this module."""
    if choice is EventLoop.ASYNCIO:
        return None
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        if choice is EventLoop.UVLOOP:
            raise ConfigError(
                config_path,
                key,
                "uvloop is not installed (pip install 'cloudconnector[gateway]')",
            ) from None
        return None
    factory: LoopFactory = uvloop.new_event_loop
    return factory


def run_async_command(
    main: Callable[[asyncio.Event], Coroutine[Any, Any, int]],
    *,
    new_loop: LoopFactory | None = None,
) -> int:
    """Run ``main(stop)`` on a fresh loop (``new_loop()``'s, else asyncio's own); SIGINT and
    SIGTERM set ``stop`` for a clean exit."""

    async def runner() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            return await main(stop)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    with asyncio.Runner(loop_factory=new_loop) as loop_runner:
        return loop_runner.run(runner())
