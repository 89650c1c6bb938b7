"""Activation on payment in one transaction: window, invoice and mail, or nothing at all."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from cloud_gateway.billing.activation import DOCUMENT_SOURCE
from cloud_gateway.billing.catalogue import BookingType
from cloud_gateway.billing.payments_bulk import Payment
from cloud_gateway.billing.service import OrderLine
from cloud_gateway.entitlements.windows import WindowKind
from cloud_gateway.notify.mail import Mail
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.plants.repository import PlantRepository
from tests.cloud_gateway.payments.conftest import Rig


class _BrokenOutbox(Outbox):
    """The mail cannot be queued: the activation's transaction must roll back entirely."""

    async def put(
        self, conn: Any, mail: Mail, *, now: datetime, dedup_key: str | None = None
    ) -> int | None:
        raise RuntimeError("outbox unavailable")


async def _proforma_reference(rig: Rig, order_id: int) -> tuple[int, str]:
    [proforma] = await rig.billing.open_proformas(order_id)
    return proforma.gross, proforma.payment_reference or ""


async def test_a_failure_inside_activation_leaves_nothing_and_the_retry_does_all_once(
    rig: Rig,
) -> None:
    order_id = await rig.place()
    gross, reference = await _proforma_reference(rig, order_id)
    working = rig.billing._activation._outbox
    rig.billing._activation._outbox = _BrokenOutbox(rig.store.repo(OutboxRepository))
    with pytest.raises(RuntimeError):
        await rig.billing.record_payment(rig.customer.account_id, gross, reference, key="bank-1")
    assert await rig.count("billing_journal") == 0
    assert await rig.count("billing_documents", "WHERE kind = 'invoice'") == 0
    assert await rig.packages() == 0
    assert await rig.order_state(order_id) == "confirmed"
    rig.billing._activation._outbox = working
    paid = await rig.billing.record_payment(rig.customer.account_id, gross, reference, key="bank-1")
    assert paid["activated"]
    await rig.exactly_once()
    async with rig.store.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.text(
                    "SELECT a.filename, a.content_type, a.source, length(a.data) "
                    "FROM notification_attachments a "
                    "JOIN notification_outbox o ON o.id = a.outbox_id "
                    "WHERE o.template = 'order_paid'"
                )
            )
        ).all()
    [(filename, content_type, source, stored_bytes)] = rows
    assert (filename.startswith("RE-"), content_type) == (True, "application/pdf")
    # the PDF is rendered when the mail is sent, from the finalised invoice (not stored here)
    [invoice_id] = await _invoice_ids(rig)
    assert (source, stored_bytes) == (f"{DOCUMENT_SOURCE}:{invoice_id}", 0)
    pdf = await rig.billing.rendered_document(str(invoice_id))
    assert pdf.startswith(b"%PDF-")


async def _invoice_ids(rig: Rig) -> list[int]:
    async with rig.store.engine.connect() as conn:
        query = sa.text("SELECT id FROM billing_documents WHERE kind = 'invoice'")
        return [int(i) for i in (await conn.execute(query)).scalars()]


async def test_a_paid_plant_licence_opens_the_plants_window(rig: Rig) -> None:
    plant = await rig.store.repo(PlantRepository).create(
        rig.customer.account_id, PlantFields(name="Scheune"), rig.clock.now()
    )
    line = OrderLine(
        product="plant-monitoring", plan="365d", booking=BookingType.SINGLE,
        power_w=9_800, plant_id=plant.id,
    )  # fmt: skip
    placed = await rig.billing.place_order(rig.customer, [line], key="licence-1")
    gross, reference = await _proforma_reference(rig, placed["order_id"])
    assert gross == 5831  # 49.00 net (up to 10 kW) + 19 % VAT
    await rig.billing.record_payment(rig.customer.account_id, gross, reference, key="bank-2")
    [window] = await rig.entitlements.plant_windows(plant.id)
    assert (window.kind, window.licensed_power_w) == (WindowKind.LICENCE, 9_800)
    assert (window.end - window.start).days == 365
    assert await rig.count("billing_documents", "WHERE kind = 'invoice'") == 1


