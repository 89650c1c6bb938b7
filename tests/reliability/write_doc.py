"""``python -m tests.reliability.write_doc``: ``build/reliability.txt`` → ``docs/reliability.md``.

The table holds the last figure recorded for each name (a rerun replaces an earlier line).
Its header says which sizes made the figures (``RELIABILITY_SIZE``, as the run had it):
``make soak`` writes full-size figures; run by hand after ``make test`` it says "smoke".
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from tests.reliability.report import REPORT, Size, current_size

__all__ = ["main", "parse", "render"]

DOC = REPORT.parents[1] / "docs" / "reliability.md"
_PREFIX = "reliability: "


def parse(lines: list[str]) -> dict[str, tuple[str, str]]:
    """NAME → (FIGURE, pass|fail), the last line of each name winning."""
    figures: dict[str, tuple[str, str]] = {}
    for line in lines:
        if not line.startswith(_PREFIX):
            continue
        name, _, rest = line.removeprefix(_PREFIX).strip().partition(" ")
        figure, _, verdict = rest.rpartition(" ")
        if verdict in {"pass", "fail"}:
            figures[name] = (figure, verdict)
    return figures


def render(figures: dict[str, tuple[str, str]], *, at: datetime, size: Size = Size.FULL) -> str:
    made = (
        "by `make soak` (full sizes)"
        if size is Size.FULL
        else "from a smoke run (the bounded sizes of `make test`, not the full soak)"
    )
    rows = [
        "# Reliability figures",
        "",
        (
            f"Written {made} on {at:%Y-%m-%d %H:%M} UTC from "
            "`build/reliability.txt`; see `tests/reliability/` for what each test does."
        ),
        "",
        "| test | figure | result |",
        "|---|---|---|",
    ]
    rows += [
        f"| {name} | {figure.replace('|', '/')} | {verdict} |"
        for name, (figure, verdict) in sorted(figures.items())
    ]
    return "\n".join(rows) + "\n"


def main(report: Path = REPORT, doc: Path = DOC) -> int:
    if not report.exists():
        print(f"{report}: no figures recorded", file=sys.stderr)
        return 1
    figures = parse(report.read_text(encoding="utf-8").splitlines())
    text = render(figures, at=datetime.now(UTC), size=current_size())
    doc.write_text(text, encoding="utf-8")
    print(f"{doc}: {len(figures)} figures")
    return 0 if all(v == "pass" for _f, v in figures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
