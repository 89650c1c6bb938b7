"""The suite's figures and sizes.

Every reliability test ends by calling :func:`record`, which appends one line
``reliability: NAME FIGURE pass|fail`` to ``build/reliability.txt`` and prints it; ``make
soak`` turns that file into ``docs/reliability.md`` (:mod:`tests.reliability.write_doc`).

Sizes: ``RELIABILITY_SIZE=full`` (set by ``make soak`` and ``make fuzz``) selects the full
sizes, anything else the smoke sizes that ``make test`` runs. :func:`pick` chooses between the
two at the place a test needs a number.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

__all__ = ["REPORT", "SIZE_VARIABLE", "Size", "current_size", "pick", "record"]

SIZE_VARIABLE = "RELIABILITY_SIZE"
"""The environment switch between the smoke and the full sizes."""

REPORT = Path(__file__).resolve().parents[2] / "build" / "reliability.txt"
"""Where the figures of a run are appended."""

T = TypeVar("T")


class Size(StrEnum):
    """How big the suite's runs are."""

    SMOKE = "smoke"
    FULL = "full"


def current_size() -> Size:
    """The size this run was asked for (smoke unless the switch says ``full``)."""
    return Size.FULL if os.environ.get(SIZE_VARIABLE) == Size.FULL.value else Size.SMOKE


def pick(smoke: T, full: T) -> T:
    """``smoke`` or ``full``, by the size of this run."""
    return full if current_size() is Size.FULL else smoke


def record(name: str, figure: str, *, passed: bool) -> str:
    """Append ``reliability: NAME FIGURE pass|fail`` to :data:`REPORT`, print it, return it."""
    if not name or any(c.isspace() for c in name):
        raise ValueError(f"a figure's name is one word: {name!r}")
    figure = " ".join(figure.split())
    line = f"reliability: {name} {figure} {'pass' if passed else 'fail'}"
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    with REPORT.open("a", encoding="utf-8") as out:
        out.write(line + "\n")
    print(line)
    return line