async def test_a_standing_order_paying_the_renewal_extends_the_subscription(rig: Rig) -> None:
    order_id = await rig.place(BookingType.SUBSCRIPTION)
    gross, reference = await _proforma_reference(rig, order_id)
    await rig.billing.record_payment(rig.customer.account_id, gross, reference, key="so-1")
    recurring = await rig.billing.recurring(order_id)
    assert recurring is not None
    renewal = await rig.billing.next_renewal(recurring.contract_id)
    assert renewal is not None  # the billing run offered the next period at activation
    assert renewal.period == 1
    await rig.billing.record_payment(
        rig.customer.account_id, renewal.gross, renewal.payment_reference or "", key="so-2"
    )
    packages = sorted(
        (w for w in await rig.entitlements.account_windows(rig.customer.account_id)
         if w.kind is WindowKind.PACKAGE),
        key=lambda w: w.start,
    )  # fmt: skip
    assert len(packages) == 2
    assert packages[1].start == packages[0].end
    # the same money again (a statement imported twice) extends nothing
    await rig.billing.record_payment(
        rig.customer.account_id, renewal.gross, renewal.payment_reference or "", key="so-2"
    )
    assert await rig.packages() == 2


async def _two_licences(rig: Rig, key: str) -> tuple[int, list[int]]:
    """An order of two plant licences: two lines, two contracts, two period-0 pro-formas."""
    plants = [
        await rig.store.repo(PlantRepository).create(
            rig.customer.account_id, PlantFields(name=name), rig.clock.now()
        )
        for name in ("Scheune", "Stall")
    ]
    lines = [
        OrderLine(
            product="plant-monitoring",
            plan="365d",
            booking=BookingType.SINGLE,
            power_w=9_800,
            plant_id=plant.id,
        )
        for plant in plants
    ]
    placed = await rig.billing.place_order(rig.customer, lines, key=key)
    return int(placed["order_id"]), [p.id for p in plants]


async def _licensed(rig: Rig, plant_ids: list[int]) -> list[int]:
    return [p for p in plant_ids if await rig.entitlements.plant_windows(p)]


async def test_an_order_of_two_lines_is_paid_only_when_both_pro_formas_are_settled(
    rig: Rig,
) -> None:
    order_id, plants = await _two_licences(rig, "licences-2")
    first, second = await rig.billing.open_proformas(order_id)
    done = await rig.billing.record_payment(
        rig.customer.account_id, first.gross, first.payment_reference or "", key="bank-a"
    )
    assert done["settled_document_id"] == first.id
    assert not done["activated"]
    assert await rig.order_state(order_id) == "confirmed"  # not paid: one line still open
    assert [d.id for d in await rig.billing.open_proformas(order_id)] == [second.id]
    assert await _licensed(rig, plants) == []
    assert await rig.count("billing_documents", "WHERE kind = 'invoice'") == 0
    assert await rig.count("notification_outbox", "WHERE template = 'order_paid'") == 0
    done = await rig.billing.record_payment(
        rig.customer.account_id, second.gross, second.payment_reference or "", key="bank-b"
    )
    assert done["activated"]
    assert await rig.order_state(order_id) == "active"
    assert await _licensed(rig, plants) == plants
    assert await rig.count("billing_documents", "WHERE kind = 'invoice'") == 2
    assert await rig.count("notification_outbox", "WHERE template = 'order_paid'") == 1


async def test_a_bank_statement_paying_one_line_of_two_leaves_the_order_unpaid(rig: Rig) -> None:
    order_id, plants = await _two_licences(rig, "licences-3")
    proformas = await rig.billing.open_proformas(order_id)
    for n, (document, state) in enumerate(zip(proformas, ("confirmed", "active"), strict=True)):
        money = Payment(
            account_id=rig.customer.account_id,
            amount=document.gross,
            reference=document.payment_reference or "",
            key=f"stmt-{n}",
        )
        [result] = await rig.billing.record_payments([money])  # one statement per line
        assert result["settled_document_id"] == document.id
        assert await rig.order_state(order_id) == state
        assert await _licensed(rig, plants) == ([] if state == "confirmed" else plants)
