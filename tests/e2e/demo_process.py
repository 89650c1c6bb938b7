"""``simulator demo`` as a child process: its JSON line, its log, a clean Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DemoRun", "demo_process"]


@dataclass
class DemoRun:
    """A running demo: what it printed, and (after the ``async with``) how it ended."""

    facts: dict[str, Any]
    log: Path
    exit_code: int | None = field(default=None)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@asynccontextmanager
async def demo_process(
    state_dir: Path, log: Path, *, timeout: float = 60
) -> AsyncIterator[DemoRun]:
    """Start the demo, wait for its JSON line; on leaving, SIGINT (Ctrl-C) and wait for it."""
    with log.open("ab") as sink:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "simulator.cli",
            "demo",
            "--state-dir",
            str(state_dir),
            "--port",
            "0",
            "--print-json",
            "--log-level",
            "INFO",
            stdout=asyncio.subprocess.PIPE,
            stderr=sink,
        )
    assert proc.stdout is not None
    run: DemoRun | None = None
    try:
        async with asyncio.timeout(timeout):
            line = await proc.stdout.readline()
        if not line:
            output = await asyncio.to_thread(log.read_text)
            raise AssertionError(f"the demo ended without its JSON line:\n{output}")
        run = DemoRun(json.loads(line), log)
        yield run
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        try:
            async with asyncio.timeout(30):
                await proc.stdout.read()
                code = await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            output = await asyncio.to_thread(log.read_text)
            raise AssertionError(f"the demo did not stop on Ctrl-C:\n{output[-6000:]}") from None
        if run is not None:
            run.exit_code = code
