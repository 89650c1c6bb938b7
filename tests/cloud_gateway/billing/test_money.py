"""Euros as staff type them in the console's forms, in integer cents."""

from __future__ import annotations

import pytest

from cloud_gateway.billing.money import typed_cents


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("29,75", 2975), ("29.75", 2975), (" 1234.5 ", 123450), ("0", 0), ("7", 700)],
)
def test_amounts_as_typed(typed: str, cents: int) -> None:
    assert typed_cents(typed) == cents


@pytest.mark.parametrize("typed", ["", "abc", "12,345", "-1", "NaN", "Infinity", "1e400"])
def test_not_amounts(typed: str) -> None:
    assert typed_cents(typed) is None
