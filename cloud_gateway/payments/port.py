"""What the shop needs from payments: start paying an order, get where the buyer goes next.

The shop's checkout depends only on this port; this package implements it for
PayPal and the payment service provider's hosted page, and answers bank transfer without a
provider (the order page shows the pro-forma with its GiroCode and RF reference). Money
arriving later (webhook, provider notification, bank statement) activates the order in the
billing service, never here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from cloud_gateway.billing.catalogue import PaymentMedium
from cloud_gateway.store import UnitOfWork

__all__ = ["PaymentClaim", "PaymentPort", "PaymentStart", "StartedHook"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentStart:
    """Where the buyer goes after "Jetzt kaufen"."""

    #: the stored payment attempt (``None`` for bank transfer: nothing to start)
    payment_id: int | None
    #: the provider's hosted page (PayPal approval, PSP payment page); ``None``: the order page
    redirect_url: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentClaim:
    """A payment attempt claimed in the caller's transaction (:meth:`PaymentPort.claim`)."""

    #: the stored attempt (``None`` for bank transfer: nothing to start)
    payment_id: int | None
    #: where the buyer goes when no provider has to be asked (bank transfer, started before)
    answer: PaymentStart | None


#: runs in the transaction that stores the provider's answer (:meth:`PaymentPort.launch`)
StartedHook = Callable[[UnitOfWork, PaymentStart], Awaitable[None]]


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

    async def claim(
        self,
        unit: UnitOfWork,
        *,
        order_id: int,
        account_id: int,
        method: PaymentMedium,
        return_url: str,
        cancel_url: str,
        key: str,
        amount: int | None = None,
    ) -> PaymentClaim:
        """The first half of :meth:`start`, in the caller's transaction ``unit``.

        Reads what paying the order needs and claims the attempt under ``key`` (a retry
        finds it), so the order and its attempt commit together. No provider is asked: the
        caller commits, then :meth:`launch` does. ``amount``: the order's gross (cents) when
        the caller claims while placing the order, before its pro-formas are stored
        (``BillingService.place_order``'s ``placed``); otherwise it is read from them.
        """
        ...

    async def launch(
        self, claim: PaymentClaim, *, started: StartedHook | None = None
    ) -> PaymentStart:
        """The second half of :meth:`start`, after the claim committed: ask the provider
        (outside any transaction), then store its answer; ``started`` runs in that same
        transaction (the caller's own note of where the buyer went)."""
        ...
