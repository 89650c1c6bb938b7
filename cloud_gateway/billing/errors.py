"""Errors of the money core.

::

    GatewayError
    └── BillingError                                  a money rule refused a request
        ├── CatalogueError (ValueError)               a catalogue file is invalid (file, key)
        ├── UnknownProductError (LookupError)         no such product, plan or catalogue version
        ├── VoucherError (ValueError)                 a voucher is expired, used up or not
        │                                             valid for this product
        ├── SoldOutError                              the product's available quantity is booked
        ├── TransitionError                           a state machine refused an event
        ├── OverdraftError                            the payment account would go below its
        │                                             overdraft limit
        └── IdempotencyError                          a key was reused for another operation

Database errors stay :class:`~cloud_gateway.errors.StoreError` (mapped at the repository).
"""

from __future__ import annotations

from cloud_gateway.errors import GatewayError

__all__ = [
    "BillingError",
    "CatalogueError",
    "IdempotencyError",
    "OverdraftError",
    "SoldOutError",
    "TransitionError",
    "UnknownProductError",
    "VoucherError",
]


class BillingError(GatewayError):
    """Root of the money core's own errors."""


class CatalogueError(BillingError, ValueError):
    """A catalogue file is invalid; the message names the file and the key."""


class UnknownProductError(BillingError, LookupError):
    """No such catalogue version, product or plan."""


class VoucherError(BillingError, ValueError):
    """A voucher cannot be redeemed (expired, used up, not for this product)."""


class SoldOutError(BillingError):
    """Every available unit of the product is booked."""


class TransitionError(BillingError):
    """A state machine refused an event in the current state."""


class OverdraftError(BillingError):
    """The payment account would fall below its overdraft limit."""


class IdempotencyError(BillingError):
    """An idempotency key was reused for a different operation."""
