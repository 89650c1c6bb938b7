"""Test 8, parsers under fuzzing: the regression corpus replayed, then a short atheris run each.

Every file in ``tests/reliability/corpus/TARGET/`` (seeds, and every input that once made a
target raise a foreign error) is fed to its target: only the component's own errors may come
out. Then each target is fuzzed (coverage-guided, atheris) for a few seconds in its own process
(``make fuzz``: 1,000,000 executions each); a finding is saved in the corpus and fails the test,
and from then on it is replayed here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.fuzz.runner import CORPUS, SMOKE_SECONDS, run_target
from tests.reliability.fuzz.targets import TARGETS, run_one

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def _known() -> dict[str, str]:
    known: dict[str, str] = {}
    for line in (CORPUS / "KNOWN").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            case, _, why = line.partition(" ")
            known[case] = why.strip()
    return known


def _cases() -> list[object]:
    known = _known()
    cases: list[object] = []
    for name in sorted(TARGETS):
        for path in sorted((CORPUS / name).glob("*")):
            case = f"{name}/{path.name}"
            marks = [pytest.mark.xfail(strict=True, reason=known[case])] if case in known else []
            cases.append(pytest.param(name, path, id=case, marks=marks))
    return cases


def test_every_target_has_seeds() -> None:
    for name in TARGETS:
        assert list((CORPUS / name).glob("seed-*")), name


@pytest.mark.parametrize(("name", "path"), _cases())
def test_corpus_replays_without_foreign_errors(name: str, path: Path) -> None:
    run_one(TARGETS[name], path.read_bytes(), strict=True)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_short_fuzzing_finds_nothing(name: str) -> None:
    run = run_target(name, runs=None, seconds=SMOKE_SECONDS)
    assert run.executions > 0, run.output[-2000:]
    assert run.ok, f"finding saved under {CORPUS / name}:\n{run.output[-4000:]}"
