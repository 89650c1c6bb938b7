"""Seed 004 check values, vouchers, reverse charge, and the VAT properties."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloud_gateway.billing.errors import VoucherError
from cloud_gateway.billing.money import VatCategory
from cloud_gateway.billing.pricing import Buyer, Voucher, VoucherKind, tax_treatment
from cloud_gateway.billing.rendering.view import (
    Allowance,
    BankAccount,
    DocumentKind,
    DocumentLine,
    DocumentView,
    Party,
)

SELLER = Party(name="Seller")
BANK = BankAccount(iban="DE02120300000000202051", holder="Seller")


def _view(
    lines: list[tuple[int, Decimal, VatCategory]], allowances: tuple[Allowance, ...] = ()
) -> DocumentView:
    return DocumentView(
        kind=DocumentKind.INVOICE,
        number="RE-1",
        issue_date=date(2026, 3, 1),
        seller=SELLER,
        seller_bank=BANK,
        buyer=Party(name="Buyer"),
        lines=tuple(
            DocumentLine(
                line_id=str(i), name="x", unit_price=net, net=net, vat_category=cat, vat_rate=rate
            )
            for i, (net, rate, cat) in enumerate(lines)
        ),
        allowances=allowances,
    )


def test_seed_004_setup_and_three_months() -> None:
    totals = _view(
        [(80000, Decimal(19), VatCategory.STANDARD), (3 * 33600, Decimal(19), VatCategory.STANDARD)]
    ).totals()
    assert (totals.tax_basis, totals.tax_total, totals.grand_total) == (180800, 34352, 215152)


def test_seed_004_one_month() -> None:
    totals = _view([(33600, Decimal(19), VatCategory.STANDARD)]).totals()
    assert (totals.tax_basis, totals.tax_total, totals.grand_total) == (33600, 6384, 39984)


def test_vat_is_on_totals_not_per_line() -> None:
    # 7 lines of 0.03: per line 0.0057 -> 0.01 each = 0.07; on the total 0.21 -> 0.0399 -> 0.04
    totals = _view([(3, Decimal(19), VatCategory.STANDARD)] * 7).totals()
    assert totals.tax_total == 4


def test_reverse_charge_only_for_verified_eu_businesses_abroad() -> None:
    rate = Decimal(19)
    austrian = Buyer(business=True, country="AT", vat_id="ATU12345678", vat_verified=True)
    treatment = tax_treatment(austrian, rate)
    assert (treatment.category, treatment.rate) == (VatCategory.REVERSE_CHARGE, Decimal(0))
    assert "ATU12345678" in treatment.note("de")
    assert "Reverse Charge" in treatment.note("de")
    assert "recipient" in treatment.note("en")
    for buyer in (
        Buyer(business=True, country="AT", vat_id="ATU12345678", vat_verified=False),
        Buyer(business=True, country="DE", vat_id="DE123456789", vat_verified=True),
        Buyer(business=False, country="AT"),
        Buyer(business=True, country="CH", vat_id="CHE123", vat_verified=True),
    ):
        plain = tax_treatment(buyer, rate)
        assert (plain.category, plain.rate, plain.note("de")) == (VatCategory.STANDARD, rate, "")


def test_percentage_voucher_for_two_periods_limited_to_a_product() -> None:
    voucher = Voucher(
        code="SAT10",
        kind=VoucherKind.PERCENT,
        value=Decimal(10),
        periods=2,
        products=frozenset({"satellite-uplink"}),
    )
    assert voucher.discount(product_code="satellite-uplink", period_index=0, net=180800) == 18080
    assert voucher.discount(product_code="satellite-uplink", period_index=1, net=33605) == 3361
    assert voucher.discount(product_code="satellite-uplink", period_index=2, net=33600) == 0
    assert voucher.discount(product_code="hub-pro", period_index=0, net=900) == 0


def test_fixed_voucher_never_exceeds_the_net_amount() -> None:
    voucher = Voucher(code="FIVE", kind=VoucherKind.FIXED, value=Decimal(500))
    assert voucher.discount(product_code="hub-remote", period_index=0, net=2500) == 500
    assert voucher.discount(product_code="hub-remote", period_index=0, net=300) == 300


def test_voucher_with_allowance_is_taxed_on_the_reduced_total() -> None:
    allowance = Allowance(reason="Gutschein SAT10", amount=18080)
    totals = _view(
        [(80000, Decimal(19), VatCategory.STANDARD), (100800, Decimal(19), VatCategory.STANDARD)],
        (allowance,),
    ).totals()
    assert (totals.tax_basis, totals.tax_total, totals.grand_total) == (162720, 30917, 193637)


def test_voucher_redemption_rules() -> None:
    voucher = Voucher(
        code="X",
        kind=VoucherKind.FIXED,
        value=Decimal(100),
        products=frozenset({"hub-pro"}),
        valid_until=date(2026, 3, 31),
        max_uses=2,
    )
    voucher.check_redeemable(product_code="hub-pro", day=date(2026, 3, 31), uses=1)
    with pytest.raises(VoucherError, match="expired"):
        voucher.check_redeemable(product_code="hub-pro", day=date(2026, 4, 1), uses=0)
    with pytest.raises(VoucherError, match="used up"):
        voucher.check_redeemable(product_code="hub-pro", day=date(2026, 3, 1), uses=2)
    with pytest.raises(VoucherError, match="not valid"):
        voucher.check_redeemable(product_code="hub-remote", day=date(2026, 3, 1), uses=0)


_RATES = st.sampled_from([Decimal(19), Decimal(7), Decimal(0)])
_LINES = st.lists(
    st.tuples(st.integers(min_value=0, max_value=10**8), _RATES), min_size=1, max_size=12
)


@given(_LINES)
def test_vat_is_rate_times_net_per_rate_rounded_half_up(lines: list[tuple[int, Decimal]]) -> None:
    view = _view([(net, rate, VatCategory.STANDARD) for net, rate in lines])
    totals = view.totals()
    for sub in totals.taxes:
        basis = sum(net for net, rate in lines if rate == sub.rate)
        expected = (Decimal(basis) * sub.rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        assert (sub.basis, sub.tax) == (basis, int(expected))
    assert totals.line_total == sum(net for net, _ in lines)
    assert totals.grand_total == totals.tax_basis + sum(t.tax for t in totals.taxes)
