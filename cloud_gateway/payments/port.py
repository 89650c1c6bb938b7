"""What the shop needs from payments: start paying an order, get where the buyer goes next.

The shop's checkout depends only on this port; this package implements it for
PayPal and the payment service provider's hosted page, and answers bank transfer without a
provider (the order page shows the pro-forma with its GiroCode and RF reference). Money
arriving later (webhook, provider notification, bank statement) activates the order in the
billing service, never here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cloud_gateway.billing.catalogue import PaymentMedium

__all__ = ["PaymentPort", "PaymentStart"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentStart:
    """Where the buyer goes after "Jetzt kaufen"."""

    #: the stored payment attempt (``None`` for bank transfer: nothing to start)
    payment_id: int | None
    #: the provider's hosted page (PayPal approval, PSP payment page); ``None``: the order page
    redirect_url: str | None


class PaymentPort(Protocol):
    """Starts the payment of a placed order with the buyer's chosen method."""

    async def start(
        self,
        *,
        order_id: int,
        account_id: int,
        method: PaymentMedium,
        return_url: str,
        cancel_url: str,
        key: str,
    ) -> PaymentStart:
        """Begin paying ``order_id`` (its open period-0 pro-formas, in full).

        ``return_url`` is where the provider's page sends the buyer after paying (the shop's
        order page), ``cancel_url`` where it sends a buyer who gives up (the cart). The same
        ``key`` (the checkout's idempotency key) returns the first call's result: a double
        click never starts a second payment.
        """
        ...
