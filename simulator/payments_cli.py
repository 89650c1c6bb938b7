# A command-line front end prints to the terminal:
# ruff: noqa: T201
"""``simulator paypal`` and ``simulator psp``: the payment simulators from the shell.

Each prints one JSON line with its addresses and credentials, then serves until stopped::

    {"paypal": "http://127.0.0.1:40123", "client_id": "sim-client", ...}

The gateway's ``[payments]`` section takes these values (``docs/config/gateway.toml``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from simulator.paypal import PayPalSimulator
from simulator.psp import PspSimulator

__all__ = ["register"]


async def _paypal(args: argparse.Namespace, stop: asyncio.Event) -> int:
    async with PayPalSimulator(host=args.host, port=args.port, decline=args.decline) as paypal:
        if args.webhook_url:
            paypal.register_webhook(args.webhook_url)
        print(json.dumps({
            "paypal": paypal.url, "client_id": paypal.client_id,
            "client_secret": paypal.client_secret, "webhook_id": paypal.webhook_id,
            "autopay_page": f"{paypal.url}/myaccount/autopay",
        }), flush=True)  # fmt: skip
        await stop.wait()
    return 0


async def _psp(args: argparse.Namespace, stop: asyncio.Event) -> int:
    async with PspSimulator(host=args.host, port=args.port, decline=args.decline) as psp:
        print(
            json.dumps({"psp": psp.url, "api_key": psp.api_key, "secret": psp.secret}),
            flush=True,
        )
        await stop.wait()
    return 0


def register(subparsers: Any) -> None:
    """Add ``paypal`` and ``psp``."""
    for name, handler, text in (
        ("paypal", _paypal, "a local PayPal (Orders v2, Subscriptions, signed webhooks)"),
        ("psp", _psp, "a payment service provider's hosted page (card, online transfer)"),
    ):
        parser: argparse.ArgumentParser = subparsers.add_parser(name, help=text)
        parser.add_argument("--host", default="127.0.0.1", help="address to bind")
        parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
        parser.add_argument("--decline", action="store_true", help="decline every payment")
        if name == "paypal":
            parser.add_argument("--webhook-url", help="deliver webhook events here")
        parser.add_argument(
            "--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
        )
        parser.set_defaults(handler=handler)
