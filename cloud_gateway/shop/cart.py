"""The cart's rules (pure): what is in it, what it costs, which voucher and payment apply.

A cart line becomes one contract of the order and one pro-forma (``BillingService.place_order``),
so the cart prices each line exactly as its pro-forma will: the billing core's first-document
draft (``run.initial_draft``) with the plan's price, the voucher as a document-level allowance
before tax and the VAT per rate on that document's totals. The cart's totals are the sums of
those documents, and its VAT breakdown per rate is the sum of theirs: what the cart shows is
what the buyer is asked to pay, to the cent.

Vouchers follow the billing core's rules (``pricing.Voucher``): a voucher that is valid for
none of the cart's products, expired or used up is refused with a reason; one valid for some
lines only reduces those. Payment methods: the products' ``payment_media`` in common; a hub
package is paid by PayPal or bank transfer (seed 000), cards are for what allows them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cloud_gateway.billing.catalogue import (
    BookingType,
    Catalogue,
    Family,
    PaymentMedium,
    Plan,
    Product,
)
from cloud_gateway.billing.errors import UnknownProductError, VoucherError
from cloud_gateway.billing.money import TaxSubtotal, VatCategory
from cloud_gateway.billing.pricing import Buyer, Voucher, tax_treatment
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.run import initial_draft
from cloud_gateway.billing.runner import snapshot_of
from cloud_gateway.shop.errors import CartError, CartProblem

__all__ = [
    "HUB_PACKAGE_MEDIA",
    "Cart",
    "CartItem",
    "CartQuote",
    "LineQuote",
    "applicable_lines",
    "check_line",
    "check_voucher",
    "payment_media",
    "quote_cart",
]

#: how hub packages are paid in the shop (seed 000: PayPal and Überweisung)
HUB_PACKAGE_MEDIA = (PaymentMedium.PAYPAL, PaymentMedium.BANK_TRANSFER)


@dataclass(frozen=True, slots=True, kw_only=True)
class CartItem:
    """One line: a product's plan (runtime) and booking type."""

    id: int
    product: str
    plan: str
    booking: BookingType


@dataclass(frozen=True, slots=True, kw_only=True)
class Cart:
    """An account's stored cart."""

    account_id: int
    #: grows with every change; part of the checkout key
    revision: int
    #: the redeemed voucher code, '' for none
    voucher_code: str
    items: tuple[CartItem, ...]

    def checkout_key(self) -> str:
        """The idempotency key of buying exactly this cart (content and revision)."""
        content = {
            "account": self.account_id,
            "revision": self.revision,
            "voucher": self.voucher_code,
            "items": sorted([i.product, i.plan, i.booking.value] for i in self.items),
        }
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
        return f"shop:checkout:{self.account_id}:{digest[:48]}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LineQuote:
    """A cart line priced like its pro-forma (cents)."""

    item: CartItem
    product: Product
    plan: Plan
    #: the plan's net price for the minimum term (plus one-time fees)
    net: int
    #: the voucher's allowance on this line (0 when it does not apply)
    discount: int
    tax: int
    gross: int
    #: whether the cart's voucher applies to this line
    voucher_applies: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CartQuote:
    """The priced cart."""

    lines: tuple[LineQuote, ...]
    voucher: Voucher | None
    #: VAT per category and rate, summed over the lines' documents
    taxes: tuple[TaxSubtotal, ...]
    net: int
    discount: int
    tax: int
    gross: int
    #: how this cart can be paid, in the order the shop offers them
    payment_media: tuple[PaymentMedium, ...]


def check_line(catalogue: Catalogue, product_code: str, plan: str, booking: BookingType) -> Product:
    """The product of a line the shop may sell; raises :class:`CartError`."""
    try:
        product = catalogue.product(product_code)
        product.plan(plan)
    except UnknownProductError as exc:
        raise CartError(CartProblem.UNKNOWN_PRODUCT, str(exc)) from exc
    if not product.shop_released:
        raise CartError(CartProblem.UNKNOWN_PRODUCT, f"{product_code} is not sold")
    if booking not in product.booking_types:
        raise CartError(CartProblem.BOOKING_TYPE, f"{product_code} as {booking}")
    return product


