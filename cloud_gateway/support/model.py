"""Tickets, their messages and attachments, repair orders and their states (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cloud_gateway.support.errors import RepairStateError

__all__ = [
    "REPAIR_STEPS",
    "Author",
    "RepairCategory",
    "RepairOrder",
    "RepairState",
    "StoredAttachment",
    "Ticket",
    "TicketMessage",
    "TicketStatus",
    "next_repair_state",
]


class TicketStatus(StrEnum):
    """Where a ticket stands: waiting for the operator, answered, or closed."""

    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class Author(StrEnum):
    """Who wrote a message."""

    CUSTOMER = "customer"
    OPERATOR = "operator"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredAttachment:
    """An attachment's facts (its bytes are read on their own)."""

    id: int
    message_id: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketMessage:
    """One message of a ticket."""

    id: int
    ticket_id: int
    author: Author
    body: str
    created_at: datetime
    attachments: tuple[StoredAttachment, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Ticket:
    """A customer's ticket."""

    id: int
    account_id: int
    subject: str
    status: TicketStatus
    created_at: datetime
    updated_at: datetime
    messages: tuple[TicketMessage, ...] = ()
    assignee_id: int | None = None
    """The staff member working on it; None: unassigned."""
    assignee: str = ""
    """The assignee's user name (empty when unassigned)."""


class RepairCategory(StrEnum):
    """The device categories of seed 002 §19."""

    AE_NEW = "ae_new"
    """AE Geräte (Neugeräte geliefert ab 01.01.2015)"""
    AE_REFU_OLD = "ae_refu_old"
    """AE / REFU Geräte (Neugeräte geliefert bis 31.12.2014)"""
    SIEMENS = "siemens"
    """Siemens Wechselrichter DE und Sinvert Controllbox"""
    OUT_OF_WARRANTY = "out_of_warranty"
    """AE / REFU / Siemens Gerätereparatur außerhalb der Gewährleistung"""


class RepairState(StrEnum):
    """submitted → in review → quoted → accepted → paid → done."""

    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    QUOTED = "quoted"
    ACCEPTED = "accepted"
    PAID = "paid"
    DONE = "done"


REPAIR_STEPS: tuple[RepairState, ...] = tuple(RepairState)


def next_repair_state(current: RepairState, wanted: RepairState) -> RepairState:
    """``wanted`` when it is the step after ``current`` (a re-quote stays allowed while quoted)."""
    index = REPAIR_STEPS.index(current)
    if wanted is RepairState.QUOTED and current in (RepairState.IN_REVIEW, RepairState.QUOTED):
        return wanted
    if index + 1 < len(REPAIR_STEPS) and REPAIR_STEPS[index + 1] is wanted:
        return wanted
    raise RepairStateError(f"a repair order cannot go from {current} to {wanted}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RepairOrder:
    """A repair order as filed, reviewed and quoted."""

    id: int
    account_id: int
    state: RepairState
    category: RepairCategory
    contact_name: str
    contact_email: str
    contact_phone: str
    device_model: str
    device_serial: str
    inverter_id: int | None
    monitoring: str
    fault: str
    settings: str
    review_note: str
    quote_net: int | None
    quote_text: str
    proforma_id: int | None
    created_at: datetime
    updated_at: datetime
