"""``cloud-gateway``: serve the gateway, migrate its database, export documents.

Each command imports what it needs when it runs: the whole application (``serve``) takes
seconds to import, which ``--help``, a typo or ``contracts preview`` should not wait for.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloud_gateway.config import GatewayConfig, load_gateway_config
from tunnel.cliutil import (
    add_common_arguments,
    loop_factory,
    run_async_command,
    run_guarded,
    setup_logging,
)
from tunnel.clock import SystemClock

if TYPE_CHECKING:
    from cloud_gateway.store import Store

__all__ = ["main"]

_LOGGER = logging.getLogger(__name__)


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
    bank = sub.add_parser("bank", help="bank transfers")
    bank_sub = bank.add_subparsers(dest="bank_command", required=True, metavar="ACTION")
    bank_import = bank_sub.add_parser(
        "import", help="import a camt.053 statement (.02/.08), match and book it; JSON summary"
    )
    add_common_arguments(bank_import)
    bank_import.add_argument("statement", type=Path, help="the camt.053 XML file")
    _add_contracts(sub)
    _add_operator_commands(sub)
    return parser


def _add_contracts(sub: Any) -> None:
    """``contracts preview``: the whole life of one prepaid contract (dry run, no database)."""
    contracts = sub.add_parser("contracts", help="prepaid service contracts")
    con_sub = contracts.add_subparsers(dest="contracts_command", required=True, metavar="ACTION")
    preview = con_sub.add_parser(
        "preview", help="print the documents, service days and balance of one contract (JSON)"
    )
    add_common_arguments(preview)
    preview.add_argument("--product", required=True, help="catalogue key, e.g. satellite-uplink")
    preview.add_argument("--plan", help="plan code (default: the product's first plan)")
    preview.add_argument("--start", required=True, type=date.fromisoformat,
                         help="activation day, YYYY-MM-DD")  # fmt: skip
    preview.add_argument("--paid-months", type=int,
                         help="pro-formas are paid up to this month (default: all)")  # fmt: skip
    preview.add_argument("--terminate", type=date.fromisoformat,
                         help="end early at the start of this day, YYYY-MM-DD")  # fmt: skip
    mode = preview.add_mutually_exclusive_group()
    mode.add_argument("--at-once", action="store_true", help="the day is the first unused one")
    mode.add_argument("--period-end", action="store_true", help="end with the current month")
    preview.add_argument("--overdraft", action="store_true",
                         help="settle unpaid pro-formas from the payment account")  # fmt: skip


def _add_operator_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    operator = sub.add_parser("operator", help="staff accounts of the operator console")
    op_sub = operator.add_subparsers(dest="operator_command", required=True, metavar="ACTION")
    create = op_sub.add_parser("create", help="create a staff account; prints a password link")
    add_common_arguments(create)
    create.add_argument("name", help="user name")
    create.add_argument("--email", required=True, help="e-mail address")
    create.add_argument("--role", choices=["operator", "accountant"], default="operator",
                        help="operator (support) or accountant (money)")  # fmt: skip
    listing = op_sub.add_parser("list", help="list the staff accounts")
    add_common_arguments(listing)


async def _open_store(config: GatewayConfig) -> Store:
    """The configured database, migrated to head."""
    from cloud_gateway.store import Store  # noqa: PLC0415 - only commands that use it

    return await Store.open(config.database_url)


async def _operator(args: argparse.Namespace) -> int:
    from cloud_gateway.accounts.model import Role  # noqa: PLC0415 - one command
    from cloud_gateway.accounts.passwords import PasswordHasher  # noqa: PLC0415
    from cloud_gateway.operator.staff import (  # noqa: PLC0415
        create_staff,
        list_staff,
        portal_base,
    )

    config = load_gateway_config(args.config)
    store = await _open_store(config)
    try:
        if args.operator_command == "create":
            made = await create_staff(
                store,
                SystemClock(),
                PasswordHasher(),
                username=args.name,
                email=args.email,
                role=Role(args.role),
                base_url=portal_base(config),
            )
            print(f"cloud-gateway: {made.account.role.value} {made.account.username} created")
            print(f"set the password (once, within 72 hours): {made.link}")
        else:
            for hit in await list_staff(store):
                print(f"{hit.username}\t{hit.role.value}\t{hit.email}\t{hit.created_at:%Y-%m-%d}")
    finally:
        await store.close()
    return 0


async def _serve(config: GatewayConfig, stop: asyncio.Event) -> int:
    from cloud_gateway.server import start_gateway  # noqa: PLC0415 - the whole application

    loop = asyncio.get_running_loop()
    _LOGGER.info("event loop: %s.%s", type(loop).__module__, type(loop).__name__)
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
    store = await _open_store(config)
    await store.close()
    print(f"cloud-gateway: database at head ({config.database_url.split('://')[0]})")
    return 0


async def _export(args: argparse.Namespace) -> int:
    from cloud_gateway.billing.export import export_documents  # noqa: PLC0415 - one command
    from cloud_gateway.billing.repository import BillingRepository  # noqa: PLC0415

    config = load_gateway_config(args.config)
    store = await _open_store(config)
    try:
        report = await export_documents(
            store.repo(BillingRepository), args.first, args.last, args.out
        )
    finally:
        await store.close()
    print(f"cloud-gateway: {report.documents} documents (PDF/A-3 with XML) and {report.index}")
    return 0


async def _bank_import(args: argparse.Namespace) -> int:
    """Import one statement with the gateway's own services (what the upload does)."""
    from cloud_gateway.banking.errors import StatementError  # noqa: PLC0415
    from cloud_gateway.composition import build_services  # noqa: PLC0415

    config = load_gateway_config(args.config)
    data = args.statement.read_bytes()
    store = await _open_store(config)
    try:
        services = build_services(config, store, SystemClock())
        summary = await services.bank.import_statement(data, str(args.statement))
    except StatementError as exc:
        print(f"cloud-gateway: nothing booked: {exc}", file=sys.stderr)
        return 1
    finally:
        await store.close()
    print(json.dumps(summary.as_dict()))
    return 0


