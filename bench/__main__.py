"""``python -m bench [NAME ...]``: run benchmarks; each prints its JSON result last."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["BENCHMARKS", "main"]

#: benchmark name -> module under ``bench`` with ``run(smoke: bool) -> dict``
BENCHMARKS: dict[str, str] = {
    "config": "bench.config_load",
    "modbus": "bench.modbus",
    "ingest": "bench.ingest",
    "tunnel": "bench.tunnel",
    "tunnel-scale": "bench.tunnel_scale",
    "tunnel-wan": "bench.tunnel_wan",
    "tunnel-wan-gap": "bench.wan_gap",
    "addon": "bench.addon",
    "alerts": "bench.alerts",
    "billing": "bench.billing",
    "cluster": "bench.cluster",
    "handshake": "bench.handshake",
    "shop": "bench.shop",
    "storm-backoff": "bench.storm_backoff",
}


def run_one(name: str, *, smoke: bool, **options: str) -> dict[str, Any]:
    """Run benchmark ``name`` (with its own ``options``, if any) and return its result."""
    module = importlib.import_module(BENCHMARKS[name])
    runner: Callable[..., dict[str, Any]] = module.run
    result = runner(smoke=smoke, **options)
    return {"bench": name, "metrics": result["metrics"], "ratios": result["ratios"]}


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run: {', '.join(BENCHMARKS)}")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check it runs")
    parser.add_argument("--all", action="store_true", help="run every benchmark")
    parser.add_argument(
        "--arch", help="addon only: the architecture archive on a bare hub root (armhf, x86-64)"
    )
    args = parser.parse_args(argv)
    names = list(BENCHMARKS) if args.all or not args.names else args.names
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    if args.arch is not None and names != ["addon"]:
        parser.error("--arch is an option of the addon benchmark alone")
    options = {"arch": args.arch} if args.arch is not None else {}
    for name in names:
        print(json.dumps(run_one(name, smoke=args.smoke, **options)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
