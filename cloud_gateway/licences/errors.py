"""Errors of the monitoring licences.

::

    GatewayError
    └── LicenceError                              a licence rule refused a request
        ├── QuoteError (ValueError)               no price for this choice (term, plants)
        ├── PurchaseRefusedError (PermissionError) the customer may not buy a licence now
        │                                         (``reason``: VAT ID unresolved, consumer
        │                                         abroad, service partner, no customer data)
        ├── PaymentMethodError (ValueError)       the chosen payment method is not offered
        └── AgentOfflineError (ConnectionError)   no inverter agent of the plant has an open
                                                  tunnel, so nothing can be asked of it
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cloud_gateway.errors import GatewayError

if TYPE_CHECKING:
    from cloud_gateway.licences.eligibility import Refusal

__all__ = [
    "AgentOfflineError",
    "LicenceError",
    "PaymentMethodError",
    "PurchaseRefusedError",
    "QuoteError",
]


class LicenceError(GatewayError):
    """A licence rule refused a request."""


class QuoteError(LicenceError, ValueError):
    """No price for this choice (term, plants)."""


class PurchaseRefusedError(LicenceError, PermissionError):
    """The customer may not buy a licence now; ``reason`` says why (R-MON-3/4)."""

    def __init__(self, reason: Refusal) -> None:
        self.reason = reason
        super().__init__(f"licence purchase refused: {reason}")


class PaymentMethodError(LicenceError, ValueError):
    """The chosen payment method is not offered for licences (or not available here)."""


class AgentOfflineError(LicenceError, ConnectionError):
    """No inverter agent of the plant has an open tunnel."""