def _contracts_preview(args: argparse.Namespace) -> int:
    from cloud_gateway.billing.catalogue import load_catalogues  # noqa: PLC0415 - one command
    from cloud_gateway.billing.errors import BillingError  # noqa: PLC0415
    from cloud_gateway.billing.preview import preview_contract, preview_terms  # noqa: PLC0415

    config = load_gateway_config(args.config)
    try:
        product, tax = preview_terms(load_catalogues(), config.billing, args.product, args.start)
        result = preview_contract(
            product, args.plan or product.plans[0].code, args.start, tax=tax,
            paid_months=args.paid_months, terminate=args.terminate, at_once=args.at_once,
            overdraft=args.overdraft,
        )  # fmt: skip
    except BillingError as exc:
        print(f"cloud-gateway contracts preview: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result.as_json()), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``cloud-gateway``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "contracts" and args.terminate and not (args.at_once or args.period_end):
        parser.error("--terminate needs --at-once or --period-end")
    setup_logging(args.log_level)

    def run() -> int:
        if args.command == "serve":
            config = load_gateway_config(args.config)
            new_loop = loop_factory(config.event_loop, config_path=str(args.config or "defaults"))
            return run_async_command(lambda stop: _serve(config, stop), new_loop=new_loop)
        if args.command == "documents":
            return asyncio.run(_export(args))
        if args.command == "bank":
            return asyncio.run(_bank_import(args))
        if args.command == "contracts":
            return _contracts_preview(args)
        if args.command == "operator":
            return asyncio.run(_operator(args))
        return asyncio.run(_migrate(args))

    return run_guarded("cloud-gateway", run)


if __name__ == "__main__":
    sys.exit(main())
