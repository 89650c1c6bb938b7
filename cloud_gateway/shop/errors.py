"""Errors of the shop's cart and checkout (named in :mod:`cloud_gateway.errors`' tree)."""

from __future__ import annotations

from enum import StrEnum

from cloud_gateway.errors import GatewayError

__all__ = ["CartError", "CartProblem"]


class CartProblem(StrEnum):
    """Why the cart refused a request; each has a text ``cart.problem.<value>``."""

    EMPTY = "empty"
    CHANGED = "changed"
    UNKNOWN_PRODUCT = "unknown_product"
    BOOKING_TYPE = "booking_type"
    METHOD = "method"
    NO_CUSTOMER = "no_customer"
    VOUCHER_UNKNOWN = "voucher_unknown"
    VOUCHER_INVALID = "voucher_invalid"
    VOUCHER_EXPIRED = "voucher_expired"
    VOUCHER_USED_UP = "voucher_used_up"
    VOUCHER_NOT_FOR_CART = "voucher_not_for_cart"
    SOLD_OUT = "sold_out"


class CartError(GatewayError, ValueError):
    """The cart cannot do what was asked; ``problem`` says why (shown in the user's language)."""

    def __init__(self, problem: CartProblem, detail: str = "") -> None:
        self.problem = problem
        super().__init__(f"{problem}: {detail}" if detail else str(problem))
