"""Staff second factor: enrolment, verification, recovery codes, rate limit (ADR 0021).

Operators and accountants log in with their password like everybody, then pass this step
before any console page or operator API answers. Wrong codes count as login failures of
the subject ``totp:<account id>``; after :data:`MAX_FAILURES` within :data:`LOCKOUT` the
step refuses every code, right ones included, until the window has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from cloud_gateway.accounts.model import Account
from cloud_gateway.accounts.repository_security import AccountSecurityRepository
from cloud_gateway.errors import StateError
from cloud_gateway.operator.repository import SecondFactorRepository, TotpState
from cloud_gateway.operator.totp import (
    RECOVERY_CODE_LENGTH,
    hash_recovery_code,
    matching_step,
    new_recovery_codes,
    new_secret,
    normalise_code,
    provisioning_uri,
)
from cloud_gateway.store import Store
from tunnel.clock import Clock

__all__ = ["LOCKOUT", "MAX_FAILURES", "Enrolment", "SecondFactor", "Verdict"]

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)


class Verdict(StrEnum):
    """The answer to a typed code."""

    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class Enrolment:
    """An enrolment in progress: the secret and what the QR code holds."""

    secret: str
    uri: str


class SecondFactor:
    """The second factor of staff accounts over the store, on the injected clock."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def _repo(self) -> SecondFactorRepository:
        return self._store.repo(SecondFactorRepository)

    async def state(self, account: Account) -> TotpState | None:
        """The account's TOTP state."""
        return await self._repo().state(account.id)

    async def enrolment(self, account: Account) -> Enrolment:
        """The unconfirmed secret to show (a new one if there is none yet); a confirmed
        secret is never shown again."""
        state = await self._repo().state(account.id)
        if state is not None and state.confirmed_at is not None:
            raise StateError(f"account {account.id} is enrolled already")
        if state is None:
            secret = new_secret()
            await self._repo().begin(account.id, secret, self._clock.now())
        else:
            secret = state.secret
        return Enrolment(secret, provisioning_uri(secret, account.username))

    async def _locked(self, account: Account) -> bool:
        since = self._clock.now() - LOCKOUT
        failures = await self._store.repo(AccountSecurityRepository).failures_since(
            f"totp:{account.id}", since
        )
        return len(failures) >= MAX_FAILURES

    async def _failed(self, account: Account) -> Verdict:
        await self._store.repo(AccountSecurityRepository).record_failures(
            [f"totp:{account.id}"], self._clock.now()
        )
        return Verdict.WRONG

    async def confirm(self, account: Account, code: str) -> tuple[Verdict, list[str]]:
        """Confirm enrolment with the first code; the recovery codes to show once."""
        if await self._locked(account):
            return Verdict.LOCKED, []
        state = await self._repo().state(account.id)
        if state is None or state.confirmed_at is not None:
            return await self._failed(account), []
        now = self._clock.now()
        step = matching_step(state.secret, code, now, state.last_step)
        if step is None:
            return await self._failed(account), []
        codes = new_recovery_codes()
        if not await self._repo().confirm(
            account.id, step, now, [hash_recovery_code(c) for c in codes]
        ):
            return await self._failed(account), []
        return Verdict.OK, codes

    async def verify(self, account: Account, code: str) -> Verdict:
        """Check a TOTP code or a recovery code (each works once)."""
        if await self._locked(account):
            return Verdict.LOCKED
        state = await self._repo().state(account.id)
        if state is None or state.confirmed_at is None:
            return await self._failed(account)
        now = self._clock.now()
        typed = normalise_code(code)
        if len(typed) == RECOVERY_CODE_LENGTH:
            if await self._repo().use_recovery_code(account.id, hash_recovery_code(typed), now):
                return Verdict.OK
            return await self._failed(account)
        step = matching_step(state.secret, typed, now, state.last_step)
        if step is None or not await self._repo().use_step(account.id, step):
            return await self._failed(account)
        return Verdict.OK
