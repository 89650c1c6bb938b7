"""``python -m tests.reliability.crashing_agent POINT N <inverter-agent arguments>``.

The real agent (:func:`inverter_agent.cli.main`) with a crash hook installed
(:mod:`inverter_agent.crashpoints`): at the ``N``-th passage of ``POINT`` it prints
``crash point POINT #N`` and SIGKILLs itself (no clean-up, no flush, like a power cut seen by
the process).
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from inverter_agent import crashpoints
from inverter_agent.cli import main as agent_main
from inverter_agent.crashpoints import CrashPoint

__all__ = ["kill_at"]


def kill_at(point: CrashPoint, nth: int) -> None:
    """Install a hook that kills this process at the ``nth`` passage of ``point``."""
    lock = threading.Lock()  # append/delete pass on the outbox thread, send/ack on the loop
    passages = 0

    def hook(reached: CrashPoint) -> None:
        nonlocal passages
        if reached is not point:
            return
        with lock:
            passages += 1
            if passages < nth:
                return
        print(f"crash point {point} #{nth}", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    crashpoints.install(hook)


if __name__ == "__main__":
    kill_at(CrashPoint(sys.argv[1]), int(sys.argv[2]))
    sys.exit(agent_main(sys.argv[3:]))
