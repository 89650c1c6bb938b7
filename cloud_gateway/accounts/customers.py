"""Customer data with the VAT ID check (R-MON-3) and the country rules (R-MON-4).

A business's VAT ID is first checked offline (format), then online through the VIES-style
adapter. When the service is unavailable the check stays ``pending`` and the scheduler retries
it (:meth:`CustomerService.retry_due`); only the service's own answer can make it ``invalid``.
Each answer is kept as proof (date and answer).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cloud_gateway.accounts.customer_fields import CORRECTABLE, INPUT_TEXT_FIELDS
from cloud_gateway.accounts.customer_rules import (
    CustomerKind,
    Eligibility,
    VatState,
    invalid_characters,
    monitoring_eligibility,
    normalise_vat_id,
    vat_format_ok,
)
from cloud_gateway.accounts.repository_customers import CustomerData, CustomerRepository
from cloud_gateway.accounts.vies import ViesClient
from cloud_gateway.config import VatConfig
from cloud_gateway.errors import VatUnavailableError
from cloud_gateway.store import Store
from tunnel.clock import Clock

__all__ = ["INPUT_TEXT_FIELDS", "CustomerInput", "CustomerService", "SaveResult"]

_LOGGER = logging.getLogger(__name__)
_CHECKED_FIELDS = tuple(f.name for f in CORRECTABLE)


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerInput:
    """What the customer entered."""

    kind: CustomerKind
    name: str
    street: str
    postcode: str
    city: str
    country: str
    vat_id: str = ""
    name_corrected: str = ""
    street_corrected: str = ""
    city_corrected: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SaveResult:
    """The outcome of saving customer data."""

    saved: CustomerData | None
    """The stored data (None when a correction is still needed)."""
    corrections: dict[str, str]
    """Field name → characters that need a corrected second field."""
    eligibility: Eligibility
    """Whether monitoring can be offered to this customer."""


class CustomerService:
    """Saves customer data and drives VAT ID checks."""

    def __init__(self, store: Store, clock: Clock, vies: ViesClient, config: VatConfig) -> None:
        self._store = store
        self._clock = clock
        self._vies = vies
        self._config = config

    async def save(self, account_id: int, data: CustomerInput) -> SaveResult:
        """Validate and store; a business VAT ID is checked at once (or left pending)."""
        eligibility = monitoring_eligibility(data.kind, data.country)
        corrections: dict[str, str] = {}
        if data.kind is CustomerKind.BUSINESS:
            for name in _CHECKED_FIELDS:
                bad = invalid_characters(getattr(data, name))
                corrected = getattr(data, f"{name}_corrected")
                if bad and (not corrected or invalid_characters(corrected)):
                    corrections[name] = bad
        if corrections:
            return SaveResult(saved=None, corrections=corrections, eligibility=eligibility)
        now = self._clock.now()
        vat_id = normalise_vat_id(data.vat_id) if data.kind is CustomerKind.BUSINESS else ""
        previous = await self._store.repo(CustomerRepository).get(account_id)
        state = VatState.NONE
        if vat_id:
            state = VatState.PENDING if vat_format_ok(vat_id) else VatState.FORMAT_INVALID
        record = CustomerData(
            account_id=account_id,
            kind=data.kind,
            name=data.name.strip(),
            name_corrected=data.name_corrected.strip(),
            street=data.street.strip(),
            street_corrected=data.street_corrected.strip(),
            postcode=data.postcode.strip(),
            city=data.city.strip(),
            city_corrected=data.city_corrected.strip(),
            country=data.country.strip().upper(),
            vat_id=vat_id,
            vat_state=state,
            vat_next_check_at=now if state is VatState.PENDING else None,
            vat_proof=previous.vat_proof if previous and previous.vat_id == vat_id else "",
            updated_at=now,
        )
        if previous and previous.vat_id == vat_id and previous.vat_state is VatState.VALID:
            record = replace(record, vat_state=VatState.VALID, vat_next_check_at=None)
        await self._store.repo(CustomerRepository).save(record)
        if record.vat_state is VatState.PENDING:
            record = await self.check_vat(record)
        return SaveResult(saved=record, corrections={}, eligibility=eligibility)

    async def check_vat(self, record: CustomerData) -> CustomerData:
        """Ask the service once; unavailable leaves it pending with a retry time."""
        now = self._clock.now()
        try:
            await self._store.release_reads()  # no pooled connection held while VIES answers
            answer = await self._vies.check(record.vat_id)
        except VatUnavailableError as exc:
            _LOGGER.info("VAT check of account %d pending: %s", record.account_id, exc)
            updated = replace(
                record,
                vat_state=VatState.PENDING,
                vat_attempts=record.vat_attempts + 1,
                vat_next_check_at=now + timedelta(minutes=self._config.retry_minutes),
            )
        else:
            proof = {
                "checked_at": now.isoformat(),
                "valid": answer.valid,
                "name": answer.name,
                "address": answer.address,
                "request_date": answer.request_date,
                "answer": answer.raw,
            }
            updated = replace(
                record,
                vat_state=VatState.VALID if answer.valid else VatState.INVALID,
                vat_checked_at=now,
                vat_next_check_at=None,
                vat_attempts=record.vat_attempts + 1,
                vat_proof=json.dumps(proof, ensure_ascii=False, sort_keys=True),
            )
        return await self._store.repo(CustomerRepository).save(updated)

    async def retry_due(self, now: datetime) -> int:
        """Retry every pending check whose time has come (a scheduler job)."""
        due = await self._store.repo(CustomerRepository).vat_checks_due(now)
        for record in due:
            await self.check_vat(record)
        return len(due)

    async def licence_purchase_allowed(self, account_id: int) -> bool:
        """R-MON-3: no licence purchase while a business's VAT ID is unresolved."""
        record = await self._store.repo(CustomerRepository).get(account_id)
        if record is None:
            return False
        if monitoring_eligibility(record.kind, record.country) is not Eligibility.ALLOWED:
            return False
        if record.kind is CustomerKind.PRIVATE or not record.vat_id:
            return True
        return record.vat_state is VatState.VALID
