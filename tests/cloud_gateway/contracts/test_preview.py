"""The pure contract preview and termination rules with literal values, and the preview CLI."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cloud_gateway.billing.catalogue import BookingType, load_catalogues
from cloud_gateway.billing.errors import BillingError
from cloud_gateway.billing.money import VatCategory
from cloud_gateway.billing.preview import preview_contract
from cloud_gateway.billing.pricing import TaxTreatment
from cloud_gateway.billing.run import ContractSnapshot
from cloud_gateway.billing.termination import day_share, terminate
from cloud_gateway.cli import main
from cloud_gateway.errors import StateError

SATELLITE = load_catalogues().version("2026-01").product("satellite-uplink")
GERMAN = TaxTreatment(category=VatCategory.STANDARD, rate=Decimal(19))


def _preview(start: date, **kw: object) -> dict[str, object]:
    result: dict[str, object] = preview_contract(
        SATELLITE,
        "monthly",
        start,
        tax=GERMAN,
        **kw,  # type: ignore[arg-type]
    ).as_json()
    return result


def _kinds(preview: dict[str, object]) -> list[tuple[str, str, str]]:
    docs = preview["documents"]
    assert isinstance(docs, list)
    return [(d["type"], d["date"], d["gross"]) for d in docs]


def test_day_share_is_half_up_to_the_cent() -> None:
    assert day_share(33600, 21, 31) == 22761  # 227.6129 -> 227.61
    assert day_share(33600, 31, 31) == 33600
    assert day_share(33600, 0, 31) == 0
    assert day_share(100, 1, 8) == 13  # 12.5 -> 13 (half up, never to even)
    with pytest.raises(ValueError, match="outside"):
        day_share(33600, 32, 31)


def test_regular_life_one_first_invoice_nine_pro_formas_nine_invoices() -> None:
    preview = _preview(date(2026, 3, 1))
    assert preview["service"] == {"start": "2026-03-01", "end": "2027-02-28"}
    kinds = _kinds(preview)
    assert kinds[:2] == [
        ("proforma", "2026-03-01", "2151.52"),  # the order: setup + 3 months
        ("invoice", "2026-03-01", "2151.52"),  # the first invoice, nothing due
    ]
    offers = [k for k in kinds[1:] if k[0] == "proforma"]
    invoices = [k for k in kinds[2:] if k[0] == "invoice"]
    assert (len(offers), len(invoices)) == (9, 9)
    assert offers[0] == ("proforma", "2026-05-01", "399.84")  # start of month 3 offers month 4
    assert offers[-1] == ("proforma", "2027-01-01", "399.84")  # month 11 offers month 12
    assert invoices[0] == ("invoice", "2026-06-01", "399.84")
    assert invoices[-1] == ("invoice", "2027-02-01", "399.84")
    docs = preview["documents"]
    assert isinstance(docs, list)
    assert {d["due"] for d in docs if d["type"] == "invoice"} == {"0.00"}
    assert docs[2]["period"] == ["2026-06-01", "2026-06-30"]
    assert preview["balance"] == "0.00"


def test_unpaid_month_four_ends_after_month_three() -> None:
    preview = _preview(date(2026, 3, 1), paid_months=3)
    assert preview["service"] == {"start": "2026-03-01", "end": "2026-05-31"}
    assert [k[0] for k in _kinds(preview)] == ["proforma", "invoice", "proforma"]
    assert preview["balance"] == "0.00"
    with pytest.raises(BillingError, match="never starts"):
        _preview(date(2026, 3, 1), paid_months=2)


def test_start_on_31_january_ends_months_on_the_last_day() -> None:
    preview = _preview(date(2026, 1, 31), paid_months=5)
    docs = preview["documents"]
    assert isinstance(docs, list)
    periods = [tuple(d["period"]) for d in docs if d["type"] == "invoice"]
    assert periods == [
        ("2026-01-31", "2026-04-30"),  # 31 Jan-28 Feb, 1-30 Mar, 31 Mar-30 Apr
        ("2026-05-01", "2026-05-30"),
        ("2026-05-31", "2026-06-30"),
    ]
    assert preview["service"] == {"start": "2026-01-31", "end": "2026-06-30"}


def test_termination_at_once_check_value_and_months_paid_ahead() -> None:
    # 11 May is the first unused day: 21 days of 336.00 over May's 31 days
    only_minimum = _preview(date(2026, 3, 1), paid_months=3, terminate=date(2026, 5, 11),
                            at_once=True)  # fmt: skip
    assert only_minimum["service"] == {"start": "2026-03-01", "end": "2026-05-10"}
    docs = only_minimum["documents"]
    assert isinstance(docs, list)
    assert docs[-1] == {
        "type": "credit_note", "date": "2026-05-11", "period": ["2026-05-11", "2026-05-31"],
        "net": "227.61", "vat": "43.25", "gross": "270.86", "due": "0.00",
    }  # fmt: skip
    assert only_minimum["balance"] == "270.86"
    # paying on: month 4's pro-forma was settled on 1 May and comes back in full
    paid_ahead = _preview(date(2026, 3, 1), terminate=date(2026, 5, 11), at_once=True)
    assert paid_ahead["balance"] == "670.70"  # 270.86 + 399.84


def test_termination_at_period_end_credits_months_not_begun() -> None:
    # inside the minimum term: months 2 and 3 were invoiced up front and are credited
    early = _preview(date(2026, 3, 1), terminate=date(2026, 3, 15))
    assert early["service"]["end"] == "2026-03-31"  # type: ignore[index]
    assert _kinds(early)[-1] == ("credit_note", "2026-03-15", "799.68")  # 672.00 + 127.68
    assert early["balance"] == "799.68"
    later = _preview(date(2026, 3, 1), terminate=date(2026, 7, 11))
    assert later["service"]["end"] == "2026-07-31"  # type: ignore[index]
    assert "credit_note" not in [k[0] for k in _kinds(later)]
    assert later["balance"] == "399.84"  # month 6 was paid ahead on 1 July


def test_overdraft_extends_without_payment_and_leaves_the_debt() -> None:
    preview = _preview(date(2026, 3, 1), paid_months=4, overdraft=True)
    assert preview["service"] == {"start": "2026-03-01", "end": "2027-02-28"}
    assert preview["balance"] == "-3198.72"  # months 5..12 settled from the account: 8 x 399.84
    nothing_paid = _preview(date(2026, 3, 1), paid_months=0, overdraft=True)
    assert nothing_paid["balance"] == "-5750.08"  # 2151.52 + 9 x 399.84


def test_terminate_refuses_before_the_start() -> None:
    c = ContractSnapshot(
        id=1, product=SATELLITE, plan=SATELLITE.plan("monthly"),
        booking=BookingType.SUBSCRIPTION, start=date(2026, 3, 1), paid_periods=3, tax=GERMAN,
    )  # fmt: skip
    with pytest.raises(StateError, match="after"):
        terminate(c, date(2026, 2, 1), at_once=True)
    stop = terminate(c, date(2026, 4, 1), at_once=True)  # first day of month 2: all of it
    assert (stop.end, stop.corrected_period, stop.ahead_from) == (date(2026, 3, 31), 0, 3)
    assert stop.credit_note is not None
    assert stop.credit_note.totals().tax_basis == 2 * 33600  # April and May


def test_cli_prints_the_one_json_object(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('[billing]\nseller_name = "Demo"\n')
    argv = ["contracts", "preview", "--config", str(config), "--product", "satellite-uplink",
            "--start", "2026-03-01"]  # fmt: skip
    assert main(argv) == 0
    regular = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert regular == _preview(date(2026, 3, 1))
    assert len(regular["documents"]) == 20
    assert main([*argv, "--paid-months", "3", "--terminate", "2026-05-11", "--at-once"]) == 0
    check = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert check["documents"][-1]["gross"] == "270.86"
    assert check["balance"] == "270.86"
    with pytest.raises(SystemExit):
        main([*argv, "--terminate", "2026-05-11"])  # needs --at-once or --period-end
    assert main([*argv, "--paid-months", "1"]) == 2
    assert "never starts" in capsys.readouterr().err


def test_the_satellite_product_carries_everything_seed_004_agrees() -> None:
    catalogue = load_catalogues().version("2026-01")
    p = SATELLITE
    assert (p.family.value, p.available_quantity, catalogue.currency, p.tax_rate) == (
        "service_contract", 50, "EUR", "19",
    )  # fmt: skip
    assert p.resource is not None
    assert (p.resource.provider, p.resource.prechecked) == ("satellite", ("latitude", "longitude"))
    assert {s.code: s.value for s in p.resource.settings if s.value}["band"] == "Ka"
    assert (p.min_periods, p.max_periods) == (3, 12)
    assert [m.value for m in p.payment_media] == ["bank_transfer"]
    assert [(r.code, r.name.de) for r in p.reservations] == [
        ("order_form", "Eingang Bestellformular")
    ]
    [setup] = p.one_time_fees
    [monthly] = p.plans
    assert (setup.net, setup.charging.value) == (80000, "prepaid")
    assert (monthly.price(), monthly.charging.value, monthly.period_unit.value) == (
        33600, "prepaid", "month",
    )  # fmt: skip
    assert p.shop_released
