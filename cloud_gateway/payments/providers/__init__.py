"""The one narrow interface every payment provider implements, and its messages.

A provider starts a payment (:meth:`PaymentProvider.create`: where the buyer goes), tells
the outcome when the buyer comes back (:meth:`PaymentProvider.complete`: PayPal captures
here) and turns a signed webhook or notification into a :class:`Notice`
(:meth:`PaymentProvider.notice`), refusing anything not signed by the provider. A provider
that takes subscriptions cancels one (:meth:`PaymentProvider.cancel_subscription`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Protocol

__all__ = [
    "CheckoutRequest",
    "Notice",
    "NoticeKind",
    "Outcome",
    "PaymentProvider",
    "RecurringPlan",
    "Started",
    "cents",
    "decimal_amount",
]


def decimal_amount(amount: int) -> str:
    """Cents as the decimal string providers expect (``2975`` → ``"29.75"``)."""
    return str((Decimal(amount) / 100).quantize(Decimal("0.01")))


def cents(value: str) -> int:
    """A provider's decimal string as cents (``"29.75"`` → ``2975``)."""
    return int((Decimal(value) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True, kw_only=True)
class RecurringPlan:
    """A subscription: the request's amount for the first period, then ``renewal_amount``."""

    product_code: str
    name: str
    period_unit: str
    period_length: int
    #: cents of every period after the first (the first costs the request's amount)
    renewal_amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutRequest:
    """Everything a provider needs to start taking ``amount`` cents."""

    payment_id: int
    amount: int
    currency: str
    reference: str
    description: str
    return_url: str
    cancel_url: str
    notify_url: str
    recurring: RecurringPlan | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Started:
    """The provider's id for the payment and its page for the buyer."""

    provider_id: str
    redirect_url: str


class NoticeKind(StrEnum):
    """What a provider says happened."""

    APPROVED = "approved"  # the buyer approved; the money is not taken yet (capture)
    PAID = "paid"
    PENDING = "pending"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # a subscription will not renew
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """The result of a payment as the provider reports it."""

    kind: NoticeKind
    #: the capture, sale or checkout id that identifies the money (the booking's key)
    money_id: str = ""
    amount: int = 0
    message: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """A verified webhook or notification."""

    event_id: str
    event_type: str
    #: the order, subscription or checkout id the payment row holds
    provider_id: str
    outcome: Outcome
    #: a subscription's cycle payment (renewal), not a one-off capture
    recurring: bool = False


class PaymentProvider(Protocol):
    """One payment provider, spoken to in its own protocol."""

    async def create(self, request: CheckoutRequest, *, idempotency_key: str) -> Started:
        """Start the payment; the same key returns the same provider payment."""
        ...

    async def complete(self, provider_id: str, *, idempotency_key: str) -> Outcome:
        """The buyer came back: take the money if needed and say what happened."""
        ...

    async def notice(self, headers: Mapping[str, str], body: bytes) -> Notice:
        """Verify and read a webhook; raises WebhookSignatureError unless signed."""
        ...

    async def cancel_subscription(self, provider_id: str, *, reason: str) -> None:
        """Stop a subscription's renewals; one cancelled or ended already counts as done.

        Raises ProviderError when the provider cannot be reached (ask again later),
        PaymentError when it takes no subscriptions.
        """
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
