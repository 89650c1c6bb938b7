"""Account flows: registration with e-mail validation, login with lockout, password reset
and change under the password policy (R-MON-1, R-MON-2, R-CCU-1, R-POR-1).

Each flow commits its change together with the mail it causes (outbox). Login failures are
counted per account (or per unknown login name, so a lock never tells whether an account
exists) and per source address.

Enumeration (issue 20 item 6): registration hashes the submitted password before it looks
at the address, so a known address costs the same argon2 work as a new one, and answers the
same; "Passwort vergessen" answers at once and does its work (look-up, link, mail) in a
task of its own, the same path for known and unknown logins. Mails these flows send are
limited per address (``mails_per_address_per_hour``), registrations and reset requests per
source address (``requests_per_source_per_hour``); the counts share the login-failure table
under their own subjects.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.accounts.model import Account
from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.accounts.policy import (
    PasswordPolicy,
    Violation,
    locked_until,
    password_violations,
)
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.accounts.repository_security import (
    AccountSecurityRepository,
    LinkPurpose,
    SecurityState,
)
from cloud_gateway.accounts.repository_sessions import SessionRepository
from cloud_gateway.config import AccountsConfig
from cloud_gateway.errors import AccountRateLimitedError, LinkError, PasswordPolicyError
from cloud_gateway.i18n import Language
from cloud_gateway.localdays import BERLIN
from cloud_gateway.notify.mail import Mail, MailKind
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.store import Store
from tunnel.clock import Clock

__all__ = ["AccountService", "LoginOutcome", "LoginResult"]

_LOGGER = logging.getLogger(__name__)
_HOUR = timedelta(hours=1)
_USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


class LoginOutcome(StrEnum):
    """What a login attempt led to."""

    OK = "ok"
    PASSWORD_EXPIRED = "password_expired"  # noqa: S105 - an outcome name
    FAILED = "failed"
    LOCKED = "locked"
    UNVERIFIED = "unverified"


@dataclass(frozen=True, slots=True)
class LoginResult:
    """Outcome and, when the password was right, the account."""

    outcome: LoginOutcome
    account: Account | None = None


def _language(code: str) -> Language:
    return Language(code) if code in {x.value for x in Language} else Language.DE


def _when(at: datetime) -> str:
    return at.astimezone(BERLIN).strftime("%d.%m.%Y %H:%M")


class RegistrationStep(Protocol):
    """Work another area does for a new account, inside the registration's transaction.

    Passed to :class:`AccountService` by the composition root (the hub trial of the
    entitlements area is one), so accounts depends on no area above it.
    """

    async def __call__(self, conn: AsyncConnection, account: Account, now: datetime) -> None:
        """Do the step on ``conn``; an exception rolls the registration back."""
        ...


class AccountService:
    """Registration, validation, login, reset and change of passwords."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        hasher: PasswordHasher,
        outbox: Outbox,
        config: AccountsConfig | None = None,
        *,
        registration_steps: Sequence[RegistrationStep] = (),
    ) -> None:
        self._store = store
        self._clock = clock
        self._hasher = hasher
        self._outbox = outbox
        self._config = config or AccountsConfig()
        self.policy = PasswordPolicy.from_config(self._config)
        self._registration_steps = tuple(registration_steps)
        self._dummy_hash = hasher.hash("not-a-real-password-0!")
        self._resets: set[asyncio.Task[None]] = set()
        self._counting = asyncio.Lock()

    async def _counted(self, subject: str, limit: int, now: datetime) -> bool:
        """Count one more event of ``subject`` unless it had ``limit`` within the hour.

        Look and count under one lock: concurrent requests (reset tasks) cannot all pass.
        """
        repo = self._store.repo(AccountSecurityRepository)
        async with self._counting:
            if len(await repo.failures_since(subject, now - _HOUR)) >= limit:
                return False
            await repo.record_failures([subject], now)
        return True

    # -- registration ----------------------------------------------------------------------

    @staticmethod
    def username_problem(username: str) -> str | None:
        """Why a chosen user name is not acceptable (None when it is)."""
        if not 3 <= len(username) <= 64:
            return "length"
        if not set(username) <= _USERNAME_CHARS or "@" in username:
            return "characters"
        return None

    async def register(
        self,
        *,
        username: str,
        email: str,
        password: str,
        language: Language,
        base_url: str,
        source_address: str = "",
    ) -> Account | None:
        """Create an account (not yet validated) and mail the validation link.

        Terms and privacy policy in their current versions are recorded as accepted; the
        form must have required both checkboxes. An e-mail address that is registered
        already gets a hint mail instead, and ``None`` returns, so the form answers the same
        either way (the password is hashed either way, and the hint goes out at most
        ``mails_per_address_per_hour`` times). A taken user name raises
        :class:`~cloud_gateway.errors.ConflictError`; past ``requests_per_source_per_hour``
        registrations from ``source_address``, :class:`AccountRateLimitedError`.
        """
        violations = password_violations(self.policy, password)
        if violations:
            raise PasswordPolicyError(tuple(v.value for v in violations))
        now = self._clock.now()
        if source_address and not await self._counted(
            f"register-source:{source_address}", self._config.requests_per_source_per_hour, now
        ):
            raise AccountRateLimitedError(f"too many registrations from {source_address}")
        password_hash = self._hasher.hash(password)  # known address or not: the same work
        existing = await self._store.repo(AccountRepository).find_by_login(email)
        if existing is not None and existing.email == email.lower():
            if await self._counted(
                f"mail:{existing.email}", self._config.mails_per_address_per_hour, now
            ):
                async with self._store.database.begin() as conn:
                    mail = Mail(
                        to=existing.email,
                        kind=MailKind.ALREADY_REGISTERED,
                        language=language,
                        params={"link": f"{base_url}password/forgot"},
                    )
                    await self._outbox.put(conn, mail, now=now)
                self._outbox.wake()
            return None
        documents = await self._store.repo(AccountSecurityRepository).current_documents()
        async with self._store.database.begin() as conn:
            account = await self._store.repo(AccountSecurityRepository).create_account(
                conn,
                username=username,
                email=email,
                password_hash=password_hash,
                now=now,
                language=language.value,
            )
            await self._store.repo(AccountSecurityRepository).accept(
                conn, account.id, documents, now
            )
            for step in self._registration_steps:
                await step(conn, account, now)
            expires = now + timedelta(hours=self._config.validation_link_hours)
            token = await self._store.repo(AccountSecurityRepository).create_link(
                conn, account.id, LinkPurpose.VALIDATE_EMAIL, now, expires
            )
            mail = Mail(
                to=account.email,
                kind=MailKind.VALIDATE_EMAIL,
                language=language,
                params={
                    "username": account.username,
                    "link": f"{base_url}register/confirm?token={token}",
                    "expires": _when(expires),
                },
            )
            await self._outbox.put(conn, mail, now=now)
        self._outbox.wake()
        return account

    async def confirm_email(self, token: str) -> Account:
        """Spend a validation link; the account may log in from now on."""
        now = self._clock.now()
        async with self._store.database.begin() as conn:
            account_id = await self._store.repo(AccountSecurityRepository).use_link(
                conn, token, LinkPurpose.VALIDATE_EMAIL, now
            )
            await self._store.repo(AccountSecurityRepository).mark_verified(conn, account_id, now)
        return await self._store.repo(AccountRepository).get(account_id)

    # -- login -----------------------------------------------------------------------------

    async def _locked(self, subject: str, limit: int, now: datetime) -> bool:
        since = now - self.policy.lockout_window - self.policy.lockout_duration
        failures = await self._store.repo(AccountSecurityRepository).failures_since(subject, since)
        return (
            locked_until(
                failures,
                now,
                limit=limit,
                window=self.policy.lockout_window,
                duration=self.policy.lockout_duration,
            )
            is not None
        )

    async def authenticate(self, login: str, password: str, source: str) -> LoginResult:
        """Check a login by user name or e-mail address, honouring lockouts."""
        now = self._clock.now()
        account = await self._store.repo(AccountRepository).find_by_login(login) if login else None
        subject = f"account:{account.id}" if account else f"login:{login.strip().lower()}"
        address = f"address:{source}"
        if await self._locked(subject, self.policy.lockout_failures, now) or await self._locked(
            address, self.policy.lockout_failures_per_address, now
        ):
            return LoginResult(LoginOutcome.LOCKED)
        stored = account.password_hash if account else self._dummy_hash
        matches = self._hasher.verify(stored, password)
        if account is None or not matches:
            await self._store.repo(AccountSecurityRepository).record_failures(
                [subject, address], now
            )
            return LoginResult(LoginOutcome.FAILED)
        await self._store.repo(AccountSecurityRepository).clear_failures(subject)
        state = await self._store.repo(AccountSecurityRepository).state(account)
        if state.email_verified_at is None:
            return LoginResult(LoginOutcome.UNVERIFIED, account)
        if state.must_change_password or self.policy.expired(state.password_changed_at, now):
            return LoginResult(LoginOutcome.PASSWORD_EXPIRED, account)
        return LoginResult(LoginOutcome.OK, account)

    async def password_expired(
        self, account: Account, *, state: SecurityState | None = None
    ) -> bool:
        """Whether the account must change its password before doing anything else
        (``state``: the account's security state if already read, e.g. with its session)."""
        if state is None:
            state = await self._store.repo(AccountSecurityRepository).state(account)
        return state.must_change_password or self.policy.expired(
            state.password_changed_at, self._clock.now()
        )

    # -- passwords -------------------------------------------------------------------------

    async def _check_new(self, account: Account, password: str) -> None:
        broken = [v.value for v in password_violations(self.policy, password)]
        if self.policy.history:
            recent = await self._store.repo(AccountSecurityRepository).recent_hashes(
                account.id, self.policy.history
            )
            if any(self._hasher.verify(h, password) for h in recent):
                broken.append(Violation.REUSED.value)
        if broken:
            raise PasswordPolicyError(tuple(broken))

    async def change_password(
        self, account: Account, current: str, new: str, *, keep_session: str | None
    ) -> None:
        """The owner changes the password; other sessions end (``keep_session`` stays)."""
        if not self._hasher.verify(account.password_hash, current):
            raise PasswordPolicyError(("wrong_password",))
        now = self._clock.now()
        state = await self._store.repo(AccountSecurityRepository).state(account)
        expired = state.must_change_password or self.policy.expired(state.password_changed_at, now)
        if not expired and now < self.policy.change_allowed_at(state.password_changed_at):
            raise PasswordPolicyError((Violation.TOO_RECENT.value,))
        await self._check_new(account, new)
        await self._store_password(account, new, now)
        await self._store.repo(SessionRepository).end_all(account.id, except_hash=keep_session)

    async def _store_password(self, account: Account, new: str, now: datetime) -> None:
        async with self._store.database.begin() as conn:
            await self._store.repo(AccountSecurityRepository).set_password(
                conn, account, self._hasher.hash(new), now
            )
            mail = Mail(
                to=account.email,
                kind=MailKind.PASSWORD_CHANGED,
                language=_language(account.language),
                params={"username": account.username, "when": _when(now)},
            )
            await self._outbox.put(conn, mail, now=now)
        self._outbox.wake()

    async def request_reset(
        self, login: str, base_url: str, language: Language, source_address: str = ""
    ) -> None:
        """Mail a single-use reset link if the account exists (the answer never tells).

        Returns at once for every login: the work runs in a task of its own (see
        :meth:`resets_done`), the same path whether the account exists or not.
        """
        task = asyncio.create_task(self._reset(login, base_url, language, source_address))
        self._resets.add(task)
        task.add_done_callback(self._resets.discard)

    async def resets_done(self) -> None:
        """Wait for the reset requests under way (tests, shutdown)."""
        while self._resets:
            await asyncio.gather(*self._resets, return_exceptions=True)

    async def _reset(
        self, login: str, base_url: str, language: Language, source_address: str
    ) -> None:
        try:
            await self._reset_work(login, base_url, language, source_address)
        except Exception:  # the answer went out already; a failure is only logged
            _LOGGER.exception("password reset request failed")

    async def _reset_work(
        self, login: str, base_url: str, language: Language, source_address: str
    ) -> None:
        now = self._clock.now()
        if source_address and not await self._counted(
            f"reset-source:{source_address}", self._config.requests_per_source_per_hour, now
        ):
            return
        account = (
            await self._store.repo(AccountRepository).find_by_login(login)
            if login.strip()
            else None
        )
        if account is None or not await self._counted(
            f"mail:{account.email}", self._config.mails_per_address_per_hour, now
        ):
            return
        expires = now + timedelta(minutes=self._config.reset_link_minutes)
        async with self._store.database.begin() as conn:
            await self._store.repo(AccountSecurityRepository).expire_links(
                conn, account.id, LinkPurpose.RESET_PASSWORD, now
            )
            token = await self._store.repo(AccountSecurityRepository).create_link(
                conn, account.id, LinkPurpose.RESET_PASSWORD, now, expires
            )
            mail = Mail(
                to=account.email,
                kind=MailKind.PASSWORD_RESET,
                language=_language(account.language) if account.language else language,
                params={
                    "username": account.username,
                    "link": f"{base_url}password/reset?token={token}",
                    "expires": _when(expires),
                },
            )
            await self._outbox.put(conn, mail, now=now)
        self._outbox.wake()

    async def check_reset_link(self, token: str) -> Account:
        """The account of a valid, unused reset link (raises :class:`LinkError`)."""
        account_id = await self._store.repo(AccountSecurityRepository).peek_link(
            token, LinkPurpose.RESET_PASSWORD, self._clock.now()
        )
        return await self._store.repo(AccountRepository).get(account_id)

    async def reset_password(self, token: str, new: str) -> Account:
        """Set a new password through a reset link; every session ends.

        The minimum age does not apply (the owner lost the password); history does. A reset
        also proves the e-mail address, so it validates an unvalidated account.
        """
        account = await self.check_reset_link(token)
        await self._check_new(account, new)
        now = self._clock.now()
        async with self._store.database.begin() as conn:
            account_id = await self._store.repo(AccountSecurityRepository).use_link(
                conn, token, LinkPurpose.RESET_PASSWORD, now
            )
            if account_id != account.id:
                raise LinkError("link changed hands")
            state = await self._store.repo(AccountSecurityRepository).state(account)
            if state.email_verified_at is None:
                await self._store.repo(AccountSecurityRepository).mark_verified(
                    conn, account.id, now
                )
        await self._store_password(account, new, now)
        await self._store.repo(SessionRepository).end_all(account.id)
        await self._store.repo(AccountSecurityRepository).clear_failures(f"account:{account.id}")
        return account
