"""Enrolment, certificate and remote-access repositories on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cloud_gateway.errors import ConflictError
from cloud_gateway.store import Store
from cloud_gateway.store.devices import DeviceKind
from cloud_gateway.store.enrolment import AttemptKind, IssuedCertificate
from tunnel.clock import ManualClock


async def _account(store: Store, clock: ManualClock, name: str = "anna") -> int:
    account = await store.accounts.create(
        username=name, email=f"{name}@example.org", password_hash="x", created_at=clock.now()
    )
    return account.id


async def test_enrolment_is_claimed_once_and_creates_device_and_certificate(
    store: Store, clock: ManualClock
) -> None:
    owner = await _account(store, clock)
    now = clock.now()
    enrolment = await store.enrolments.create(
        poll_token_hash="t" * 64,
        code_hash="c" * 64,
        kind="ccu",
        name="Keller",
        csr_pem="CSR",
        source_address="192.0.2.1",
        now=now,
        expires_at=now + timedelta(minutes=15),
    )
    with pytest.raises(ConflictError):
        await store.enrolments.create(
            poll_token_hash="u" * 64,
            code_hash="c" * 64,
            kind="ccu",
            name="",
            csr_pem="CSR",
            source_address="",
            now=now,
            expires_at=now + timedelta(minutes=15),
        )
    found = await store.enrolments.find_open_by_code("c" * 64, now)
    assert found is not None
    assert found.id == enrolment.id
    cert = IssuedCertificate(
        serial="abc", not_before=now, not_after=now + timedelta(days=1), pem="PEM"
    )
    device_id = await store.enrolments.claim(
        enrolment.id, account_id=owner, slug="keller-1a2b3c", certificate=cert, now=now
    )
    with pytest.raises(ConflictError):
        await store.enrolments.claim(
            enrolment.id, account_id=owner, slug="keller-other", certificate=cert, now=now
        )
    assert await store.enrolments.find_open_by_code("c" * 64, now) is None
    polled = await store.enrolments.find_by_poll_token("t" * 64)
    assert polled is not None
    assert polled.certificate_pem == "PEM"
    assert polled.device_slug == "keller-1a2b3c"
    device = await store.devices.get_by_slug("keller-1a2b3c")
    assert device.id == device_id
    assert device.account_id == owner
    assert device.name == "Keller"
    stored = await store.certificates.get("abc")
    assert stored is not None
    assert not stored.revoked
    assert await store.certificates.revoke_device(device_id, now=now, reason="lost") == 1
    revoked = await store.certificates.get("abc")
    assert revoked is not None
    assert revoked.revoked
    assert revoked.revoke_reason == "lost"
    assert await store.certificates.revoke_device(device_id, now=now) == 0
    assert [c.serial for c in await store.certificates.list_for_device(device_id)] == ["abc"]


async def test_expired_enrolments_cannot_be_found_or_claimed(
    store: Store, clock: ManualClock
) -> None:
    owner = await _account(store, clock)
    now = clock.now()
    enrolment = await store.enrolments.create(
        poll_token_hash="t" * 64,
        code_hash="c" * 64,
        kind="ccu",
        name="",
        csr_pem="CSR",
        source_address="",
        now=now,
        expires_at=now + timedelta(minutes=15),
    )
    later = clock.advance(timedelta(minutes=15))
    assert await store.enrolments.find_open_by_code("c" * 64, later) is None
    cert = IssuedCertificate(serial="abc", not_before=now, not_after=later, pem="PEM")
    with pytest.raises(ConflictError):
        await store.enrolments.claim(
            enrolment.id, account_id=owner, slug="x-1", certificate=cert, now=later
        )


async def test_attempts_are_counted_per_source_account_and_window(
    store: Store, clock: ManualClock
) -> None:
    owner = await _account(store, clock)
    start = clock.now()
    for source in ("192.0.2.1", "192.0.2.1", "192.0.2.2"):
        await store.enrolments.record_attempt(
            AttemptKind.WRONG_CODE, source_address=source, now=clock.now(), account_id=owner
        )
    await store.enrolments.record_attempt(
        AttemptKind.REQUEST, source_address="192.0.2.1", now=clock.now(), account_id=None
    )
    count = store.enrolments.count_attempts
    assert await count(AttemptKind.WRONG_CODE, since=start) == 3
    assert await count(AttemptKind.WRONG_CODE, since=start, source_address="192.0.2.1") == 2
    assert await count(AttemptKind.WRONG_CODE, since=start, account_id=owner) == 3
    assert await count(AttemptKind.REQUEST, since=start) == 1
    later = clock.advance(timedelta(hours=1))
    assert await count(AttemptKind.WRONG_CODE, since=later) == 0
    assert await store.enrolments.prune_attempts(later) == 4


async def test_handover_tokens_are_single_use_and_sessions_count_traffic(
    store: Store, clock: ManualClock
) -> None:
    owner = await _account(store, clock)
    device = await store.devices.create(
        slug="ccu-1",
        kind=DeviceKind.CCU,
        created_at=clock.now(),
        account_id=owner,
    )
    now = clock.now()
    await store.remote.create_handover(
        "h" * 64,
        account_id=owner,
        device_id=device.id,
        now=now,
        expires_at=now + timedelta(minutes=1),
    )
    await store.remote.create_handover(
        "e" * 64,
        account_id=owner,
        device_id=device.id,
        now=now,
        expires_at=now + timedelta(minutes=1),
    )
    handover = await store.remote.consume_handover("h" * 64, now)
    assert handover is not None
    assert (handover.account_id, handover.device_id) == (owner, device.id)
    assert await store.remote.consume_handover("h" * 64, now) is None
    assert await store.remote.consume_handover("e" * 64, clock.advance(61)) is None
    session = await store.remote.start_session(
        "s" * 64,
        account_id=owner,
        device_id=device.id,
        username="anna",
        device_slug="ccu-1",
        source_address="198.51.100.7",
        now=clock.now(),
    )
    await store.remote.add_traffic(session.id, now=clock.now(), to_device=10, from_device=5000)
    await store.remote.add_traffic(session.id, now=clock.now(), to_device=3, from_device=7)
    await store.remote.end_session(session.id, clock.now())
    [audit] = await store.remote.list_sessions(device_id=device.id)
    assert (audit.requests, audit.bytes_to_device, audit.bytes_from_device) == (2, 13, 5007)
    assert audit.ended_at == clock.now()
    assert audit.source_address == "198.51.100.7"
    found = await store.remote.find_session("s" * 64)
    assert found is not None
    assert found.username == "anna"
    assert await store.remote.list_sessions(account_id=owner + 1) == []
