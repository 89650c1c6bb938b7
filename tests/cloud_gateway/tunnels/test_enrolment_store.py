"""Enrolment, certificate and remote-access repositories on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.errors import ConflictError
from cloud_gateway.remote.repository import RemoteAccessRepository
from cloud_gateway.store import Store
from cloud_gateway.tunnels.repository import AttemptKind, EnrolmentRepository, IssuedCertificate
from cloud_gateway.tunnels.repository_certificates import DeviceCertificateRepository
from tunnel.clock import ManualClock


async def _account(store: Store, clock: ManualClock, name: str = "anna") -> int:
    account = await store.repo(AccountRepository).create(
        username=name, email=f"{name}@example.org", password_hash="x", created_at=clock.now()
    )
    return account.id


async def test_enrolment_is_claimed_once_and_creates_device_and_certificate(
    store: Store, clock: ManualClock
) -> None:
    owner = await _account(store, clock)
    now = clock.now()
    enrolment = await store.repo(EnrolmentRepository).create(
        poll_token_hash="t" * 64,
        code_hash="c" * 64,
        kind=DeviceKind.CCU,
        name="Keller",
        csr_pem="CSR",
        source_address="192.0.2.1",
        now=now,
        expires_at=now + timedelta(minutes=15),
    )
    with pytest.raises(ConflictError):
        await store.repo(EnrolmentRepository).create(
            poll_token_hash="u" * 64,
            code_hash="c" * 64,
            kind=DeviceKind.CCU,
            name="",
            csr_pem="CSR",
            source_address="",
            now=now,
            expires_at=now + timedelta(minutes=15),
        )
    found = await store.repo(EnrolmentRepository).find_open_by_code("c" * 64, now)
    assert found is not None
    assert found.id == enrolment.id
    cert = IssuedCertificate(
        serial="abc", not_before=now, not_after=now + timedelta(days=1), pem="PEM"
    )
    device_id = await store.repo(EnrolmentRepository).claim(
        enrolment.id, account_id=owner, slug="keller-1a2b3c", certificate=cert, now=now
    )
    with pytest.raises(ConflictError):
        await store.repo(EnrolmentRepository).claim(
            enrolment.id, account_id=owner, slug="keller-other", certificate=cert, now=now
        )
    assert await store.repo(EnrolmentRepository).find_open_by_code("c" * 64, now) is None
    polled = await store.repo(EnrolmentRepository).find_by_poll_token("t" * 64)
    assert polled is not None
    assert polled.certificate_pem == "PEM"
    assert polled.device_slug == "keller-1a2b3c"
    device = await store.repo(DeviceRepository).get_by_slug("keller-1a2b3c")
    assert device.id == device_id
    assert device.account_id == owner
    assert device.name == "Keller"
    stored = await store.repo(DeviceCertificateRepository).get("abc")
    assert stored is not None
    assert not stored.revoked
    assert (
        await store.repo(DeviceCertificateRepository).revoke_device(
            device_id, now=now, reason="lost"
        )
        == 1
    )
    revoked = await store.repo(DeviceCertificateRepository).get("abc")
    assert revoked is not None
    assert revoked.revoked
    assert revoked.revoke_reason == "lost"
    # the handshake's look-up: the certificate and its device in one query
    presented = await store.repo(DeviceCertificateRepository).presented("abc")
    assert presented is not None
    assert presented == (revoked, device)
    assert await store.repo(DeviceCertificateRepository).presented("abd") is None
    assert await store.repo(DeviceCertificateRepository).revoke_device(device_id, now=now) == 0
    assert [
        c.serial for c in await store.repo(DeviceCertificateRepository).list_for_device(device_id)
    ] == ["abc"]


async def test_expired_enrolments_cannot_be_found_or_claimed(
    store: Store, clock: ManualClock
) -> None:
    owner = await _account(store, clock)
    now = clock.now()
    enrolment = await store.repo(EnrolmentRepository).create(
        poll_token_hash="t" * 64,
        code_hash="c" * 64,
        kind=DeviceKind.CCU,
        name="",
        csr_pem="CSR",
        source_address="",
        now=now,
        expires_at=now + timedelta(minutes=15),
    )
    later = clock.advance(timedelta(minutes=15))
    assert await store.repo(EnrolmentRepository).find_open_by_code("c" * 64, later) is None
    cert = IssuedCertificate(serial="abc", not_before=now, not_after=later, pem="PEM")
    with pytest.raises(ConflictError):
        await store.repo(EnrolmentRepository).claim(
            enrolment.id, account_id=owner, slug="x-1", certificate=cert, now=later
        )


async def test_attempts_are_counted_per_source_account_and_window(
    store: Store, clock: ManualClock
) -> None:
    owner = await _account(store, clock)
    start = clock.now()
    for source in ("192.0.2.1", "192.0.2.1", "192.0.2.2"):
        await store.repo(EnrolmentRepository).record_attempt(
            AttemptKind.WRONG_CODE, source_address=source, now=clock.now(), account_id=owner
        )
    await store.repo(EnrolmentRepository).record_attempt(
        AttemptKind.REQUEST, source_address="192.0.2.1", now=clock.now(), account_id=None
    )
    count = store.repo(EnrolmentRepository).count_attempts
    assert await count(AttemptKind.WRONG_CODE, since=start) == 3
    assert await count(AttemptKind.WRONG_CODE, since=start, source_address="192.0.2.1") == 2
    assert await count(AttemptKind.WRONG_CODE, since=start, account_id=owner) == 3
    assert await count(AttemptKind.REQUEST, since=start) == 1
    later = clock.advance(timedelta(hours=1))
    assert await count(AttemptKind.WRONG_CODE, since=later) == 0
    assert await store.repo(EnrolmentRepository).prune_attempts(later) == 4


async def test_handover_tokens_are_single_use_and_sessions_count_traffic(
    store: Store, clock: ManualClock
) -> None:
    owner = await _account(store, clock)
    device = await store.repo(DeviceRepository).create(
        slug="ccu-1",
        kind=DeviceKind.CCU,
        created_at=clock.now(),
        account_id=owner,
    )
    now = clock.now()
    await store.repo(RemoteAccessRepository).create_handover(
        "h" * 64,
        account_id=owner,
        device_id=device.id,
        now=now,
        expires_at=now + timedelta(minutes=1),
    )
    await store.repo(RemoteAccessRepository).create_handover(
        "e" * 64,
        account_id=owner,
        device_id=device.id,
        now=now,
        expires_at=now + timedelta(minutes=1),
    )
    handover = await store.repo(RemoteAccessRepository).consume_handover("h" * 64, now)
    assert handover is not None
    assert (handover.account_id, handover.device_id) == (owner, device.id)
    assert await store.repo(RemoteAccessRepository).consume_handover("h" * 64, now) is None
    assert (
        await store.repo(RemoteAccessRepository).consume_handover("e" * 64, clock.advance(61))
        is None
    )
    session = await store.repo(RemoteAccessRepository).start_session(
        "s" * 64,
        account_id=owner,
        device_id=device.id,
        username="anna",
        device_slug="ccu-1",
        source_address="198.51.100.7",
        now=clock.now(),
    )
    await store.repo(RemoteAccessRepository).add_traffic(
        session.id, now=clock.now(), to_device=10, from_device=5000
    )
    await store.repo(RemoteAccessRepository).add_traffic(
        session.id, now=clock.now(), to_device=3, from_device=7
    )
    await store.repo(RemoteAccessRepository).end_session(session.id, clock.now())
    [audit] = await store.repo(RemoteAccessRepository).list_sessions(device_id=device.id)
    assert (audit.requests, audit.bytes_to_device, audit.bytes_from_device) == (2, 13, 5007)
    assert audit.ended_at == clock.now()
    assert audit.source_address == "198.51.100.7"
    found = await store.repo(RemoteAccessRepository).find_session("s" * 64)
    assert found is not None
    assert found.username == "anna"
    assert await store.repo(RemoteAccessRepository).list_sessions(account_id=owner + 1) == []
