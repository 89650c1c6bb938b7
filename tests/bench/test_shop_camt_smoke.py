"""The camt.053 import bench in smoke size: every credit matched on both backends."""

from __future__ import annotations

import pytest

from bench._shop_camt import camt_import_seconds


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def test_camt_import_bench_matches_every_credit(backend: str) -> None:
    # the bench raises unless every one of the 60 credits settled its pro-forma
    assert camt_import_seconds(backend, 60) > 0
