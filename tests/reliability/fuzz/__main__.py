"""``python -m tests.reliability.fuzz NAME [--runs N | --seconds S]`` or ``--all``.

Runs one target under atheris in this process, or (``--all``) every target in its own process
with one figure each (:mod:`tests.reliability.fuzz.runner`). Without ``--runs``/``--seconds``
the size follows ``RELIABILITY_SIZE``: 1,000,000 executions per target in full, 3 seconds in
smoke.
"""

from __future__ import annotations

import argparse
import sys

from tests.reliability.fuzz.runner import FULL_RUNS, SMOKE_SECONDS, fuzz, run_all
from tests.reliability.report import pick


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.fuzz")
    parser.add_argument("name", nargs="?", help="one target (default: --all)")
    parser.add_argument("--all", action="store_true", help="every target, one process each")
    parser.add_argument("--runs", type=int, help="executions per target")
    parser.add_argument("--seconds", type=int, help="seconds per target")
    args = parser.parse_args()
    runs, seconds = args.runs, args.seconds
    if runs is None and seconds is None:
        runs, seconds = pick(None, FULL_RUNS), pick(SMOKE_SECONDS, None)
    if args.all or args.name is None:
        from tests.reliability.fuzz.targets import TARGETS  # noqa: PLC0415

        return run_all(list(TARGETS), runs=runs, seconds=seconds)
    fuzz(args.name, runs=runs, seconds=seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
