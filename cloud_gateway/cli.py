"""``cloud-gateway``: serve the gateway or migrate its database."""

from __future__ import annotations

import argparse
import asyncio
import sys

from cloud_gateway.config import load_gateway_config
from cloud_gateway.server import start_gateway
from cloud_gateway.store import Store
from tunnel.cliutil import add_common_arguments, run_async_command, run_guarded, setup_logging
from tunnel.clock import SystemClock

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="cloud-gateway",
        description="Tunnel endpoint, remote access, telemetry, portal and shop.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="migrate the database and serve HTTPS")
    add_common_arguments(serve)
    migrate = sub.add_parser("migrate", help="bring the database schema up to date and exit")
    add_common_arguments(migrate)
    return parser


async def _serve(args: argparse.Namespace, stop: asyncio.Event) -> int:
    config = load_gateway_config(args.config)
    gateway = await start_gateway(config, SystemClock())
    print(f"cloud-gateway: serving {gateway.url}", flush=True)
    try:
        await stop.wait()
    finally:
        await gateway.stop()
    return 0


async def _migrate(args: argparse.Namespace) -> int:
    config = load_gateway_config(args.config)
    store = await Store.open(config.database_url)
    await store.close()
    print(f"cloud-gateway: database at head ({config.database_url.split('://')[0]})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``cloud-gateway``."""
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)

    def run() -> int:
        if args.command == "serve":
            return run_async_command(lambda stop: _serve(args, stop))
        return asyncio.run(_migrate(args))

    return run_guarded("cloud-gateway", run)


if __name__ == "__main__":
    sys.exit(main())
