"""Cart rules (pure): prices as the pro-formas will have them, VAT per rate, vouchers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cloud_gateway.billing.catalogue import (
    BookingType,
    Catalogue,
    Family,
    PaymentMedium,
    PeriodUnit,
    Plan,
    Product,
    Text,
    load_catalogues,
)
from cloud_gateway.billing.money import VatCategory
from cloud_gateway.billing.pricing import Buyer, Voucher, VoucherKind
from cloud_gateway.shop.cart import (
    Cart,
    CartItem,
    CartQuote,
    check_voucher,
    payment_media,
    quote_cart,
)
from cloud_gateway.shop.errors import CartError, CartProblem

TODAY = date(2026, 3, 2)
GERMAN = Buyer(business=False, country="DE")
CATALOGUE = load_catalogues().effective(TODAY)


def _item(n: int, product: str, plan: str, booking: BookingType = BookingType.SINGLE) -> CartItem:
    return CartItem(id=n, product=product, plan=plan, booking=booking)


def _quote(
    items: list[CartItem], voucher: Voucher | None = None, catalogue: Catalogue = CATALOGUE
) -> CartQuote:
    return quote_cart(catalogue, items, buyer=GERMAN, voucher=voucher, language="de", today=TODAY)


def test_a_line_costs_its_plan_plus_german_vat() -> None:
    quote = _quote([_item(1, "hub-remote", "12m")])
    assert (quote.net, quote.discount, quote.tax, quote.gross) == (2500, 0, 475, 2975)
    assert [(s.category, s.rate, s.basis, s.tax) for s in quote.taxes] == [
        (VatCategory.STANDARD, Decimal(19), 2500, 475)
    ]


def test_vat_is_per_rate_on_each_documents_total_and_summed_per_rate() -> None:
    reduced = Product(
        code="hub-book",
        family=Family.HUB_PACKAGE,
        name=Text(de="Handbuch", en="Manual"),
        text=Text(de="x", en="x"),
        tax_rate="7",
        booking_types=(BookingType.SINGLE,),
        payment_media=(PaymentMedium.BANK_TRANSFER,),
        shop_released=True,
        plans=(
            Plan(code="1m", name=Text(de="a", en="a"), period_unit=PeriodUnit.MONTH,
                 period_length=1, amount="0.05"),
        ),
    )  # fmt: skip
    catalogue = Catalogue(
        version="t", effective_from="2026-01-01", products=(*CATALOGUE.products, reduced)
    )
    # 3.00 at 19 % and 0.05 at 7 % (0.0035 rounds to 0.00), 5.00 at 19 %
    quote = _quote(
        [_item(1, "hub-remote", "1m"), _item(2, "hub-book", "1m"), _item(3, "hub-comfort", "1m")],
        catalogue=catalogue,
    )
    by_rate = {s.rate: (s.basis, s.tax) for s in quote.taxes}
    assert by_rate == {Decimal(7): (5, 0), Decimal(19): (800, 57 + 95)}
    assert quote.gross == 357 + 5 + 595
    assert quote.tax == sum(line.tax for line in quote.lines)
    # bank transfer is the only method both products allow
    assert quote.payment_media == (PaymentMedium.BANK_TRANSFER,)


def test_percent_voucher_reduces_only_the_products_it_is_for() -> None:
    voucher = Voucher(
        code="CCU10", kind=VoucherKind.PERCENT, value=Decimal(10),
        products=frozenset({"hub-comfort"}),
    )  # fmt: skip
    items = [_item(1, "hub-remote", "12m"), _item(2, "hub-comfort", "12m")]
    quote = _quote(items, voucher)
    remote, comfort = quote.lines
    assert (remote.discount, remote.voucher_applies) == (0, False)
    assert (comfort.net, comfort.discount, comfort.tax, comfort.gross) == (4800, 480, 821, 5141)
    assert quote.gross == 2975 + 5141
    assert quote.discount == 480


def test_fixed_voucher_never_makes_a_line_negative() -> None:
    voucher = Voucher(code="FIVE", kind=VoucherKind.FIXED, value=Decimal(500))
    quote = _quote([_item(1, "hub-remote", "1m")], voucher)
    assert (quote.net, quote.discount, quote.gross) == (300, 300, 0)


def test_voucher_refusals_name_their_reason() -> None:
    items = [_item(1, "hub-remote", "12m")]
    expired = Voucher(
        code="OLD", kind=VoucherKind.PERCENT, value=Decimal(5), valid_until=date(2026, 3, 1)
    )
    with pytest.raises(CartError) as caught:
        check_voucher(expired, items, TODAY, uses=0)
    assert caught.value.problem is CartProblem.VOUCHER_EXPIRED
    check_voucher(expired, items, date(2026, 3, 1), uses=0)  # still valid on its last day

    once = Voucher(code="ONCE", kind=VoucherKind.PERCENT, value=Decimal(5), max_uses=1)
    check_voucher(once, items, TODAY, uses=0)
    with pytest.raises(CartError) as caught:
        check_voucher(once, items, TODAY, uses=1)
    assert caught.value.problem is CartProblem.VOUCHER_USED_UP
    # two lines redeem it twice: too many for a voucher left once
    with pytest.raises(CartError):
        check_voucher(once, [*items, _item(2, "hub-pro", "1m")], TODAY, uses=0)

    other = Voucher(
        code="PRO", kind=VoucherKind.PERCENT, value=Decimal(5), products=frozenset({"hub-pro"})
    )
    with pytest.raises(CartError) as caught:
        check_voucher(other, items, TODAY, uses=0)
    assert caught.value.problem is CartProblem.VOUCHER_NOT_FOR_CART


def test_hub_packages_are_paid_by_paypal_or_transfer() -> None:
    products = [CATALOGUE.product("hub-remote"), CATALOGUE.product("hub-pro")]
    assert payment_media(products) == (PaymentMedium.PAYPAL, PaymentMedium.BANK_TRANSFER)
    licence = CATALOGUE.product("plant-monitoring")
    assert PaymentMedium.CARD in payment_media([licence])


def test_unsold_booking_type_is_refused() -> None:
    with pytest.raises(CartError) as caught:
        _quote([_item(1, "plant-monitoring", "365d", BookingType.SUBSCRIPTION)])
    assert caught.value.problem is CartProblem.BOOKING_TYPE


def test_checkout_key_follows_content_and_revision() -> None:
    items = (_item(1, "hub-remote", "12m"),)
    cart = Cart(account_id=7, revision=3, voucher_code="", items=items)
    same = Cart(account_id=7, revision=3, voucher_code="", items=(_item(9, "hub-remote", "12m"),))
    assert cart.checkout_key() == same.checkout_key()
    assert (
        cart.checkout_key()
        != Cart(account_id=7, revision=4, voucher_code="", items=items).checkout_key()
    )
    assert (
        cart.checkout_key()
        != Cart(account_id=7, revision=3, voucher_code="X", items=items).checkout_key()
    )


def test_verified_eu_business_pays_no_german_vat() -> None:
    business = Buyer(business=True, country="AT", vat_id="ATU12345678", vat_verified=True)
    quote = quote_cart(
        CATALOGUE, [_item(1, "hub-pro", "12m")], buyer=business, voucher=None, language="en",
        today=TODAY,
    )  # fmt: skip
    assert [(s.category, s.tax) for s in quote.taxes] == [(VatCategory.REVERSE_CHARGE, 0)]
    assert quote.gross == quote.net == 8900
    unverified = Buyer(business=True, country="AT", vat_id="ATU12345678")
    assert _quote_for(unverified).gross == 10591


def _quote_for(buyer: Buyer) -> CartQuote:
    return quote_cart(
        CATALOGUE, [_item(1, "hub-pro", "12m")], buyer=buyer, voucher=None, language="de",
        today=TODAY,
    )  # fmt: skip
