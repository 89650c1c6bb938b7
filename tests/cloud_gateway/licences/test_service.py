"""Ordering licences, power increases with their credit, renewal, on both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from cloud_gateway.accounts.customer_rules import CustomerKind, VatState
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.accounts.repository_customers import CustomerRepository
from cloud_gateway.billing.catalogue import BookingType, PaymentMedium
from cloud_gateway.billing.journal import EntryKind
from cloud_gateway.billing.model import StoredDocument
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import OrderLine, customer_from_data
from cloud_gateway.i18n import Language
from cloud_gateway.licences.eligibility import Refusal
from cloud_gateway.licences.errors import PaymentMethodError, PurchaseRefusedError, QuoteError
from cloud_gateway.licences.quote import LicenceTerm
from cloud_gateway.localdays import local_midnight
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.plants.activation import expected_code
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.plants.service import InverterRegistration
from tests.cloud_gateway.billing.rendering.test_document import page_texts
from tests.cloud_gateway.licences.conftest import Rig

D365 = LicenceTerm.DAYS_365


async def proformas(rig: Rig, order_id: int) -> list[StoredDocument]:
    repo = rig.store.repo(BillingRepository)
    async with repo.transaction() as conn:
        ids = {c.id for c in await repo.contracts(conn, order_id=order_id)}
        docs = await repo.documents(conn)
    return [d for d in docs if d.kind is DocumentKind.PROFORMA and d.contract_id in ids]


async def test_two_plants_in_one_order_with_the_contract_documents(rig: Rig) -> None:
    anna = await rig.account("anna")
    await rig.customer(anna)
    scheune = await rig.plant(anna, "Scheune", [4000, 6000])  # 10,000 W
    halle = await rig.plant(anna, "Halle", [6000, None])  # 26,000 W: unknown at 20 kW
    shown = await rig.licences.quote(anna.id, [scheune.id, halle.id], D365)
    assert (shown.net, shown.vat, shown.gross) == (13800, 2622, 16422)

    placed = await rig.licences.order(
        account_id=anna.id, plant_ids=[scheune.id, halle.id], term=D365,
        language=Language.DE, key="click-1",
    )  # fmt: skip
    again = await rig.licences.order(
        account_id=anna.id, plant_ids=[scheune.id, halle.id], term=D365,
        language=Language.DE, key="click-1",
    )  # fmt: skip
    assert again.order_id == placed.order_id  # a double click orders once

    repo = rig.store.repo(BillingRepository)
    async with repo.transaction() as conn:
        contracts = await repo.contracts(conn, order_id=placed.order_id)
        assert len(await repo.orders(conn, anna.id)) == 1
    assert [(c.product_code, c.plan_code, c.plant_id, c.power_w) for c in contracts] == [
        ("plant-monitoring", "365d", scheune.id, 10_000),
        ("plant-monitoring", "365d", halle.id, 26_000),
    ]
    # the pro-formas: one per licence, together the total shown before ordering
    assert sum(d.gross for d in await proformas(rig, placed.order_id)) == shown.gross

    outbox = await rig.store.repo(OutboxRepository).list_recent()
    (mail,) = [m for m in outbox if m.template == "licence_order"]
    assert mail.recipient == "anna@example.org"
    assert f"A-{placed.order_id}" in mail.subject
    assert "Scheune, Halle" in mail.body
    assert "164,22\xa0€" in mail.body
    (pdf,) = await rig.store.repo(OutboxRepository).attachments(mail.id)
    assert pdf.filename == f"Vertragsbedingungen-A-{placed.order_id}.pdf"
    (text,) = page_texts(pdf.data)
    assert "Vertragsbedingungen AE SiteLink Monitoring" in text
    assert "Halle" in text
    assert "26.000" in text
    assert "164,22" in text
    assert "Widerrufsbelehrung" in text  # a German consumer

    started = await rig.licences.pay(
        account_id=anna.id, order_id=placed.order_id, method=PaymentMedium.BANK_TRANSFER,
        return_url="https://x/shop/orders/1", cancel_url="https://x/", key="pay-1",
    )  # fmt: skip
    assert started.redirect_url is None  # bank transfer: on to the order page
    with pytest.raises(PaymentMethodError):  # not offered by the bank-transfer-only port
        await rig.licences.pay(
            account_id=anna.id, order_id=placed.order_id, method=PaymentMedium.CARD,
            return_url="https://x/", cancel_url="https://x/", key="pay-2",
        )  # fmt: skip


async def test_an_english_contract(rig: Rig) -> None:
    ben = await rig.account("ben")
    await rig.customer(ben, kind=CustomerKind.BUSINESS, country="CH")
    farm = await rig.plant(ben, "Farm", [12_000])
    placed = await rig.licences.order(
        account_id=ben.id, plant_ids=[farm.id], term=LicenceTerm.DAYS_730,
        language=Language.EN, key="k",
    )  # fmt: skip
    (doc,) = await proformas(rig, placed.order_id)
    assert doc.gross == 18921  # 159.00 + 19 % (a business outside the EU: German VAT)
    (mail,) = await rig.store.repo(OutboxRepository).list_recent()
    assert mail.subject.startswith(f"Your order A-{placed.order_id}")
    (pdf,) = await rig.store.repo(OutboxRepository).attachments(mail.id)
    (text,) = page_texts(pdf.data)
    assert "Contract terms" in text
    assert "Widerruf" not in text  # a business


@pytest.mark.parametrize(
    ("kind", "country", "vat_id", "state", "reason"),
    [
        (CustomerKind.BUSINESS, "AT", "ATU12345678", VatState.PENDING, Refusal.VAT_UNRESOLVED),
        (CustomerKind.PRIVATE, "FR", "", VatState.NONE, Refusal.CONSUMER_ABROAD),
        (CustomerKind.PRIVATE, "GR", "", VatState.NONE, Refusal.SERVICE_PARTNER),
        (CustomerKind.PRIVATE, "CH", "", VatState.NONE, Refusal.SERVICE_PARTNER),
        (None, "", "", VatState.NONE, Refusal.NO_CUSTOMER_DATA),
    ],
)
async def test_refused_purchases_book_nothing(
    rig: Rig,
    kind: CustomerKind | None,
    country: str,
    vat_id: str,
    state: VatState,
    reason: Refusal,
) -> None:
    cleo = await rig.account("cleo")
    if kind is not None:
        await rig.customer(cleo, kind=kind, country=country, vat_id=vat_id, vat_state=state)
    plant = await rig.plant(cleo, "Dach", [5000])
    assert await rig.licences.refusal(cleo.id) is reason
    with pytest.raises(PurchaseRefusedError) as caught:
        await rig.licences.order(
            account_id=cleo.id, plant_ids=[plant.id], term=D365, language=Language.DE, key="k"
        )
    assert caught.value.reason is reason
    repo = rig.store.repo(BillingRepository)
    async with repo.transaction() as conn:
        assert await repo.orders(conn, cleo.id) == []
    assert await rig.store.repo(OutboxRepository).list_recent() == []


async def paid_licence(rig: Rig, name: str, watts: list[int | None]) -> tuple[int, int, int]:
    """An account with a plant whose 365-day licence was ordered, paid and booked now."""
    owner = await rig.account(name)
    await rig.customer(owner)
    plant = await rig.plant(owner, "Scheune", watts)
    placed = await rig.licences.order(
        account_id=owner.id, plant_ids=[plant.id], term=D365, language=Language.DE, key="k"
    )
    (proforma,) = await proformas(rig, placed.order_id)
    assert proforma.payment_reference is not None
    await rig.billing.record_payment(
        owner.id, proforma.gross, proforma.payment_reference, key=f"bank:{proforma.id}"
    )
    # the payment activates the order: the licence window is booked in its transaction
    return owner.id, plant.id, proforma.gross


async def balance_and_credits(rig: Rig, account_id: int) -> tuple[int, list[int]]:
    repo = rig.store.repo(BillingRepository)
    async with repo.transaction() as conn:
        balance = await repo.balance(conn, account_id)
        journal = await repo.journal(conn, account_id)
    return balance, [e.amount for e in journal if e.kind is EntryKind.CREDIT]


async def test_power_increase_ends_the_licence_and_credits_the_rest_to_the_cent(
    rig: Rig,
) -> None:
    # paid 10 Feb 2026 10:00 Berlin: the licence covers 11 Feb 2026 .. 10 Feb 2027 (365 days)
    owner, plant_id, paid = await paid_licence(rig, "anna", [4000, 6000])
    assert paid == 5831
    assert (await rig.entitlements.plant_decision(plant_id, rig.clock.now())).entitled
    assert not await rig.licences.ended_by_power(
        await rig.store.repo(PlantRepository).get(plant_id, None)
    )

    # 31 Aug 2026: an inverter of unknown type is added: 30,000 W > 10,000 W licensed
    rig.clock.set(datetime(2026, 8, 31, 12, 0, tzinfo=UTC))
    added = await rig.store.repo(InverterRepository).add(
        plant_id=plant_id, account_id=owner, serial="NEW0001", name="", now=rig.clock.now()
    )
    assert added.nominal_power_w is None  # before its nameplate arrives: 20,000 W
    change = await rig.licences.check_power(plant_id)
    assert change.power_w == 30_000
    # 164 days left of 365 (31 Aug 2026 .. 10 Feb 2027): 58.31 * 164 / 365 = 26.1995... -> 26.20
    assert change.credited == 2620
    assert len(change.ended_window_ids) == 1
    assert change.offer is not None
    assert change.offer.gross == 10591  # 89.00 + 19 %: the tier of the new power, from today
    assert not (await rig.entitlements.plant_decision(plant_id, rig.clock.now())).entitled
    assert await balance_and_credits(rig, owner) == (2620, [2620])
    plant = await rig.store.repo(PlantRepository).get(plant_id, None)
    assert await rig.licences.ended_by_power(plant)  # the page says why and offers a new one
    # a new licence paid days later is counted from the increase (seed 002 §14)
    increase = rig.clock.now()
    rig.clock.advance(timedelta(days=3))
    assert await rig.licences.replacement_start(plant_id) == increase
    await rig.entitlements.buy_licence(
        plant_id=plant_id, account_id=owner, paid_at=rig.clock.now(), days=365,
        licensed_power_w=30_000, source="billing:contract:99", idempotency_key="new",
        start=await rig.licences.replacement_start(plant_id),
    )  # fmt: skip
    assert (await rig.entitlements.plant_decision(plant_id, increase)).entitled
    assert await rig.licences.replacement_start(plant_id) is None
    assert not await rig.licences.ended_by_power(plant)

    again = await rig.licences.check_power(plant_id)  # the new licence fits: nothing to do
    assert (again.credited, again.ended_window_ids, again.offer) == (0, (), None)
    assert await balance_and_credits(rig, owner) == (2620, [2620])


async def test_fees_asked_in_advance_change_nothing(rig: Rig) -> None:
    owner, plant_id, _ = await paid_licence(rig, "anna", [4000, 6000])
    rig.clock.set(local_midnight(date(2026, 3, 1)) + timedelta(hours=12))
    preview = await rig.licences.preview_power(owner, plant_id, [5000], D365)
    assert (preview.current_w, preview.new_w, preview.licensed_w) == (10_000, 15_000, 10_000)
    assert preview.exceeds
    # 347 days left (1 Mar 2026 .. 10 Feb 2027): 58.31 * 347 / 365 = 55.4344... -> 55.43
    assert (preview.quote.gross, preview.quote.credit, preview.quote.due) == (10591, 5543, 5048)
    unknown = await rig.licences.preview_power(owner, plant_id, [None], D365)
    assert unknown.new_w == 30_000
    assert (await rig.entitlements.plant_decision(plant_id, rig.clock.now())).entitled
    assert await balance_and_credits(rig, owner) == (0, [])
    windows = await rig.entitlements.plant_windows(plant_id)
    assert [w.ended_at for w in windows] == [None]


async def test_renewal_is_offered_exactly_from_day_minus_40(rig: Rig) -> None:
    _, plant_id, _ = await paid_licence(rig, "anna", [4000])
    plant = await rig.store.repo(PlantRepository).get(plant_id, None)
    # access ends at midnight starting 11 Feb 2027; "Lizenz erneuern" from 2 Jan 2027 on
    status_at = rig.licences.status
    day_41 = local_midnight(date(2027, 1, 2)) - timedelta(seconds=1)
    day_40 = local_midnight(date(2027, 1, 2))
    before = await status_at(plant, day_41)
    on = await status_at(plant, day_40)
    assert before.entitled
    assert not before.renew_offered
    assert on.entitled
    assert on.renew_offered
    assert on.last_day == date(2027, 2, 10)
    assert on.days_left == 40


async def test_a_corrected_configuration_below_the_licence_keeps_it(rig: Rig) -> None:
    owner, plant_id, _ = await paid_licence(rig, "anna", [4000, 6000])
    rig.clock.set(datetime(2026, 5, 4, 8, 0, tzinfo=UTC))
    plant = await rig.store.repo(PlantRepository).get(plant_id, None)
    (first, _second) = await rig.store.repo(InverterRepository).list_for_plant(plant_id, owner)
    account = await rig.store.repo(AccountRepository).get(owner)
    await rig.nameplate(account, first.serial, 3000)  # the agent resent a corrected nameplate
    await rig.licences.nameplates_changed(owner, [first.serial])
    assert (await rig.licences.plant_power(plant)).power_w == 9000
    assert (await rig.licences.status(plant)).entitled
    await rig.nameplate(account, first.serial, 5000)  # now above the 10,000 W licensed
    await rig.licences.nameplates_changed(owner, [first.serial])
    assert not (await rig.licences.status(plant)).entitled
    assert (await balance_and_credits(rig, owner))[1] != []


async def test_only_licensed_plants_are_listed_for_the_app(rig: Rig) -> None:
    owner, licensed_id, _ = await paid_licence(rig, "anna", [4000])
    account = await rig.store.repo(AccountRepository).get(owner)
    await rig.plant(account, "Ohne", [3000])  # its 40-day trial starts now, no licence
    plants = await rig.store.repo(PlantRepository).list_for_account(owner)
    assert len(await rig.licences.licensed_plants(plants)) == 2  # both within the trial
    rig.clock.advance(timedelta(days=41))
    assert [p.id for p in await rig.licences.licensed_plants(plants)] == [licensed_id]


async def test_an_inverter_registered_by_code_ends_an_exceeded_licence(rig: Rig) -> None:
    owner, plant_id, _ = await paid_licence(rig, "anna", [4000, 6000])
    registration = InverterRegistration(rig.store, rig.clock, key=b"test-key")
    registration.power_listeners.append(rig.licences.check_power)
    rig.clock.set(datetime(2026, 8, 31, 12, 0, tzinfo=UTC))
    await registration.add(
        account_id=owner,
        plant_id=plant_id,
        serial="SN-77",
        code=expected_code("SN-77", b"test-key"),
        source_address="192.0.2.1",
    )
    assert not (await rig.entitlements.plant_decision(plant_id, rig.clock.now())).entitled
    assert await balance_and_credits(rig, owner) == (2620, [2620])


async def test_a_credit_is_booked_once_per_key(rig: Rig) -> None:
    anna = await rig.account("anna")
    first = await rig.billing.credit(anna.id, 1598, "Restwert Lizenz Scheune", key="c:1")
    again = await rig.billing.credit(anna.id, 1598, "Restwert Lizenz Scheune", key="c:1")
    assert again == first
    assert await balance_and_credits(rig, anna.id) == (1598, [1598])


async def test_the_confirmation_is_sent_once_even_if_the_order_step_stopped_before_it(
    rig: Rig,
) -> None:
    anna = await rig.account("anna")
    await rig.customer(anna)
    scheune = await rig.plant(anna, "Scheune", [4000, 6000])
    data = await rig.store.repo(CustomerRepository).get(anna.id)
    assert data is not None
    # the order committed, then the process died before the mail (billing alone placed it)
    placed = await rig.billing.place_order(
        customer_from_data(data, "de"),
        [OrderLine(product="plant-monitoring", plan="365d", booking=BookingType.SINGLE,
                   power_w=10_000, plant_id=scheune.id)],
        key="licence-order:lost",
    )  # fmt: skip
    outbox = rig.store.repo(OutboxRepository)
    assert await outbox.list_recent() == []
    order_id = int(placed["order_id"])
    priced = await rig.licences.ensure_confirmation(anna.id, order_id)  # the pay page asks
    again = await rig.licences.ensure_confirmation(anna.id, order_id)
    assert priced == again
    assert priced.gross == 5831
    (mail,) = await outbox.list_recent()
    assert mail.subject.startswith(f"Ihre Bestellung A-{order_id}")
    (pdf,) = await outbox.attachments(mail.id)
    assert "10. Februar 2026" in page_texts(pdf.data)[0]  # the day it was ordered
    bert = await rig.account("bert")
    with pytest.raises(QuoteError):  # not bert's order
        await rig.licences.ensure_confirmation(bert.id, order_id)
