"""The staff second factor over the real store (both backends): enrolment, a code works
once, drift of one step, recovery codes single use, the lockout after five wrong codes."""

from __future__ import annotations

from datetime import timedelta

import pyotp

from cloud_gateway.accounts.model import Account, Role
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.errors import StateError
from cloud_gateway.operator.second_factor import LOCKOUT, MAX_FAILURES, SecondFactor, Verdict
from cloud_gateway.operator.totp import hash_recovery_code, matching_step, normalise_code
from cloud_gateway.store import Store
from tunnel.clock import ManualClock


async def _staff(store: Store, clock: ManualClock, name: str = "olga") -> Account:
    return await store.repo(AccountRepository).create(
        username=name,
        email=f"{name}@example.org",
        password_hash="x",
        created_at=clock.now(),
        role=Role.OPERATOR,
    )


def test_a_code_matches_its_step_and_one_either_side_only() -> None:
    secret = pyotp.random_base32(32)
    clock = ManualClock()
    now = clock.now()
    step = int(now.timestamp()) // 30
    code = pyotp.TOTP(secret).at(now)
    assert matching_step(secret, code, now, 0) == step
    assert matching_step(secret, code, now + timedelta(seconds=30), 0) == step
    assert matching_step(secret, code, now + timedelta(seconds=61), 0) is None
    assert matching_step(secret, code, now, step) is None  # used already
    assert matching_step(secret, "12 34 5", now, 0) is None
    assert normalise_code("abcde-fghij") == "ABCDEFGHIJ"
    assert hash_recovery_code("abcde-fghij") == hash_recovery_code("ABCDE FGHIJ")


async def test_enrol_then_each_code_works_once(store: Store, clock: ManualClock) -> None:
    account = await _staff(store, clock)
    factor = SecondFactor(store, clock)
    enrolment = await factor.enrolment(account)
    assert enrolment.uri.startswith("otpauth://totp/CloudConnector:olga?secret=")
    assert (await factor.enrolment(account)).secret == enrolment.secret  # same until confirmed
    totp = pyotp.TOTP(enrolment.secret)

    verdict, codes = await factor.confirm(account, totp.at(clock.now()))
    assert verdict is Verdict.OK
    assert len(codes) == 10
    try:
        await factor.enrolment(account)
        raise AssertionError("a confirmed secret must not be shown again")
    except StateError:
        pass
    # the code used for the enrolment does not log in again (replay)
    assert await factor.verify(account, totp.at(clock.now())) is Verdict.WRONG
    clock.advance(30)
    assert await factor.verify(account, totp.at(clock.now())) is Verdict.OK
    assert await factor.verify(account, totp.at(clock.now())) is Verdict.WRONG

    # a recovery code works once
    assert await factor.verify(account, codes[0].lower()) is Verdict.OK
    assert await factor.verify(account, codes[0]) is Verdict.WRONG


async def test_five_wrong_codes_lock_the_step_for_a_while(store: Store, clock: ManualClock) -> None:
    account = await _staff(store, clock)
    factor = SecondFactor(store, clock)
    secret = (await factor.enrolment(account)).secret
    verdict, codes = await factor.confirm(account, pyotp.TOTP(secret).at(clock.now()))
    assert verdict is Verdict.OK
    clock.advance(30)
    for _ in range(MAX_FAILURES):
        assert await factor.verify(account, "000000") is Verdict.WRONG
    right = pyotp.TOTP(secret).at(clock.now())
    assert await factor.verify(account, right) is Verdict.LOCKED
    assert await factor.verify(account, codes[1]) is Verdict.LOCKED
    clock.advance(LOCKOUT + timedelta(seconds=1))
    assert await factor.verify(account, pyotp.TOTP(secret).at(clock.now())) is Verdict.OK
