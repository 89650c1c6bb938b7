"""The demo's money: a paid hub package with its invoice, and an open pro-forma.

Everything goes through the gateway's :class:`~cloud_gateway.billing.service.BillingService`
as a bank transfer would: the homeowner orders "Fernzugriff, 12 Monate" (single booking), the
money arrives with the pro-forma's RF reference, the order is activated (the package window
comes from the entitlement service), and the billing run issues the invoice. A second order
("Komfort, 6 Monate") stays unpaid, so its pro-forma is open. Every call carries a fixed
idempotency key: a second demo run finds the first one's results and books nothing again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from cloud_gateway.accounts.customer_rules import CustomerKind
from cloud_gateway.accounts.model import Account
from cloud_gateway.accounts.repository_customers import CustomerData, CustomerRepository
from cloud_gateway.billing.catalogue import BookingType
from cloud_gateway.billing.pricing import Buyer
from cloud_gateway.billing.rendering.view import DocumentKind, Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import Customer, OrderLine
from cloud_gateway.http.keys import BILLING, CONFIG
from cloud_gateway.server import RunningGateway
from simulator.bank import Booking, Movement, statement_xml

__all__ = ["DemoMoney", "ensure_demo_money"]

PAID = OrderLine(product="hub-remote", plan="12m", booking=BookingType.SINGLE)
OPEN = OrderLine(product="hub-comfort", plan="6m", booking=BookingType.SINGLE)


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoMoney:
    """Document numbers the demo prints."""

    invoice: str
    """The paid package's invoice."""
    open_proforma: str
    """The unpaid order's pro-forma."""
    statement: str = ""
    """A camt.053 file of the simulated bank that pays the open pro-forma (upload it or run
    ``cloud-gateway bank import``)."""


async def ensure_demo_money(gateway: RunningGateway, homeowner: Account) -> DemoMoney:
    """Book, pay and invoice the demo package; leave a second order's pro-forma open."""
    billing = gateway.runner.app[BILLING]
    repo = gateway.store.repo(BillingRepository)
    customer = Customer(
        account_id=homeowner.id,
        party=Party(
            name="Familie Demo",
            street="Sonnenallee 1",
            postcode="10117",
            city="Berlin",
            email=homeowner.email,
            customer_number=f"K{homeowner.id:06d}",
        ),
        buyer=Buyer(business=False, country="DE"),
    )
    await _ensure_customer_data(gateway, homeowner, customer)
    paid = await billing.place_order(customer, [PAID], key="demo:order:hub-remote")
    open_order = await billing.place_order(customer, [OPEN], key="demo:order:hub-comfort")
    async with repo.transaction() as conn:
        found = await repo.documents(conn, contract_id=paid["contract_ids"][0])
    [proforma] = [d for d in found if d.kind is DocumentKind.PROFORMA]
    await billing.record_payment(
        homeowner.id,
        proforma.gross,
        proforma.payment_reference or proforma.number,
        key="demo:bank-transfer:hub-remote",
    )
    await billing.activate(paid["order_id"], key="demo:activate:hub-remote")
    await billing.run(paid["contract_ids"])
    async with repo.transaction() as conn:
        issued = await repo.documents(conn, contract_id=paid["contract_ids"][0])
        [unpaid] = await repo.documents(conn, contract_id=open_order["contract_ids"][0])
    [invoice] = [d for d in issued if d.kind is DocumentKind.INVOICE]
    statement = gateway.runner.app[CONFIG].state_dir / "bank" / "camt053-open-proforma.xml"
    await asyncio.to_thread(_write_statement, statement, unpaid.gross, unpaid.payment_reference)
    return DemoMoney(invoice=invoice.number, open_proforma=unpaid.number, statement=str(statement))


def _write_statement(path: Path, amount: int, reference: str | None) -> None:
    """The simulated bank's statement with Familie Demo's transfer for the open pro-forma."""
    credit = Movement(amount=amount, name="Familie Demo", reference=reference or "",
                      end_to_end_id="DEMO-OPEN-PROFORMA")  # fmt: skip
    booking = Booking(movements=(credit,), reference="DEMO-1")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(statement_xml("08", [booking], statement_id="DEMO-1"))


async def _ensure_customer_data(
    gateway: RunningGateway, homeowner: Account, customer: Customer
) -> None:
    """The homeowner's customer data, so the shop's checkout can issue documents to them."""
    repo = gateway.store.repo(CustomerRepository)
    if await repo.get(homeowner.id) is not None:
        return
    party = customer.party
    await repo.save(
        CustomerData(
            account_id=homeowner.id,
            kind=CustomerKind.PRIVATE,
            name=party.name,
            street=party.street,
            postcode=party.postcode,
            city=party.city,
            country=customer.buyer.country,
            updated_at=homeowner.created_at,
        )
    )
