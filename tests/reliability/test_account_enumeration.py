"""Security review item 6: no account enumeration by timing, mails limited.

Registration of a known e-mail address skipped argon2 (6.5 ms against 36.8 ms) and "Passwort
vergessen" did more work for a known login than for an unknown one, both mailing without a
limit. Now registration hashes the submitted password either way, the reset request answers
at once and does its work in a task of its own, and mails are limited per address and
registrations per source. The work is counted (argon2 calls through an injected hasher,
rows in the outbox), never timed.
"""

from __future__ import annotations

import pytest

from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.accounts.service import AccountService
from cloud_gateway.config import AccountsConfig
from cloud_gateway.errors import AccountRateLimitedError
from cloud_gateway.i18n import Language
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.store import Store
from tests.reliability.report import record
from tunnel.clock import ManualClock

BASE = "https://gateway.example/"
PASSWORD = "Sonnig!2026"


class CountingHasher(PasswordHasher):
    """The real argon2id hasher, counting its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.hashes = 0
        self.verifies = 0

    def hash(self, password: str) -> str:
        self.hashes += 1
        return super().hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        self.verifies += 1
        return super().verify(stored_hash, password)


async def _register(service: AccountService, username: str, email: str, source: str = "") -> None:
    await service.register(
        username=username,
        email=email,
        password=PASSWORD,
        language=Language.DE,
        base_url=BASE,
        source_address=source,
    )


async def _mails(store: Store) -> list[tuple[str, str]]:
    rows = await store.repo(OutboxRepository).list_recent()
    return sorted((r.recipient, r.template) for r in rows)


async def test_known_and_unknown_addresses_cost_the_same_and_mails_are_limited(
    store: Store, clock: ManualClock
) -> None:
    hasher = CountingHasher()
    config = AccountsConfig(mails_per_address_per_hour=2, requests_per_source_per_hour=5)
    service = AccountService(store, clock, hasher, Outbox(store.repo(OutboxRepository)), config)
    await _register(service, "anna", "anna@example.org")
    work: dict[str, int] = {}
    for name, email in (("new", "neu@example.org"), ("known", "anna@example.org")):
        before = hasher.hashes
        await _register(service, f"user-{name}", email, "192.0.2.1")
        work[f"register {name}"] = hasher.hashes - before
    # three more hints for the known address: only the limit's worth is mailed
    for n in range(3):
        await _register(service, f"again-{n}", "anna@example.org", "192.0.2.1")
    with pytest.raises(AccountRateLimitedError):  # the 6th registration from one source
        await _register(service, "one-too-many", "x@example.org", "192.0.2.1")
    hints = [m for m in await _mails(store) if m[1] == "already_registered"]
    # "Passwort vergessen": the same path for known and unknown logins, mails limited
    before_reset = hasher.hashes + hasher.verifies
    for login in ("nobody", "anna", "anna", "anna", "nobody"):
        await service.request_reset(login, BASE, Language.DE, "198.51.100.7")
    pending = len(service._resets)
    await service.resets_done()
    resets = [m for m in await _mails(store) if m[1] == "password_reset"]
    figure = (
        f"argon2 calls: register new {work['register new']}, known {work['register known']}; "
        f"{len(hints)} hint mails for 4 known-address registrations; "
        f"{len(resets)} reset mails for 3 requests (limit 2 an address and hour: spent on hints)"
    )
    passed = (
        work["register new"] == work["register known"] == 1
        and len(hints) == 2
        and len(resets) == 0
        and pending == 5
        and hasher.hashes + hasher.verifies == before_reset
    )
    record("account_enumeration", figure, passed=passed)
    assert work == {"register new": 1, "register known": 1}
    assert len(hints) == config.mails_per_address_per_hour
    assert resets == []  # the address's mails of the hour went to the hints
    assert pending == 5


async def test_reset_mails_are_limited_per_address(store: Store, clock: ManualClock) -> None:
    hasher = CountingHasher()
    config = AccountsConfig(mails_per_address_per_hour=2)
    service = AccountService(store, clock, hasher, Outbox(store.repo(OutboxRepository)), config)
    await _register(service, "anna", "anna@example.org")
    for login in ("anna", "nobody", "anna@example.org", "anna"):
        await service.request_reset(login, BASE, Language.DE, "198.51.100.8")
    await service.resets_done()
    resets = [m for m in await _mails(store) if m[1] == "password_reset"]
    assert resets == [("anna@example.org", "password_reset")] * 2
