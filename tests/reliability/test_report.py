"""The suite's frame: the figure line, the sizes, the table ``make soak`` writes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.reliability import report
from tests.reliability.write_doc import Row, main, merge, parse, parse_table, render


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
    rows = merge({}, figures, size=report.Size.FULL, day=date(2026, 12, 5))
    text = render(rows, at=datetime(2026, 12, 5, tzinfo=UTC))
    assert "| a | 2 kills | full | 2026-12-05 | pass |" in text
    assert "| b | 2 s / 3 | full | 2026-12-05 | fail |" in text
    assert "every row at full size" in text


def test_a_partial_run_replaces_its_rows_and_keeps_the_others() -> None:
    earlier = merge(
        {},
        {"storm": ("300 devices", "pass"), "fuzz": ("1000000 executions", "pass")},
        size=report.Size.FULL,
        day=date(2026, 12, 4),
    )
    earlier = merge(
        earlier, {"storm": ("300 devices", "pass")}, size=report.Size.SMOKE, day=date(2026, 12, 5)
    )
    page = render(earlier, at=datetime(2026, 12, 5, tzinfo=UTC))
    assert parse_table(page) == earlier
    assert "sizes mixed" in page
    # one test rerun at full size: its row changes, the fuzz row stays as it was
    now = merge(
        parse_table(page),
        {"storm": ("10000 devices", "fail")},
        size=report.Size.FULL,
        day=date(2026, 12, 6),
    )
    assert now == {
        "fuzz": Row("1000000 executions", "pass", report.Size.FULL, date(2026, 12, 4)),
        "storm": Row("10000 devices", "fail", report.Size.FULL, date(2026, 12, 6)),
    }


def test_main_merges_into_the_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = tmp_path / "reliability.md"
    doc.write_text(
        render(
            {"kept": Row("old", "pass", report.Size.SMOKE, date(2026, 12, 1))},
            at=datetime(2026, 12, 1, tzinfo=UTC),
            notes="## Notes\n\nBy hand.\n",
        )
    )
    figures = tmp_path / "reliability.txt"
    figures.write_text("reliability: new 5 s pass\n")
    monkeypatch.setenv(report.SIZE_VARIABLE, "full")
    assert main(figures, doc) == 0
    rows = parse_table(doc.read_text())
    assert rows["kept"] == Row("old", "pass", report.Size.SMOKE, date(2026, 12, 1))
    assert (rows["new"].figure, rows["new"].size) == ("5 s", report.Size.FULL)
    assert doc.read_text().endswith("|\n\n## Notes\n\nBy hand.\n")  # kept as written
