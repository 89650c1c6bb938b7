"""``simulator ccu`` as a process: prints its ports as JSON, serves, stops on SIGINT."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

import aiohttp

from simulator.cli import build_parser
from tests.simulator.ccu_support import call, jsonrpc


def test_help_lists_the_options() -> None:
    args = build_parser().parse_args(["ccu", "--seed", "9", "--hmip-port", "0", "--print-json"])
    assert (args.seed, args.hmip_port, args.print_json) == (9, 0, True)


async def test_runs_until_interrupted() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator.cli", "ccu", "--print-json", "--webui-port", "0",
        "--bidcos-port", "0", "--hmip-port", "0", "--tick-interval", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        async with asyncio.timeout(20):
            facts = json.loads(await process.stdout.readline())
        assert set(facts["ports"]) == {"webui", "BidCos-RF", "HmIP-RF"}
        async with aiohttp.ClientSession() as http:
            assert await call(http, facts["urls"]["HmIP-RF"], "ping", "cli") is True
            answer = await jsonrpc(http, facts["urls"]["webui"], "Session.login", **facts["login"])
            assert answer["error"] is None
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(20):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
