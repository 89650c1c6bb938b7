"""A payment port that only knows bank transfer (until the payment providers are wired).

Bank transfer needs no provider: the buyer goes on to the order page, which shows the
pro-forma with its GiroCode and RF reference; the bank import later matches the money. Every
other method is refused with :class:`PaymentMethodError`, so the page can say so clearly.
"""

from __future__ import annotations

from cloud_gateway.billing.catalogue import PaymentMedium
from cloud_gateway.licences.errors import PaymentMethodError
from cloud_gateway.payments.port import PaymentStart

__all__ = ["BankTransferOnly"]


class BankTransferOnly:
    """:class:`~cloud_gateway.payments.port.PaymentPort` for bank transfer alone."""

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
        """Nothing to start for a transfer; other methods are not available here."""
        del order_id, account_id, return_url, cancel_url, key  # nothing to remember
        if method is not PaymentMedium.BANK_TRANSFER:
            raise PaymentMethodError(f"{method} is not available")
        return PaymentStart(payment_id=None, redirect_url=None)
