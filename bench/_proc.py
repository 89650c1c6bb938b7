"""Start benchmark node processes and read the JSON lines they print."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["Node", "node"]


class Node:
    """A child process running ``python -m bench._nodes ROLE ...`` (or another module)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc

    @property
    def pid(self) -> int:
        return self.proc.pid

    def event(self) -> dict[str, Any]:
        """The next JSON line from the node's stdout; RuntimeError if the node ended."""
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            raise RuntimeError(f"bench node {self.proc.args!r} ended (exit {code})")
        event: dict[str, Any] = json.loads(line)
        return event

    def send(self, message: dict[str, Any]) -> None:
        """One JSON command line to the node's stdin."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def stop(self, timeout: float = 20.0) -> None:
        """Close stdin (the node's cue to end), then wait; kill it if it hangs."""
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextlib.contextmanager
def node(module: str, *args: str, extra: Sequence[str] = ()) -> Iterator[Node]:
    """Run ``python -m module args`` with pipes; stopped on exit."""
    proc = subprocess.Popen(
        [sys.executable, *extra, "-m", module, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    child = Node(proc)
    try:
        yield child
    finally:
        child.stop()
