"""``python -m bench._cpu_profile OUT -m MODULE [ARGS...]``: run ``python -m MODULE ARGS`` under
cProfile counting the CPU time of the main thread (``time.thread_time``), not wall time.

With wall time (``python -m cProfile``) a loaded machine charges every descheduled moment to
whatever call was running (a socket ``send`` to PostgreSQL looked like a quarter of a gateway's
time); with thread CPU time the profile adds up to what the event loop spent. Stats go to
``OUT`` when the module returns or raises ``SystemExit`` (a SIGTERMed gateway does).
"""

from __future__ import annotations

import cProfile
import runpy
import sys
import time


def main(argv: list[str]) -> None:
    out, flag, module, *args = argv
    if flag != "-m":
        raise SystemExit("usage: python -m bench._cpu_profile OUT -m MODULE [ARGS...]")
    sys.argv = [module, *args]
    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        profiler.disable()
        profiler.dump_stats(out)


if __name__ == "__main__":
    main(sys.argv[1:])
