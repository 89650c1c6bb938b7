"""Enrolment repository: pending pairings, claiming them, and counting guesses.

A device's enrolment request waits here with its CSR until its owner enters the pairing
code; :meth:`EnrolmentRepository.claim` then creates the device, records its certificate
and marks the request claimed, all in one transaction (a code is used at most once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.schema import devices
from cloud_gateway.errors import ConflictError, StoreError
from cloud_gateway.store.repository import Repository
from cloud_gateway.tunnels.schema import device_certificates, enrol_attempts, enrolments

__all__ = ["AttemptKind", "Enrolment", "EnrolmentRepository", "IssuedCertificate"]


class AttemptKind(StrEnum):
    """What an ``enrol_attempts`` row counts."""

    WRONG_CODE = "wrong_code"
    """An owner entered a code that matches no open enrolment."""
    REQUEST = "request"
    """A device started an enrolment (``POST /api/v1/enrol``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Enrolment:
    """A device's request to be enrolled."""

    id: int
    kind: DeviceKind
    name: str
    csr_pem: str
    source_address: str
    created_at: datetime
    expires_at: datetime
    claimed_at: datetime | None
    account_id: int | None
    device_id: int | None
    certificate_pem: str | None
    collected_at: datetime | None
    device_slug: str | None = None
    """The enrolled device's slug (filled by :meth:`EnrolmentRepository.find_by_poll_token`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedCertificate:
    """What :meth:`EnrolmentRepository.claim` records about the signed certificate."""

    serial: str
    not_before: datetime
    not_after: datetime
    pem: str


def _enrolment(m: sa.RowMapping) -> Enrolment:
    return Enrolment(
        id=m["id"],
        kind=DeviceKind(m["kind"]),
        name=m["name"],
        csr_pem=m["csr_pem"],
        source_address=m["source_address"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        claimed_at=m["claimed_at"],
        account_id=m["account_id"],
        device_id=m["device_id"],
        certificate_pem=m["certificate_pem"],
        collected_at=m["collected_at"],
        device_slug=m.get("device_slug"),
    )


class EnrolmentRepository(Repository):
    """Create, find and claim enrolments; count attempts for rate limits."""

    async def create(
        self,
        *,
        poll_token_hash: str,
        code_hash: str,
        kind: DeviceKind,
        name: str,
        csr_pem: str,
        source_address: str,
        now: datetime,
        expires_at: datetime,
    ) -> Enrolment:
        """Store a new request; :class:`ConflictError` if the code is in use (pick another)."""
        async with self._db.begin() as conn:
            clash = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(enrolments)
                .where(
                    enrolments.c.code_hash == code_hash,
                    enrolments.c.claimed_at.is_(None),
                    enrolments.c.expires_at > now,
                )
            )
            if clash:
                raise ConflictError("pairing code in use")
            result = await conn.execute(
                enrolments.insert()
                .values(
                    poll_token_hash=poll_token_hash,
                    code_hash=code_hash,
                    kind=kind,
                    name=name,
                    csr_pem=csr_pem,
                    source_address=source_address[:64],
                    created_at=now,
                    expires_at=expires_at,
                )
                .returning(*enrolments.c)
            )
            return _enrolment(result.one()._mapping)

    async def find_by_poll_token(self, poll_token_hash: str) -> Enrolment | None:
        """The enrolment a device polls with this token."""
        async with self._db.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(*enrolments.c, devices.c.slug.label("device_slug"))
                    .select_from(
                        enrolments.outerjoin(devices, devices.c.id == enrolments.c.device_id)
                    )
                    .where(enrolments.c.poll_token_hash == poll_token_hash)
                )
            ).first()
        return None if row is None else _enrolment(row._mapping)

    async def find_open_by_code(self, code_hash: str, now: datetime) -> Enrolment | None:
        """The unclaimed, unexpired enrolment with this pairing code."""
        async with self._db.connect() as conn:
            row = (
                await conn.execute(
                    enrolments.select().where(
                        enrolments.c.code_hash == code_hash,
                        enrolments.c.claimed_at.is_(None),
                        enrolments.c.expires_at > now,
                    )
                )
            ).first()
        return None if row is None else _enrolment(row._mapping)

    async def claim(
        self,
        enrolment_id: int,
        *,
        account_id: int,
        slug: str,
        certificate: IssuedCertificate,
        now: datetime,
    ) -> int:
        """Claim the enrolment for ``account_id``: create the device and its certificate.

        Returns the new device id. :class:`ConflictError` when the enrolment was claimed
        meanwhile or has expired (the code is single use).
        """
        try:
            async with self._db.begin() as conn:
                marked = await conn.execute(
                    enrolments.update()
                    .where(
                        enrolments.c.id == enrolment_id,
                        enrolments.c.claimed_at.is_(None),
                        enrolments.c.expires_at > now,
                    )
                    .values(claimed_at=now, account_id=account_id)
                )
                if marked.rowcount != 1:
                    raise ConflictError("pairing code already used or expired")
                row = (
                    await conn.execute(
                        sa.select(enrolments.c.kind, enrolments.c.name).where(
                            enrolments.c.id == enrolment_id
                        )
                    )
                ).one()
                device_id = await conn.scalar(
                    devices.insert()
                    .values(
                        slug=slug,
                        kind=row.kind,
                        name=row.name,
                        account_id=account_id,
                        created_at=now,
                    )
                    .returning(devices.c.id)
                )
                await conn.execute(
                    device_certificates.insert().values(
                        serial=certificate.serial,
                        device_id=device_id,
                        not_before=certificate.not_before,
                        not_after=certificate.not_after,
                        issued_at=now,
                    )
                )
                await conn.execute(
                    enrolments.update()
                    .where(enrolments.c.id == enrolment_id)
                    .values(device_id=device_id, certificate_pem=certificate.pem)
                )
        except IntegrityError as exc:
            raise ConflictError(f"device {slug!r} could not be created") from exc
        if not isinstance(device_id, int):
            raise StoreError(f"the database returned {device_id!r} as the new device id")
        return device_id

    async def mark_collected(self, enrolment_id: int, now: datetime) -> None:
        """The device has fetched its certificate (first time only)."""
        async with self._db.begin() as conn:
            await conn.execute(
                enrolments.update()
                .where(enrolments.c.id == enrolment_id, enrolments.c.collected_at.is_(None))
                .values(collected_at=now)
            )

    async def record_attempt(
        self, kind: AttemptKind, *, source_address: str, now: datetime, account_id: int | None
    ) -> None:
        """Count one attempt of ``kind`` for the rate limits."""
        async with self._db.begin() as conn:
            await conn.execute(
                enrol_attempts.insert().values(
                    kind=kind.value,
                    source_address=source_address[:64],
                    account_id=account_id,
                    at=now,
                )
            )

    async def count_attempts(
        self,
        kind: AttemptKind,
        *,
        since: datetime,
        source_address: str | None = None,
        account_id: int | None = None,
    ) -> int:
        """Attempts of ``kind`` since ``since``, from one source or account, or all."""
        query = (
            sa.select(sa.func.count())
            .select_from(enrol_attempts)
            .where(enrol_attempts.c.kind == kind.value, enrol_attempts.c.at >= since)
        )
        if source_address is not None:
            query = query.where(enrol_attempts.c.source_address == source_address[:64])
        if account_id is not None:
            query = query.where(enrol_attempts.c.account_id == account_id)
        async with self._db.connect() as conn:
            return int(await conn.scalar(query) or 0)

    async def prune_attempts(self, before: datetime) -> int:
        """Forget attempts older than ``before`` (they no longer count)."""
        async with self._db.begin() as conn:
            result = await conn.execute(enrol_attempts.delete().where(enrol_attempts.c.at < before))
        return result.rowcount
