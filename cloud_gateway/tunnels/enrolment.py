"""Enrolment by pairing code (R-DEV-8): the device asks, the owner confirms, the CA signs.

1. The device ``POST``s its CSR, kind and name; it gets a pairing code to show and a
   secret polling token (:meth:`EnrolmentService.request`).
2. The logged-in owner types the code into the portal (:meth:`EnrolmentService.claim`):
   the gateway creates the device under the owner's account and signs the CSR.
3. The device polls with its token (:meth:`EnrolmentService.poll`) and receives its
   certificate and the device CA certificate.

Codes expire and are single use; wrong codes are counted per source address and per
account, and past either limit the portal answers "too many attempts" before even looking
the code up. There is no global limit: a handful of guessing accounts must not lock every
honest owner out (the ≈ 2^39 code space and the code lifetime make blind guessing futile).
Enrolment requests are limited per source address.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cryptography.hazmat.primitives import serialization

from cloud_gateway.config import EnrolmentConfig
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.errors import ConflictError, GatewayError
from cloud_gateway.store import Store
from cloud_gateway.tunnels.device_ca import DeviceCa, load_csr, serial_hex
from cloud_gateway.tunnels.pairing import (
    format_code,
    hash_secret,
    make_slug,
    new_pairing_code,
    normalize_code,
)
from cloud_gateway.tunnels.repository import (
    AttemptKind,
    Enrolment,
    EnrolmentRepository,
    IssuedCertificate,
)
from tunnel.clock import Clock

__all__ = [
    "ClaimResult",
    "EnrolmentRequest",
    "EnrolmentService",
    "PollResult",
    "PollStatus",
    "RateLimitedError",
]


class RateLimitedError(GatewayError):
    """Too many attempts; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many attempts, retry after {retry_after:g} s")


class PollStatus(StrEnum):
    """What a polling device learns about its enrolment."""

    PENDING = "pending"
    ISSUED = "issued"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrolmentRequest:
    """Handed to the device after it asked to be enrolled."""

    pairing_code: str
    """Display form, e.g. ``ABCD-EFGH``."""
    poll_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PollResult:
    """The state of an enrolment as the device sees it."""

    status: PollStatus
    enrolment: Enrolment | None = None
    certificate_pem: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimResult:
    """The device created when an owner entered a valid code."""

    device_id: int
    slug: str
    name: str
    kind: DeviceKind


class EnrolmentService:
    """The enrolment rules on top of the store and the device CA."""

    def __init__(self, store: Store, ca: DeviceCa, config: EnrolmentConfig, clock: Clock) -> None:
        self._store = store
        self._ca = ca
        self._config = config
        self._clock = clock

    async def request(
        self, *, csr_pem: str, kind: DeviceKind, name: str, source_address: str
    ) -> EnrolmentRequest:
        """Record a device's request; raises ``InvalidCsrError`` or ``RateLimitedError``."""
        load_csr(csr_pem)
        now = self._clock.now()
        window = timedelta(seconds=self._config.guess_window_s)
        repo = self._store.repo(EnrolmentRepository)
        started = await repo.count_attempts(
            AttemptKind.REQUEST, since=now - window, source_address=source_address
        )
        if started >= self._config.max_enrolments_per_source:
            raise RateLimitedError(self._config.guess_window_s)
        await repo.record_attempt(
            AttemptKind.REQUEST, source_address=source_address, now=now, account_id=None
        )
        expires_at = now + timedelta(seconds=self._config.code_ttl_s)
        token = secrets.token_urlsafe(32)
        for _ in range(5):
            code = new_pairing_code()
            try:
                await repo.create(
                    poll_token_hash=hash_secret(token),
                    code_hash=hash_secret(code),
                    kind=kind,
                    name=name.strip()[:100],
                    csr_pem=csr_pem,
                    source_address=source_address,
                    now=now,
                    expires_at=expires_at,
                )
            except ConflictError:
                continue
            return EnrolmentRequest(
                pairing_code=format_code(code), poll_token=token, expires_at=expires_at
            )
        raise ConflictError("no free pairing code")  # pragma: no cover - 30^8 codes

    async def claim(self, typed_code: str, *, account_id: int, source_address: str) -> ClaimResult:
        """The owner entered ``typed_code``: enrol the device under their account.

        Raises ``RateLimitedError`` past the guess limits and ``LookupError`` for a code
        that is malformed, unknown, expired or already used.
        """
        now = self._clock.now()
        await self._check_guess_limits(now, source_address, account_id)
        code = normalize_code(typed_code)
        enrolment = (
            None
            if code is None
            else await self._store.repo(EnrolmentRepository).find_open_by_code(
                hash_secret(code), now
            )
        )
        if enrolment is None:
            if code is not None:
                await self._store.repo(EnrolmentRepository).record_attempt(
                    AttemptKind.WRONG_CODE,
                    source_address=source_address,
                    now=now,
                    account_id=account_id,
                )
            raise LookupError("no open enrolment with this pairing code")
        slug = make_slug(enrolment.name, enrolment.kind)
        cert = await asyncio.to_thread(
            self._ca.issue,
            load_csr(enrolment.csr_pem),
            slug=slug,
            now=now,
            days=self._config.certificate_days,
        )
        issued = IssuedCertificate(
            serial=serial_hex(cert),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        )
        try:
            device_id = await self._store.repo(EnrolmentRepository).claim(
                enrolment.id, account_id=account_id, slug=slug, certificate=issued, now=now
            )
        except ConflictError as exc:
            raise LookupError("pairing code already used") from exc
        return ClaimResult(device_id=device_id, slug=slug, name=enrolment.name, kind=enrolment.kind)

    async def _check_guess_limits(self, now: datetime, source: str, account_id: int) -> None:
        since = now - timedelta(seconds=self._config.guess_window_s)
        repo = self._store.repo(EnrolmentRepository)
        per_source = await repo.count_attempts(
            AttemptKind.WRONG_CODE, since=since, source_address=source
        )
        per_account = await repo.count_attempts(
            AttemptKind.WRONG_CODE, since=since, account_id=account_id
        )
        if (
            per_source >= self._config.max_guesses_per_source
            or per_account >= self._config.max_guesses_per_account
        ):
            raise RateLimitedError(self._config.guess_window_s)

    async def poll(self, token: str) -> PollResult:
        """The device asks whether its certificate is ready."""
        enrolment = await self._store.repo(EnrolmentRepository).find_by_poll_token(
            hash_secret(token)
        )
        if enrolment is None:
            return PollResult(status=PollStatus.UNKNOWN)
        if enrolment.certificate_pem is not None:
            if enrolment.collected_at is None:
                await self._store.repo(EnrolmentRepository).mark_collected(
                    enrolment.id, self._clock.now()
                )
            return PollResult(
                status=PollStatus.ISSUED,
                enrolment=enrolment,
                certificate_pem=enrolment.certificate_pem,
            )
        if enrolment.expires_at <= self._clock.now():
            return PollResult(status=PollStatus.EXPIRED, enrolment=enrolment)
        return PollResult(status=PollStatus.PENDING, enrolment=enrolment)
