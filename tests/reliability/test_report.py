"""The suite's frame: the figure line, the sizes, the table ``make soak`` writes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.reliability import report
from tests.reliability.write_doc import parse, render


def test_size_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(report.SIZE_VARIABLE, raising=False)
    assert report.current_size() is report.Size.SMOKE
    assert report.pick(3, 300) == 3
    monkeypatch.setenv(report.SIZE_VARIABLE, "full")
    assert report.pick(3, 300) == 300


def test_record_appends_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "build" / "reliability.txt"
    monkeypatch.setattr(report, "REPORT", target)
    line = report.record("outbox_crash", "24 kills,  0 lost", passed=True)
    report.record("other", "1 s", passed=False)
    assert line == "reliability: outbox_crash 24 kills, 0 lost pass"
    assert target.read_text().splitlines() == [line, "reliability: other 1 s fail"]
    assert line in capsys.readouterr().out
    with pytest.raises(ValueError, match="one word"):
        report.record("two words", "x", passed=True)


def test_table_keeps_the_last_figure_per_name() -> None:
    figures = parse(
        [
            "reliability: a 1 kill pass",
            "noise",
            "reliability: b 2 s | 3 fail",
            "reliability: a 2 kills pass",
        ]
    )
    assert figures == {"a": ("2 kills", "pass"), "b": ("2 s | 3", "fail")}
    text = render(figures, at=datetime(2026, 12, 5, tzinfo=UTC))
    assert "| a | 2 kills | pass |" in text
    assert "| b | 2 s / 3 | fail |" in text
    assert "`make soak` (full sizes)" in text
    smoke = render(figures, at=datetime(2026, 12, 5, tzinfo=UTC), size=report.Size.SMOKE)
    assert "from a smoke run" in smoke
    assert "full sizes" not in smoke
