"""Product CLIs as real child processes: output read line by line, SIGKILL, clean shutdown.

::

    async with ChildProcess("agent", "inverter_agent.cli", "run", "--config", str(toml)) as agent:
        await agent.wait_for("inverter-agent running", timeout=20)
        agent.kill()                       # SIGKILL: no clean-up runs in the child
        await agent.wait()

stdout and stderr are drained all the time (a full pipe would stall the child) into
:attr:`ChildProcess.lines`, which a failing test prints. :meth:`ChildProcess.close` (also on
leaving the ``async with``) kills the child if it still runs, waits for it and for both pipes,
so no transport is left open. :meth:`ChildProcess.start` may be called again after the child
ended: one object stands for a program that is restarted.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from types import TracebackType
from typing import Self

__all__ = ["ChildProcess"]


class ChildProcess:
    """``python -m <module> <args>`` run (and restarted) as a child process."""

    def __init__(self, name: str, module: str, *args: str) -> None:
        self.name = name
        self.argv = [sys.executable, "-m", module, *args]
        self.lines: list[str] = []
        """Everything the child (and its earlier runs) wrote, ``stdout``/``stderr`` mixed."""
        self.starts = 0
        self._process: asyncio.subprocess.Process | None = None
        self._readers: list[asyncio.Task[None]] = []
        self._new_line = asyncio.Event()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError(f"{self.name} was never started")
        return self._process.pid

    async def start(self) -> None:
        if self.running:
            raise RuntimeError(f"{self.name} is running")
        await self.close()
        self.starts += 1
        self.lines.append(f"--- {self.name} start #{self.starts}: {' '.join(self.argv)}")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        self._process = process
        assert process.stdout is not None
        assert process.stderr is not None
        self._readers = [
            asyncio.create_task(self._read(process.stdout), name=f"{self.name} stdout"),
            asyncio.create_task(self._read(process.stderr), name=f"{self.name} stderr"),
        ]

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def mark(self) -> int:
        """The current end of :attr:`lines`, for :meth:`wait_for` ``after=``."""
        return len(self.lines)

    async def wait_for(self, pattern: str, *, timeout: float, after: int = 0) -> re.Match[str]:
        """The first line from index ``after`` on that matches ``pattern`` (waits, bounded)."""
        regex = re.compile(pattern)
        index = after
        async with asyncio.timeout(timeout):
            while True:
                while index < len(self.lines):
                    if match := regex.search(self.lines[index]):
                        return match
                    index += 1
                if not self.running and all(r.done() for r in self._readers):
                    raise AssertionError(f"{self.name} ended before printing {pattern!r}")
                self._new_line.clear()
                await self._new_line.wait()

    def kill(self) -> None:
        """SIGKILL, now (the child gets no chance to clean up)."""
        if self.running:
            assert self._process is not None
            self._process.send_signal(signal.SIGKILL)

    async def wait(self) -> int:
        """Wait for the child to end and its output to be read; its exit code."""
        if self._process is None:
            raise RuntimeError(f"{self.name} was never started")
        code = await self._process.wait()
        await asyncio.gather(*self._readers)
        return code

    async def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait (bounded); SIGKILL when it does not end in time."""
        if self.running:
            assert self._process is not None
            self._process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(timeout):
                    return await self.wait()
            except TimeoutError:
                self.kill()
        return await self.wait()

    async def close(self) -> None:
        """Make sure the child is gone and its pipes are read to the end."""
        if self._process is None:
            return
        self.kill()
        await self.wait()
        self._process = None
        self._readers = []

    def output(self, last: int = 200) -> str:
        """The last ``last`` lines, for assertion messages."""
        return "\n".join(self.lines[-last:])

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self.lines.append(line.decode(errors="replace").rstrip("\n"))
            self._new_line.set()
        self._new_line.set()
