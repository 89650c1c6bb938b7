"""Tickets and repair orders: the customer's and the operator's steps, each in one transaction.

A mail to the customer (notify outbox) is written in the transaction of every operator answer
and every quote, so a rolled-back step sends nothing. Accepting a quote issues a bank-transfer
pro-forma through the billing service (idempotent: accepting twice gives the same pro-forma).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from cloud_gateway.accounts.model import Role
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.accounts.repository_customers import CustomerRepository
from cloud_gateway.billing.pricing import Buyer
from cloud_gateway.billing.rendering.labels import labels_for
from cloud_gateway.billing.rendering.view import Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService, Customer, customer_from_data
from cloud_gateway.errors import NotFoundError
from cloud_gateway.i18n import Language
from cloud_gateway.notify.mail import Mail, MailKind
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.store import Store, UnitOfWork
from cloud_gateway.support.attachments import MAX_ATTACHMENTS, Upload
from cloud_gateway.support.errors import AttachmentError, RepairStateError, TicketInputError
from cloud_gateway.support.model import (
    Author,
    RepairCategory,
    RepairOrder,
    RepairState,
    StoredAttachment,
    Ticket,
    TicketStatus,
    next_repair_state,
)
from cloud_gateway.support.repository import RepairRepository, TicketRepository
from tunnel.clock import Clock

__all__ = ["REPAIR_FIELDS", "RepairForm", "SupportService", "repair_number", "ticket_number"]

#: the repair form's fields; the first five are required
REPAIR_FIELDS: tuple[str, ...] = (
    "contact_name",
    "contact_email",
    "category",
    "device_serial",
    "fault",
    "contact_phone",
    "device_model",
    "inverter_id",
    "monitoring",
    "settings",
)
_REQUIRED = REPAIR_FIELDS[:5]
#: VAT on a quote (the pro-forma applies the customer's treatment)
_QUOTE_VAT = Decimal("0.19")


def ticket_number(ticket_id: int) -> str:
    """The number a customer quotes (``T-000042``)."""
    return f"T-{ticket_id:06d}"


def repair_number(repair_id: int) -> str:
    """The number of a repair order (``RA-000042``)."""
    return f"RA-{repair_id:06d}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RepairForm:
    """The repair form as parsed: every value a stripped string, the inverter an id or none."""

    values: Mapping[str, str]

    @classmethod
    def parse(cls, form: Mapping[str, object]) -> RepairForm:
        return cls(values={f: str(form.get(f, "") or "").strip() for f in REPAIR_FIELDS})

    def missing(self) -> tuple[str, ...]:
        missing = [f for f in _REQUIRED if not self.values[f]]
        if self.values["category"] and self.values["category"] not in set(RepairCategory):
            missing.append("category")
        if self.values["contact_email"] and "@" not in self.values["contact_email"]:
            missing.append("contact_email")
        inverter = self.values["inverter_id"]
        if inverter and not inverter.isdigit():
            missing.append("inverter_id")
        return tuple(dict.fromkeys(missing))


def quote_gross(net: int) -> int:
    """The quote's gross amount in cents (19 % VAT, half up)."""
    return net + int((Decimal(net) * _QUOTE_VAT).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class SupportService:
    """Tickets (customer and operator) and repair orders (file, review, quote, accept)."""

    def __init__(self, store: Store, outbox: Outbox, billing: BillingService, clock: Clock) -> None:
        self._store = store
        self._outbox = outbox
        self._billing = billing
        self._clock = clock

    # --- tickets ----------------------------------------------------------------------------
    @staticmethod
    def _check(subject: str | None, body: str, uploads: Sequence[Upload]) -> None:
        missing = [n for n, v in (("subject", subject), ("body", body)) if v is not None and not v]
        if missing:
            raise TicketInputError(tuple(missing))
        if len(uploads) > MAX_ATTACHMENTS:
            raise AttachmentError(f"{len(uploads)} attachments", reason="too_many")

    async def open_ticket(
        self, account_id: int, subject: str, body: str, uploads: Sequence[Upload] = ()
    ) -> int:
        """A new ticket with the customer's first message."""
        # one line: the subject becomes the mail's subject line
        subject, body = " ".join(subject.split())[:200], body.strip()
        self._check(subject, body, uploads)
        now = self._clock.now()
        async with self._store.transaction() as uow:
            repo = uow.repo(TicketRepository)
            ticket_id = await repo.insert_ticket(
                uow.connection, account_id=account_id, subject=subject, now=now
            )
            await repo.add_message(
                uow.connection,
                ticket_id=ticket_id,
                author=Author.CUSTOMER,
                body=body,
                uploads=uploads,
                now=now,
            )
        return ticket_id

    @asynccontextmanager
    async def _post(
        self,
        ticket_id: int,
        account_id: int | None,
        author: Author,
        body: str,
        uploads: Sequence[Upload],
    ) -> AsyncIterator[tuple[UnitOfWork, Ticket, datetime]]:
        """Add a message and set the status it leads to; the block joins the transaction."""
        self._check(None, body, uploads)
        now = self._clock.now()
        status = TicketStatus.OPEN if author is Author.CUSTOMER else TicketStatus.ANSWERED
        async with self._store.transaction() as uow:
            repo = uow.repo(TicketRepository)
            ticket = await repo.ticket_row(uow.connection, ticket_id, account_id)
            await repo.add_message(
                uow.connection, ticket_id=ticket_id, author=author, body=body, uploads=uploads,
                now=now,
            )  # fmt: skip
            await repo.set_status(uow.connection, ticket_id, status, now)
            yield uow, ticket, now

    async def reply(
        self, account_id: int, ticket_id: int, body: str, uploads: Sequence[Upload] = ()
    ) -> None:
        """The customer's reply: the ticket is open again (also a closed one)."""
        async with self._post(ticket_id, account_id, Author.CUSTOMER, body.strip(), uploads):
            pass

    async def answer(
        self, ticket_id: int, body: str, *, base_url: str, uploads: Sequence[Upload] = ()
    ) -> None:
        """The operator's answer: the ticket is answered and the customer gets a mail."""
        body = body.strip()
        async with self._post(ticket_id, None, Author.OPERATOR, body, uploads) as (
            uow,
            ticket,
            now,
        ):
            account = await uow.repo(AccountRepository).get(ticket.account_id)
            await self._outbox.put(
                uow.connection,
                Mail(
                    to=account.email,
                    kind=MailKind.TICKET_ANSWER,
                    language=_language(account.language),
                    params={
                        "username": account.username,
                        "number": ticket_number(ticket_id),
                        "subject": ticket.subject,
                        "body": body,
                        "link": f"{base_url}portal/tickets/{ticket_id}",
                    },
                ),
                now=now,
            )
        self._outbox.wake()

    async def close(self, ticket_id: int, account_id: int | None) -> None:
        """Close the ticket (the customer's own, or any for the operator)."""
        now = self._clock.now()
        async with self._store.transaction() as uow:
            repo = uow.repo(TicketRepository)
            await repo.ticket_row(uow.connection, ticket_id, account_id)
            await repo.set_status(uow.connection, ticket_id, TicketStatus.CLOSED, now)

    async def ticket(self, ticket_id: int, account_id: int | None) -> Ticket:
        return await self._store.repo(TicketRepository).ticket(ticket_id, account_id)

    async def tickets(
        self,
        account_id: int | None,
        status: TicketStatus | None = None,
        *,
        assignee: int | None = None,
        unassigned: bool = False,
    ) -> list[Ticket]:
        return await self._store.repo(TicketRepository).tickets(
            account_id, status=status, assignee=assignee, unassigned=unassigned
        )

    async def assign(self, ticket_id: int, assignee_id: int | None) -> Ticket:
        """Give the ticket to an operator (``None``: back to the unassigned queue).

        Raises :class:`TicketInputError` (``assignee``) when the account is not an operator.
        """
        async with self._store.transaction() as uow:
            repo = uow.repo(TicketRepository)
            await repo.ticket_row(uow.connection, ticket_id, None)
            if assignee_id is not None:
                staff = await uow.repo(AccountRepository).get(assignee_id)
                if staff.role is not Role.OPERATOR:
                    raise TicketInputError(("assignee",))
            await repo.assign(uow.connection, ticket_id, assignee_id)
            return await repo.ticket_row(uow.connection, ticket_id, None)

    async def attachment(
        self, attachment_id: int, account_id: int | None
    ) -> tuple[StoredAttachment, bytes]:
        return await self._store.repo(TicketRepository).attachment(attachment_id, account_id)

    # --- repair orders ----------------------------------------------------------------------
    async def file_repair(self, account_id: int, form: RepairForm) -> int:
        """A repair order as the customer filed it; the inverter must be one of his plants'."""
        missing = form.missing()
        if missing:
            raise TicketInputError(missing)
        v = form.values
        inverter_id = int(v["inverter_id"]) if v["inverter_id"] else None
        if inverter_id is not None:
            try:
                await self._store.repo(InverterRepository).get(inverter_id, account_id)
            except NotFoundError:
                raise TicketInputError(("inverter_id",)) from None
        now = self._clock.now()
        async with self._store.transaction() as uow:
            return await uow.repo(RepairRepository).insert(
                uow.connection,
                account_id=account_id,
                state=RepairState.SUBMITTED.value,
                category=v["category"],
                contact_name=v["contact_name"][:200],
                contact_email=v["contact_email"][:320],
                contact_phone=v["contact_phone"][:64],
                device_model=v["device_model"][:200],
                device_serial=v["device_serial"][:100],
                inverter_id=inverter_id,
                monitoring=v["monitoring"],
                fault=v["fault"],
                settings=v["settings"],
                created_at=now,
                updated_at=now,
            )

    async def inverter_choices(self, account_id: int) -> list[tuple[int, str]]:
        """The account's inverters for the form: ``(id, "plant · inverter (serial)")``."""
        choices = []
        for plant in await self._store.repo(PlantRepository).list_for_account(account_id):
            inverters = await self._store.repo(InverterRepository).list_for_plant(
                plant.id, account_id
            )
            name = plant.fields.name
            choices += [(i.id, f"{name} · {i.name or i.serial} ({i.serial})") for i in inverters]
        return choices

    async def _step(
        self, repair_id: int, wanted: RepairState, account_id: int | None = None, **values: object
    ) -> RepairOrder:
        now = self._clock.now()
        async with self._store.transaction() as uow:
            repo = uow.repo(RepairRepository)
            repair = await repo.row(uow.connection, repair_id, account_id, lock=True)
            state = next_repair_state(repair.state, wanted)
            await repo.update(
                uow.connection, repair_id, state=state.value, updated_at=now, **values
            )
            return await repo.row(uow.connection, repair_id, account_id)

    async def review(self, repair_id: int, note: str) -> RepairOrder:
        """The operator starts the internal review."""
        return await self._step(repair_id, RepairState.IN_REVIEW, review_note=note.strip())

    async def quote(self, repair_id: int, net: int, text: str, *, base_url: str) -> RepairOrder:
        """The operator's quote (net cents); the customer gets a mail pointing to its PDF."""
        if net <= 0 or not text.strip():
            raise TicketInputError(("net",) if net <= 0 else ("text",))
        now = self._clock.now()
        async with self._store.transaction() as uow:
            repo = uow.repo(RepairRepository)
            repair = await repo.row(uow.connection, repair_id, None, lock=True)
            state = next_repair_state(repair.state, RepairState.QUOTED)
            await repo.update(
                uow.connection,
                repair_id,
                state=state.value,
                quote_net=net,
                quote_text=text.strip(),
                updated_at=now,
            )
            account = await uow.repo(AccountRepository).get(repair.account_id)
            language = _language(account.language)
            await self._outbox.put(
                uow.connection,
                Mail(
                    to=account.email,
                    kind=MailKind.REPAIR_QUOTE,
                    language=language,
                    params={
                        "username": account.username,
                        "number": repair_number(repair_id),
                        "serial": repair.device_serial,
                        "amount": labels_for(language.value).money(quote_gross(net)),
                        "link": f"{base_url}portal/repairs/{repair_id}",
                    },
                ),
                now=now,
            )
            updated = await repo.row(uow.connection, repair_id, None)
        self._outbox.wake()
        return updated

    async def accept(self, account_id: int, repair_id: int, language: str = "de") -> RepairOrder:
        """The customer accepts the quote: a bank-transfer pro-forma is issued (once)."""
        repair = await self._store.repo(RepairRepository).get(repair_id, account_id)
        if repair.state is RepairState.ACCEPTED and repair.proforma_id is not None:
            return repair
        if repair.state is not RepairState.QUOTED or repair.quote_net is None:
            raise RepairStateError(f"repair order {repair_id} is {repair.state}")
        data = await self._store.repo(CustomerRepository).get(account_id)
        customer = (
            customer_from_data(data, language)
            if data is not None
            else _contact_customer(repair, language)
        )
        title = "Reparatur" if language == "de" else "Repair"
        issued = await self._billing.service_proforma(
            customer,
            name=f"{title} {repair_number(repair_id)}",
            description=f"{repair.device_model} {repair.device_serial}: {repair.quote_text}"[:500],
            net=repair.quote_net,
            reference=repair_number(repair_id),
            key=f"repair-accept:{repair_id}",
        )
        proforma_id = int(issued["document_id"])
        try:
            return await self._step(
                repair_id, RepairState.ACCEPTED, account_id, proforma_id=proforma_id
            )
        except RepairStateError:
            # a concurrent acceptance came first: it holds the same (idempotent) pro-forma
            now = await self.repair(repair_id, account_id)
            if now.proforma_id != proforma_id:
                raise
            return now

    async def mark(self, repair_id: int, state: RepairState) -> RepairOrder:
        """The operator's later steps: paid (only once the pro-forma is settled), done."""
        if state not in (RepairState.PAID, RepairState.DONE):
            raise RepairStateError(f"the operator cannot set {state}")
        if state is RepairState.PAID:
            repair = await self.repair(repair_id, None)
            billing = self._store.repo(BillingRepository)
            async with billing.transaction() as conn:
                settled = repair.proforma_id is not None and await billing.is_settled(
                    conn, repair.proforma_id
                )
            if not settled:
                raise RepairStateError(f"the pro-forma of repair order {repair_id} is not paid")
        return await self._step(repair_id, state)

    async def repair(self, repair_id: int, account_id: int | None) -> RepairOrder:
        return await self._store.repo(RepairRepository).get(repair_id, account_id)

    async def repairs(self, account_id: int | None) -> list[RepairOrder]:
        return await self._store.repo(RepairRepository).list(account_id)


def _language(value: str) -> Language:
    return Language.EN if value == "en" else Language.DE


def _contact_customer(repair: RepairOrder, language: str) -> Customer:
    """A private buyer from the repair form's contact data (no customer data stored)."""
    return Customer(
        account_id=repair.account_id,
        party=Party(
            name=repair.contact_name,
            customer_number=f"K{repair.account_id:06d}",
            email=repair.contact_email,
        ),
        buyer=Buyer(business=False, country="DE"),
        language=language,
    )
