"""``cloud-gateway``: serve the gateway, migrate its database, export documents."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path

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
    documents = sub.add_parser("documents", help="billing documents")
    doc_sub = documents.add_subparsers(dest="documents_command", required=True, metavar="ACTION")
    export = doc_sub.add_parser(
        "export", help="write every finalised document of a period and index.csv (tax audit)"
    )
    add_common_arguments(export)
    export.add_argument("--from", dest="first", required=True, type=date.fromisoformat,
                        help="first issue date, YYYY-MM-DD")  # fmt: skip
    export.add_argument("--to", dest="last", required=True, type=date.fromisoformat,
                        help="last issue date, YYYY-MM-DD (inclusive)")  # fmt: skip
    export.add_argument("--out", required=True, type=Path, help="folder to write into")
    return parser


async def _serve(args: argparse.Namespace, stop: asyncio.Event) -> int:
    config = load_gateway_config(args.config)
    gateway = await start_gateway(config, SystemClock())
    print(f"cloud-gateway: serving {gateway.url}", flush=True)
    try:
        await stop.wait()
        if config.cluster.enabled:  # one of several nodes: hand the devices over first
            await gateway.drain()
    finally:
        await gateway.stop()
    return 0


async def _migrate(args: argparse.Namespace) -> int:
    config = load_gateway_config(args.config)
    store = await Store.open(config.database_url)
    await store.close()
    print(f"cloud-gateway: database at head ({config.database_url.split('://')[0]})")
    return 0


async def _export(args: argparse.Namespace) -> int:
    from cloud_gateway.billing.export import export_documents  # noqa: PLC0415 - one command
    from cloud_gateway.billing.repository import BillingRepository  # noqa: PLC0415

    config = load_gateway_config(args.config)
    store = await Store.open(config.database_url)
    try:
        report = await export_documents(
            store.repo(BillingRepository), args.first, args.last, args.out
        )
    finally:
        await store.close()
    print(f"cloud-gateway: {report.documents} documents (PDF/A-3 with XML) and {report.index}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``cloud-gateway``."""
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)

    def run() -> int:
        if args.command == "serve":
            return run_async_command(lambda stop: _serve(args, stop))
        if args.command == "documents":
            return asyncio.run(_export(args))
        return asyncio.run(_migrate(args))

    return run_guarded("cloud-gateway", run)


if __name__ == "__main__":
    sys.exit(main())