def applicable_lines(voucher: Voucher, items: Sequence[CartItem]) -> list[CartItem]:
    """The lines a voucher can reduce (its product limit)."""
    return [i for i in items if not voucher.products or i.product in voucher.products]


def _voucher_problem(voucher: Voucher, day: date) -> CartProblem:
    if voucher.valid_until is not None and day > voucher.valid_until:
        return CartProblem.VOUCHER_EXPIRED
    return CartProblem.VOUCHER_USED_UP


def check_voucher(voucher: Voucher, items: Sequence[CartItem], day: date, uses: int) -> None:
    """Can ``voucher`` be redeemed for this cart today, ``uses`` redemptions so far?

    Each line it applies to redeems it once, as the order will (one contract per line).
    Raises :class:`CartError` with the reason.
    """
    lines = applicable_lines(voucher, items)
    if items and not lines:
        raise CartError(CartProblem.VOUCHER_NOT_FOR_CART, voucher.code)
    for extra, item in enumerate(lines):
        try:
            voucher.check_redeemable(product_code=item.product, day=day, uses=uses + extra)
        except VoucherError as exc:
            raise CartError(_voucher_problem(voucher, day), str(exc)) from exc


def payment_media(products: Sequence[Product]) -> tuple[PaymentMedium, ...]:
    """The methods every product of the cart allows (hub packages: PayPal, bank transfer)."""
    offered = [PaymentMedium.PAYPAL, PaymentMedium.BANK_TRANSFER, PaymentMedium.CARD]
    for product in products:
        allowed = set(product.payment_media)
        if product.family is Family.HUB_PACKAGE:
            allowed &= set(HUB_PACKAGE_MEDIA)
        offered = [m for m in offered if m in allowed]
    return tuple(offered)


def _add_taxes(
    into: dict[tuple[VatCategory, Decimal], tuple[int, int]], taxes: Sequence[TaxSubtotal]
) -> None:
    for sub in taxes:
        key = (sub.category, sub.rate.normalize())
        basis, tax = into.get(key, (0, 0))
        into[key] = (basis + sub.basis, tax + sub.tax)


def quote_cart(
    catalogue: Catalogue,
    items: Sequence[CartItem],
    *,
    buyer: Buyer,
    voucher: Voucher | None,
    language: str,
    today: date,
    seller_country: str = "DE",
) -> CartQuote:
    """Price ``items`` as their pro-formas will be, for ``buyer`` (its VAT treatment)."""
    lines: list[LineQuote] = []
    taxes: dict[tuple[VatCategory, Decimal], tuple[int, int]] = {}
    applies = {i.id for i in applicable_lines(voucher, items)} if voucher else set()
    for item in items:
        product = check_line(catalogue, item.product, item.plan, item.booking)
        treatment = tax_treatment(buyer, product.vat_rate, seller_country)
        snapshot = snapshot_of(
            product=product, plan=item.plan, booking=item.booking, contract_id=0, start=None,
            paid=0, tax=treatment, language=language, power_w=None,
            voucher=voucher if item.id in applies else None, reference="",
        )  # fmt: skip
        totals = initial_draft(snapshot, DocumentKind.PROFORMA, today).totals()
        _add_taxes(taxes, totals.taxes)
        lines.append(
            LineQuote(
                item=item,
                product=product,
                plan=snapshot.plan,
                net=totals.line_total,
                discount=totals.allowance_total,
                tax=totals.tax_total,
                gross=totals.grand_total,
                voucher_applies=item.id in applies,
            )
        )
    return CartQuote(
        lines=tuple(lines),
        voucher=voucher,
        taxes=tuple(
            TaxSubtotal(category=category, rate=rate, basis=basis, tax=amount)
            for (category, rate), (basis, amount) in sorted(taxes.items())
        ),
        net=sum(x.net for x in lines),
        discount=sum(x.discount for x in lines),
        tax=sum(x.tax for x in lines),
        gross=sum(x.gross for x in lines),
        payment_media=payment_media([x.product for x in lines]),
    )
