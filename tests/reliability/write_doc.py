"""``python -m tests.reliability.write_doc``: ``build/reliability.txt`` → ``docs/reliability.md``.

The figures of this run (the last line recorded for each name: a rerun replaces an earlier
line) are merged into the table the page already holds: a test run now replaces its row, a
test not run keeps the row of its earlier run. So every row says which size made it
(``RELIABILITY_SIZE`` as its run had it: ``full`` from ``make soak`` or ``make fuzz``,
``smoke`` from the bounded sizes of ``make test``) and on which day, and a partial run (one
test at full size, say) cannot pass for a whole soak or wipe the rows it did not touch.
A section ``## Notes`` below the table is written by hand and kept as it is.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from tests.reliability.report import REPORT, Size, current_size

__all__ = ["Row", "main", "merge", "notes_of", "parse", "parse_table", "render"]

DOC = REPORT.parents[1] / "docs" / "reliability.md"
_PREFIX = "reliability: "
_HEADER = "| test | figure | size | run | result |"
_NOTES = "## Notes"


@dataclass(frozen=True, slots=True)
class Row:
    """One test's figure on the page: what it measured, at which size, on which day."""

    figure: str
    verdict: str
    size: Size
    day: date


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


def parse_table(text: str) -> dict[str, Row]:
    """The rows of a page :func:`render` wrote (figures carry ``/`` for ``|``)."""
    rows: dict[str, Row] = {}
    lines = text.splitlines()
    if _HEADER not in lines:
        return rows
    for line in lines[lines.index(_HEADER) + 2 :]:
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if len(cells) != 5:
            break
        name, figure, size, day, verdict = cells
        rows[name] = Row(figure, verdict, Size(size), date.fromisoformat(day))
    return rows


def merge(
    old: dict[str, Row], figures: dict[str, tuple[str, str]], *, size: Size, day: date
) -> dict[str, Row]:
    """``old`` with the rows of this run (``figures``, at ``size`` on ``day``) replacing theirs."""
    merged = dict(old)
    for name, (figure, verdict) in figures.items():
        merged[name] = Row(figure.replace("|", "/"), verdict, size, day)
    return merged


def notes_of(text: str) -> str:
    """The hand-written ``## Notes`` section of a page (from its heading on), or ""."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.rstrip() == _NOTES]
    return "".join(lines[starts[0] :]) if starts else ""


def render(rows: dict[str, Row], *, at: datetime, notes: str = "") -> str:
    sizes = {row.size for row in rows.values()}
    made = {
        frozenset({Size.FULL}): "every row at full size",
        frozenset({Size.SMOKE}): "every row at smoke size (the bounded sizes of `make test`)",
    }.get(frozenset(sizes), "sizes mixed, as the column `size` says of each row")
    text = [
        "# Reliability figures",
        "",
        (
            f"Written on {at:%Y-%m-%d %H:%M} UTC by `python -m tests.reliability.write_doc` "
            f"({made}). Each run's figures (`build/reliability.txt`) replace the rows of the "
            "tests it ran; a test not run keeps the row of its earlier run. `size`: `full` is "
            "`RELIABILITY_SIZE=full` (`make soak`, `make fuzz`), `smoke` the bounded sizes of "
            "`make test`; `run`: the day of the row's run. See `tests/reliability/` for what "
            "each test does."
        ),
        "",
        _HEADER,
        "|---|---|---|---|---|",
    ]
    text += [
        f"| {name} | {row.figure} | {row.size.value} | {row.day.isoformat()} | {row.verdict} |"
        for name, row in sorted(rows.items())
    ]
    return "\n".join(text) + "\n" + ("\n" + notes if notes else "")


def main(report: Path = REPORT, doc: Path = DOC) -> int:
    if not report.exists():
        print(f"{report}: no figures recorded", file=sys.stderr)
        return 1
    figures = parse(report.read_text(encoding="utf-8").splitlines())
    now = datetime.now(UTC)
    page = doc.read_text(encoding="utf-8") if doc.exists() else ""
    rows = merge(parse_table(page), figures, size=current_size(), day=now.date())
    doc.write_text(render(rows, at=now, notes=notes_of(page)), encoding="utf-8")
    print(f"{doc}: {len(figures)} figures of this run, {len(rows)} rows")
    return 0 if all(v == "pass" for _f, v in figures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
