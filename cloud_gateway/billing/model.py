"""Row types of the money core's tables (what the repository returns)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from cloud_gateway.billing.catalogue import BookingType
from cloud_gateway.billing.journal import EntryKind
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.states import ContractState, OrderState

__all__ = ["StoredContract", "StoredDocument", "StoredEntry", "StoredOrder"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredOrder:
    """An order; its lines are its contracts (one per booked product)."""

    id: int
    account_id: int
    state: OrderState
    catalogue_version: str
    language: str
    open_reservations: tuple[str, ...]
    created_at: datetime
    wished_start: date | None = None
    """The start the customer asked for; activation waits until then (R-BIL-5)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredContract:
    """A contract (subscription) for one booked product."""

    id: int
    order_id: int
    line_no: int
    account_id: int
    catalogue_version: str
    product_code: str
    plan_code: str
    booking: BookingType
    state: ContractState
    start_day: date | None
    paid_periods: int
    ended_on: date | None
    power_w: int | None
    language: str
    voucher_code: str | None
    buyer: str
    """JSON of the buyer party as printed on documents."""
    vat_category: str
    vat_rate: str
    vat_note_de: str
    vat_note_en: str
    plant_id: int | None = None
    """The plant a monitoring licence is for."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDocument:
    """A finalised document: never updated after insert."""

    id: int
    kind: DocumentKind
    number: str
    account_id: int
    contract_id: int | None
    period: int | None
    item_kind: str | None
    preceding_id: int | None
    issue_date: date
    due_date: date | None
    net: int
    tax: int
    gross: int
    due: int
    payment_reference: str | None
    canonical: str
    sha256: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEntry:
    """One payment-account journal line."""

    id: int
    account_id: int
    kind: EntryKind
    amount: int
    overdraft_limit: int | None
    source_key: str
    document_id: int | None
    reference: str
    created_at: datetime
