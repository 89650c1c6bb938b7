"""``inverter-agent run --config FILE`` runs until SIGTERM and stops cleanly."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

TIMEOUT = 30.0


async def test_run_until_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(f'state_dir = "{tmp_path / "state"}"\n[gateway]\nenabled = false\n')
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "inverter_agent.cli",
        "run",
        "--config",
        str(config),
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        async with asyncio.timeout(TIMEOUT):
            while b"inverter-agent running" not in await process.stderr.readline():
                pass
            process.send_signal(signal.SIGTERM)
            rest = (await process.stderr.read()).decode()
            code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert code == 0, rest
    assert "inverter-agent stopped" in rest
    assert "Traceback" not in rest
    assert (tmp_path / "state" / "outbox.sqlite3").is_file()
