"""Bank transfer as the shop's only payment method until the providers are wired in.

Implements :class:`cloud_gateway.payments.port.PaymentPort`: nothing is started anywhere, the
buyer goes to the order page, which shows the pro-forma with its GiroCode and RF reference.
The money arrives later on the bank account and is matched there. Other methods are refused,
so the shop never pretends to have started a PayPal or card payment it cannot make.
"""

from __future__ import annotations

from cloud_gateway.billing.catalogue import PaymentMedium
from cloud_gateway.payments.port import PaymentStart
from cloud_gateway.shop.errors import CartError, CartProblem

__all__ = ["BankTransferOnly"]


class BankTransferOnly:
    """A :class:`~cloud_gateway.payments.port.PaymentPort` that knows only bank transfer."""

    #: the methods this port can start (the shop offers no other)
    methods = frozenset({PaymentMedium.BANK_TRANSFER})

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
        """Bank transfer: nothing to start; any other method is refused."""
        del order_id, account_id, return_url, cancel_url, key
        if method is not PaymentMedium.BANK_TRANSFER:
            raise CartError(CartProblem.METHOD, f"{method} is not available")
        return PaymentStart(payment_id=None, redirect_url=None)
