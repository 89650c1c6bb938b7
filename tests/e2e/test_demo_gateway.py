"""``simulator demo`` serves the gateway's start page over HTTPS and prints where it is."""

from __future__ import annotations

import asyncio
import json
import signal
import ssl
import sys
from pathlib import Path

import aiohttp


async def test_demo_prints_json_and_serves_https(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator.cli",
        "demo",
        "--state-dir",
        str(tmp_path / "state"),
        "--port",
        "0",
        "--print-json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(60):
            line = await proc.stdout.readline()
        facts = json.loads(line)
        ctx = ssl.create_default_context(cafile=facts["ca_cert"])
        async with aiohttp.ClientSession() as http, http.get(facts["urls"]["portal"], ssl=ctx) as r:
            assert r.status == 200
            assert "CloudConnector" in await r.text()
    finally:
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(30):
            code = await proc.wait()
    assert code == 0
