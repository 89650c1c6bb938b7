"""The password policy and the login lockout (R-MON-2) as pure functions of their inputs.

Every value comes from :class:`~cloud_gateway.config.AccountsConfig`; the seed's values are the
defaults. No clock, database or hashing here: callers pass instants and candidate hashes' checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cloud_gateway.config import AccountsConfig

__all__ = [
    "PasswordPolicy",
    "Violation",
    "locked_until",
    "password_violations",
]


class Violation(StrEnum):
    """A broken rule of the password policy."""

    TOO_SHORT = "too_short"
    NO_LETTER = "no_letter"
    NO_DIGIT = "no_digit"
    NO_SPECIAL = "no_special"
    REUSED = "reused"
    TOO_RECENT = "too_recent"


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordPolicy:
    """R-MON-2 with its configurable values."""

    min_length: int = 8
    """Fewest characters."""
    specials: str = "!@#$%^&*_-+=;:|./?()[]{}<>"
    """At least one of these is needed."""
    max_age: timedelta = timedelta(days=365)
    """Age at which a password must be changed at the next login."""
    min_age: timedelta = timedelta(days=2)
    """A password cannot be changed again before it is this old."""
    history: int = 8
    """Previous passwords that cannot be reused."""
    lockout_failures: int = 5
    """Failures per account within :attr:`lockout_window` that lock it."""
    lockout_failures_per_address: int = 20
    """Failures per source address within :attr:`lockout_window` that lock the address."""
    lockout_window: timedelta = timedelta(minutes=5)
    """Window in which failures are counted."""
    lockout_duration: timedelta = timedelta(minutes=15)
    """How long a lock lasts after the failure that caused it."""

    @classmethod
    def from_config(cls, config: AccountsConfig) -> PasswordPolicy:
        """The policy the configuration describes."""
        return cls(
            min_length=config.password_min_length,
            specials=config.password_specials,
            max_age=timedelta(days=config.password_max_age_days),
            min_age=timedelta(days=config.password_min_age_days),
            history=config.password_history,
            lockout_failures=config.lockout_failures,
            lockout_failures_per_address=config.lockout_failures_per_address,
            lockout_window=timedelta(minutes=config.lockout_window_minutes),
            lockout_duration=timedelta(minutes=config.lockout_minutes),
        )

    def expired(self, changed_at: datetime, now: datetime) -> bool:
        """Whether a password set at ``changed_at`` must be changed at ``now``."""
        return now - changed_at >= self.max_age

    def change_allowed_at(self, changed_at: datetime) -> datetime:
        """The first instant a password set at ``changed_at`` may be changed by its owner."""
        return changed_at + self.min_age


def password_violations(policy: PasswordPolicy, password: str) -> tuple[Violation, ...]:
    """The composition rules ``password`` breaks (empty when it is acceptable)."""
    broken: list[Violation] = []
    if len(password) < policy.min_length:
        broken.append(Violation.TOO_SHORT)
    if not any(c.isalpha() for c in password):
        broken.append(Violation.NO_LETTER)
    if not any("0" <= c <= "9" for c in password):
        broken.append(Violation.NO_DIGIT)
    if not any(c in policy.specials for c in password):
        broken.append(Violation.NO_SPECIAL)
    return tuple(broken)


def locked_until(
    failures: Iterable[datetime],
    now: datetime,
    *,
    limit: int,
    window: timedelta,
    duration: timedelta,
) -> datetime | None:
    """When a lock caused by ``failures`` ends, or ``None`` if not locked at ``now``.

    ``limit`` failures within ``window`` lock for ``duration`` from the last of them.
    """
    times = sorted(failures)
    until: datetime | None = None
    for i in range(limit - 1, len(times)):
        if times[i] - times[i - limit + 1] <= window:
            candidate = times[i] + duration
            if until is None or candidate > until:
                until = candidate
    return until if until is not None and until > now else None
