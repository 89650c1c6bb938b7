"""What the payments area stores: one attempt to pay an order through a provider."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["PaymentState", "Provider", "StoredPayment"]


class Provider(StrEnum):
    """Who takes the money."""

    PAYPAL = "paypal"
    PAYPAL_SUBSCRIPTION = "paypal_subscription"
    PSP = "psp"


class PaymentState(StrEnum):
    """Where an attempt stands.

    ::

        created ──provider answered──► pending ──money booked──► paid
                                          └──declined──► declined      (the order stays unpaid)
        paid (subscription) ──cancelled in PayPal──► cancelled         (renewal ends)
        pending/paid (subscription) ──account closed──► cancelling ──PayPal confirms──► cancelled

    ``cancelling`` is the durable request: until PayPal has confirmed the cancellation the
    payment service asks again (:meth:`PaymentService.retry_cancellations`).
    """

    CREATED = "created"
    PENDING = "pending"
    PAID = "paid"
    DECLINED = "declined"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredPayment:
    """One payment attempt."""

    id: int
    key: str
    account_id: int
    order_id: int
    provider: Provider
    provider_id: str | None
    state: PaymentState
    amount: int
    currency: str
    return_url: str
    cancel_url: str
    redirect_url: str | None
    message: str
    created_at: datetime
    updated_at: datetime
