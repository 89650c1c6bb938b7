"""``python -m bench.ab REF [NAME ...]``: the same benchmarks on an older commit and on this tree.

Checks a claim such as "the refactoring made nothing slower": ``REF`` (and ``--new REF``, or
else this tree) is checked out into a temporary git worktree, and each benchmark runs
alternately on the old and the new code (``--rounds`` times each, old first), with the same
interpreter on the same machine, so that load drifts hit both sides alike. Each side runs its
own benchmark code (the harness may have grown since ``REF``); only the metrics both sides
report are compared, as the median over rounds.

A metric's direction is read from its name: rates (``per_s``, ``mib_s``) are better higher;
latencies, CPU costs and durations (``_ms``, ``_us``, ``_s``, at the end or before a further
``_…`` such as ``camt_import_s_sqlite``) better lower. ``new_vs_old`` is
always "how much better is new" (> 1: faster, < 1: slower), so one threshold reads every
line. Baseline paths (plain TCP, ssh, snitun, the raw driver) are left out: they measure the
machine, not the change. Each benchmark's line also gives the medians behind the ratios
(``old``, ``new``). The last JSON line holds, per benchmark, the geometric mean and the
worst of those ratios. Each run's own last line goes to stderr as it finishes (with the
baselines and the benchmark's ratios, which the comparison leaves out).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["compare", "direction", "main", "parser"]

_ROOT = Path(__file__).resolve().parent.parent
_HIGHER = ("per_s", "mib_s", "mbit_s")
_LOWER = ("_ms", "_us", "_s")
#: paths that are not our code (plain TCP, ssh, snitun, the driver alone): machine drift only
_BASELINES = ("direct", "ssh", "snitun", "raw")


def direction(name: str) -> int:
    """+1 if a higher value of metric ``name`` is better, -1 if lower is better, 0 if neither."""
    if any(part in name for part in _HIGHER):
        return 1
    if any(f"{unit}_" in name for unit in _LOWER) or name.endswith(_LOWER):
        return -1
    return 0


def compare(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[str, float]:
    """Per common numeric metric with a direction: the median-based "new is better by" ratio."""
    out: dict[str, float] = {}
    for name in sorted(set(old[0]) & set(new[0])):
        sign = direction(name)
        values_old = [m[name] for m in old if _number(m.get(name))]
        values_new = [m[name] for m in new if _number(m.get(name))]
        if any(base in name for base in _BASELINES):
            continue
        if not sign or not values_old or not values_new:
            continue
        a, b = statistics.median(values_old), statistics.median(values_new)
        if a <= 0 or b <= 0:
            continue
        out[name] = b / a if sign > 0 else a / b
    return out


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _commit(ref: str) -> str:
    return subprocess.run(
        ["git", "rev-parse", "--verify", f"{ref}^{{commit}}"],
        cwd=_ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def _run(tree: Path, name: str, smoke: bool) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, "-m", "bench", name, *(["--smoke"] if smoke else [])]
    done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"{name} in {tree} failed (exit {done.returncode}):\n{done.stderr[-2000:]}"
        )
    print(lines[-1], file=sys.stderr, flush=True)  # every run whole, baselines and ratios too
    metrics: dict[str, Any] = json.loads(lines[-1])["metrics"]
    return metrics


def parser() -> argparse.ArgumentParser:
    """The command line: options may stand between the commit and the benchmark names."""
    cli = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    cli.add_argument("ref", help="the older commit (anything git rev-parse accepts)")
    cli.add_argument("names", nargs="*", default=["tunnel", "ingest"])
    cli.add_argument("--new", help="a newer commit to compare instead of this tree")
    cli.add_argument("--rounds", type=int, default=2)
    cli.add_argument("--smoke", action="store_true", help="tiny sizes, to check it runs")
    return cli


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = parser().parse_intermixed_args(argv)
    commits = {"old": _commit(args.ref), "new": _commit(args.new) if args.new else None}
    summary: dict[str, Any] = {side: c[:12] for side, c in commits.items() if c}
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
        trees = {side: Path(tmp) / side if c else _ROOT for side, c in commits.items()}
        for side, commit in commits.items():
            if commit:
                subprocess.run(
                    ["git", "worktree", "add", "--detach", "-q", str(trees[side]), commit],
                    cwd=_ROOT,
                    check=True,
                )
        try:
            for name in args.names:
                runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
                for _ in range(args.rounds):
                    for side in ("old", "new"):
                        runs[side].append(_run(trees[side], name, args.smoke))
                ratios = compare(runs["old"], runs["new"])
                figures = {
                    side: {m: statistics.median(r[m] for r in runs[side]) for m in ratios}
                    for side in ("old", "new")
                }  # the medians behind each ratio, in the metric's own unit
                print(json.dumps({"bench": name, "new_vs_old": ratios, **figures}), flush=True)
                if ratios:
                    summary[name] = {
                        "geomean": math.exp(statistics.fmean(math.log(r) for r in ratios.values())),
                        "worst": min(ratios, key=ratios.__getitem__),
                        "worst_ratio": min(ratios.values()),
                    }
        finally:
            for side, tree in trees.items():
                if commits[side]:
                    subprocess.run(
                        ["git", "worktree", "remove", "--force", str(tree)], cwd=_ROOT, check=False
                    )
    print(json.dumps({"bench": "ab", "ratios": summary}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
