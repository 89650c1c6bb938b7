"""The pure password policy and lockout with literal instants (R-MON-2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloud_gateway.accounts.policy import (
    PasswordPolicy,
    Violation,
    locked_until,
    password_violations,
)
from cloud_gateway.config import AccountsConfig

T0 = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
POLICY = PasswordPolicy()


@pytest.mark.parametrize(
    ("password", "broken"),
    [
        ("Sonnig!2026", ()),
        ("a1!aaaaa", ()),
        ("a1!aaaa", (Violation.TOO_SHORT,)),
        ("12345678!", (Violation.NO_LETTER,)),
        ("abcdefgh!", (Violation.NO_DIGIT,)),
        ("abcdefgh1", (Violation.NO_SPECIAL,)),
        ("abcd efg1", (Violation.NO_SPECIAL,)),  # a space is not on the seed's list
        ("", (Violation.TOO_SHORT, Violation.NO_LETTER, Violation.NO_DIGIT, Violation.NO_SPECIAL)),
    ],
)
def test_composition_rules(password: str, broken: tuple[Violation, ...]) -> None:
    assert password_violations(POLICY, password) == broken


@pytest.mark.parametrize("special", list("!@#$%^&*_-+=;:|./?()[]{}<>"))
def test_every_special_of_the_seed_counts(special: str) -> None:
    assert password_violations(POLICY, f"abcdef1{special}") == ()


def test_values_come_from_configuration() -> None:
    policy = PasswordPolicy.from_config(
        AccountsConfig(password_min_length=12, password_specials="#", password_max_age_days=90)
    )
    assert Violation.TOO_SHORT in password_violations(policy, "Sonnig!2026")
    assert Violation.NO_SPECIAL in password_violations(policy, "Sonnig!2026-long")
    assert policy.expired(T0, T0 + timedelta(days=90))
    with pytest.raises(ValueError, match="below 8"):
        AccountsConfig(password_min_length=6)


def test_expiry_after_365_days_and_minimum_age_of_2_days() -> None:
    assert not POLICY.expired(T0, T0 + timedelta(days=365) - timedelta(seconds=1))
    assert POLICY.expired(T0, T0 + timedelta(days=365))
    assert POLICY.change_allowed_at(T0) == T0 + timedelta(days=2)


def test_five_failures_within_five_minutes_lock_for_fifteen() -> None:
    def lock(failures: list[datetime], now: datetime) -> datetime | None:
        return locked_until(
            failures, now, limit=5, window=timedelta(minutes=5), duration=timedelta(minutes=15)
        )

    four = [T0 + timedelta(minutes=i) for i in range(4)]
    assert lock(four, T0 + timedelta(minutes=4)) is None
    five = [*four, T0 + timedelta(minutes=5)]
    assert lock(five, T0 + timedelta(minutes=5)) == T0 + timedelta(minutes=20)
    assert lock(five, T0 + timedelta(minutes=20)) is None
    spread = [T0 + timedelta(minutes=2 * i) for i in range(5)]  # eight minutes apart
    assert lock(spread, T0 + timedelta(minutes=8)) is None
