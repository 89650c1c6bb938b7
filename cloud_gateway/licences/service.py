"""Monitoring licences: price, order, pay, power increases, the agent's configuration.

The shell around the pure rules (:mod:`.quote`, :mod:`.eligibility`):

- :meth:`LicenceService.quote` prices licences for plants of the buyer (their inverters'
  reported nominal powers; unknown types at 20,000 W) with the buyer's VAT treatment.
- :meth:`LicenceService.order` checks eligibility (R-MON-3/4), places one order with a line per
  plant through :meth:`BillingService.place_order` (idempotent by ``key``) and queues the
  order-confirmation mail with the contract documents (R-MON-11) in one transaction, deduplicated
  by the order. Access follows the payment (the payment side books the window).
- :meth:`LicenceService.pay` starts paying the order through the shop's payment port.
- :meth:`LicenceService.check_power` ends licences a new plant power exceeds and credits their
  remaining value to the payment account (R-MON-14); :meth:`LicenceService.preview_power` is the
  dry run ("Gebühren vorab erfragen") that changes nothing.
- :meth:`LicenceService.resend_configuration` asks the plant's inverter agents, through their
  open tunnels, to send their inverters' configuration again (R-MON-10).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cloud_gateway.accounts.customer_rules import CustomerKind
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.accounts.repository_customers import CustomerRepository
from cloud_gateway.billing.catalogue import PaymentMedium, Product
from cloud_gateway.billing.money import VatCategory
from cloud_gateway.billing.pricing import TaxTreatment, tax_treatment
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService, OrderLine, customer_from_data
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.entitlements.plant_rules import Credit, LicenceStatus, on_power_change
from cloud_gateway.entitlements.replacement import replacement_start
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.entitlements.windows import WindowKind
from cloud_gateway.i18n import Language
from cloud_gateway.licences.documents import contract_terms_pdf
from cloud_gateway.licences.eligibility import Refusal, purchase_refusal
from cloud_gateway.licences.errors import (
    AgentOfflineError,
    PaymentMethodError,
    PurchaseRefusedError,
    QuoteError,
)
from cloud_gateway.licences.quote import (
    LICENCE_PRODUCT,
    LicenceTerm,
    PlantPower,
    Quote,
    credit_cents,
    quote,
    standard_tax,
)
from cloud_gateway.licences.texts import money
from cloud_gateway.localdays import local_date
from cloud_gateway.notify.mail import Attachment, Mail, MailKind
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.payments.port import PaymentPort, PaymentStart
from cloud_gateway.plants.model import Plant
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.store import Store
from cloud_gateway.tunnels.registry import TunnelRegistry
from tunnel.clock import Clock

__all__ = ["LICENCE_METHODS", "LicenceService", "PlacedOrder", "PowerChange", "PowerPreview"]

_LOGGER = logging.getLogger(__name__)

#: how licences can be paid (seed 002 §12: the payment service provider; bank transfer too)
LICENCE_METHODS = (PaymentMedium.CARD, PaymentMedium.BANK_TRANSFER)
_CONTRACT = re.compile(r"billing:contract:(\d+)")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlacedOrder:
    """A licence order as placed."""

    order_id: int
    quote: Quote
    proforma_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerChange:
    """What a plant's new power did: licences ended, the credit booked, the offer."""

    power_w: int
    ended_window_ids: tuple[int, ...]
    credited: int
    """Cents credited to the payment account for the remaining value."""
    offer: Quote | None
    """A new licence for the new power from today (``None``: nothing ended)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerPreview:
    """The dry run: what adding inverters would cost (nothing is changed)."""

    current_w: int
    new_w: int
    licensed_w: int | None
    """The current licence's power (``None``: no running licence)."""
    exceeds: bool
    quote: Quote
    """A new licence for ``new_w``, with the old licence's remaining value credited."""


class LicenceService:
    """Orders monitoring licences and keeps them in line with the plants' power."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        billing: BillingService,
        entitlements: EntitlementService,
        payments: PaymentPort,
        methods: frozenset[PaymentMedium],
        outbox: Outbox,
        tunnels: TunnelRegistry,
    ) -> None:
        self._store = store
        self._clock = clock
        self._billing = billing
        self._entitlements = entitlements
        self._payments = payments
        self._methods = methods
        self._outbox = outbox
        self._tunnels = tunnels

    # -- questions ---------------------------------------------------------------------------

    def product(self) -> Product:
        """The licence product of the catalogue in force today."""
        day = local_date(self._clock.now())
        return self._billing.catalogues.effective(day).product(LICENCE_PRODUCT)

    async def plant_power(self, plant: Plant) -> PlantPower:
        """The plant's inverters as the price sees them."""
        found = await self._store.repo(InverterRepository).list_for_plant(
            plant.id, plant.account_id
        )
        return PlantPower(
            plant_id=plant.id,
            name=plant.fields.name,
            inverters=tuple(i.nominal_power_w or None for i in found),
        )

    async def _plants(self, account_id: int, plant_ids: Sequence[int]) -> list[PlantPower]:
        if not plant_ids:
            raise QuoteError("choose at least one plant")
        repo = self._store.repo(PlantRepository)
        return [await self.plant_power(await repo.get(pid, account_id)) for pid in plant_ids]

    async def refusal(self, account_id: int) -> Refusal | None:
        """Why ``account_id`` cannot buy a licence now (``None``: it can)."""
        return purchase_refusal(await self._store.repo(CustomerRepository).get(account_id))

    async def quote(
        self, account_id: int, plant_ids: Sequence[int], term: LicenceTerm, *, credit: int = 0
    ) -> Quote:
        """Price ``term`` licences for the account's plants (its VAT treatment if known)."""
        product = self.product()
        plants = await self._plants(account_id, plant_ids)
        data = await self._store.repo(CustomerRepository).get(account_id)
        tax = (
            tax_treatment(customer_from_data(data).buyer, product.vat_rate)
            if data is not None
            else standard_tax(product)
        )
        return quote(product, plants, term, tax, credit=credit)

    async def status(self, plant: Plant, at: datetime | None = None) -> LicenceStatus:
        """Entitled, end, days left, "Lizenz erneuern" offered (from 40 days before the end)."""
        return await self._entitlements.plant_status(
            plant.id, at or self._clock.now(), trial_started_at=plant.trial_started_at
        )

    async def replacement_start(self, plant_id: int, at: datetime | None = None) -> datetime | None:
        """Where a licence paid at ``at`` begins when it replaces one the plant's power ended:
        the instant of the increase (pass it as ``start`` to ``EntitlementService.buy_licence``);
        ``None`` otherwise."""
        windows = await self._entitlements.plant_windows(plant_id)
        return replacement_start(windows, at or self._clock.now())

    async def ended_by_power(self, plant: Plant, at: datetime | None = None) -> bool:
        """Whether the plant's access ended because its power outgrew its licence (R-MON-14)
        and nothing covers ``at`` since."""
        return await self.replacement_start(plant.id, at) is not None

    async def licensed_plants(self, plants: Sequence[Plant]) -> list[Plant]:
        """The plants with a valid trial or licence now (the app's list, R-MON-16)."""
        now = self._clock.now()
        return [p for p in plants if (await self.status(p, now)).entitled]

    # -- ordering ----------------------------------------------------------------------------

    async def order(
        self,
        *,
        account_id: int,
        plant_ids: Sequence[int],
        term: LicenceTerm,
        language: Language,
        key: str,
    ) -> PlacedOrder:
        """Order licences (one line per plant); the same ``key`` places one order only."""
        data = await self._store.repo(CustomerRepository).get(account_id)
        refused = purchase_refusal(data)
        if refused is not None or data is None:
            raise PurchaseRefusedError(refused or Refusal.NO_CUSTOMER_DATA)
        if language.value not in self.product().contract_languages:
            raise QuoteError(f"no contract in {language.value}")
        priced = await self.quote(account_id, plant_ids, term)
        lines = [
            OrderLine(
                product=LICENCE_PRODUCT,
                plan=term.value,
                booking=self.product().booking_types[0],
                power_w=line.plant.power_w,
                plant_id=line.plant.plant_id,
            )
            for line in priced.lines
        ]
        customer = customer_from_data(data, language.value)
        placed = await self._billing.place_order(customer, lines, key=f"licence-order:{key}")
        order_id = int(placed["order_id"])
        ordered = await self.ensure_confirmation(account_id, order_id)
        return PlacedOrder(
            order_id=order_id,
            quote=ordered,
            proforma_ids=tuple(int(i) for i in placed["proforma_ids"]),
        )

    async def ordered(self, account_id: int, order_id: int) -> tuple[Quote, Language, datetime]:
        """The stored licence order as its quote (prices of its catalogue version, the powers
        and VAT treatment it was placed with), its contract language and when it was placed."""
        billing = self._store.repo(BillingRepository)
        async with billing.transaction() as conn:
            order = await billing.order(conn, order_id)
            contracts = await billing.contracts(conn, order_id=order_id)
        if order.account_id != account_id or not contracts:
            raise QuoteError(f"order {order_id} is no licence order of this account")
        if any(c.product_code != LICENCE_PRODUCT for c in contracts):
            raise QuoteError(f"order {order_id} is not a licence order")
        first = contracts[0]
        product = self._billing.catalogues.version(first.catalogue_version).product(
            first.product_code
        )
        plants = self._store.repo(PlantRepository)
        powers = [
            PlantPower(
                plant_id=c.plant_id or 0,
                name=(await plants.get(c.plant_id, account_id)).fields.name if c.plant_id else "",
                inverters=(c.power_w,),
            )
            for c in contracts
        ]
        tax = TaxTreatment(category=VatCategory(first.vat_category), rate=Decimal(first.vat_rate))
        term = LicenceTerm.parse(first.plan_code)
        language = Language.EN if order.language == "en" else Language.DE
        return quote(product, powers, term, tax), language, order.created_at

    async def ensure_confirmation(self, account_id: int, order_id: int) -> Quote:
        """Queue the order-confirmation mail with the contract documents, once per order
        (deduplicated by the order: the order step and the payment page both ask, so a crash
        between the order's commit and the mail loses nothing); the order's quote."""
        priced, language, placed_at = await self.ordered(account_id, order_id)
        data = await self._store.repo(CustomerRepository).get(account_id)
        withdrawal = data is not None and data.kind is CustomerKind.PRIVATE and data.country == "DE"
        account = await self._store.repo(AccountRepository).get(account_id)
        now = self._clock.now()
        terms = contract_terms_pdf(
            order_id=order_id,
            quote=priced,
            language=language,
            day_of=local_date(placed_at),
            withdrawal=withdrawal,
        )
        name = "Vertragsbedingungen" if language is Language.DE else "Contract-terms"
        mail = Mail(
            to=account.email,
            kind=MailKind.LICENCE_ORDER,
            language=language,
            params={
                "username": account.username,
                "order": f"A-{order_id}",
                "plants": [line.plant.name for line in priced.lines],
                "days": priced.lines[0].term.days,
                "total": money(language, priced.gross),
            },
            attachments=(
                Attachment(
                    filename=f"{name}-A-{order_id}.pdf", content_type="application/pdf", data=terms
                ),
            ),
        )
        async with self._store.database.begin() as conn:
            queued = await self._outbox.put(
                conn, mail, now=now, dedup_key=f"licence-order:{order_id}"
            )
        if queued is not None:
            self._outbox.wake()
        return priced

    def payment_methods(self) -> list[PaymentMedium]:
        """The methods a licence can be paid by here: the provider's page (card, online
        transfer) and bank transfer, as far as the payment port can start them."""
        offered = self.product().payment_media
        return [m for m in LICENCE_METHODS if m in self._methods and m in offered]

    async def pay(
        self,
        *,
        account_id: int,
        order_id: int,
        method: PaymentMedium,
        return_url: str,
        cancel_url: str,
        key: str,
    ) -> PaymentStart:
        """Start paying the account's licence order through the payment port."""
        if method not in self.payment_methods():
            raise PaymentMethodError(f"licences cannot be paid by {method} here")
        billing = self._store.repo(BillingRepository)
        async with billing.transaction() as conn:
            order = await billing.order(conn, order_id)
        if order.account_id != account_id:
            raise QuoteError(f"order {order_id} is not this account's")
        return await self._payments.start(
            order_id=order_id,
            account_id=account_id,
            method=method,
            return_url=return_url,
            cancel_url=cancel_url,
            key=f"licence-pay:{key}",
        )

    # -- power increases ----------------------------------------------------------------------

    async def _paid_gross(self, source: str, licensed_w: int, days: int) -> int:
        """What the licence behind window ``source`` cost (its period-0 pro-forma, gross)."""
        match = _CONTRACT.fullmatch(source)
        if match is not None:
            billing = self._store.repo(BillingRepository)
            async with billing.transaction() as conn:
                docs = await billing.documents(conn, contract_id=int(match.group(1)))
            paid = [d.gross for d in docs if d.kind is DocumentKind.PROFORMA and d.period == 0]
            if paid:
                return paid[0]
        product = self.product()  # no order behind it (operator, import): the list price
        term = LicenceTerm.parse(days)
        priced = quote(
            product,
            [PlantPower(plant_id=0, name="", inverters=(licensed_w,))],
            term,
            standard_tax(product),
        )
        return priced.gross

    async def _credit_value(self, credit: Credit) -> int:
        """The remaining value of a licence ended early, in cents (what it cost, pro rata)."""
        window = credit.window
        if window.licensed_power_w is None:
            return 0
        paid = await self._paid_gross(window.source, window.licensed_power_w, credit.total_days)
        return credit_cents(credit, paid)

    async def check_power(self, plant_id: int) -> PowerChange:
        """End licences the plant's power now exceeds; credit their remaining value.

        The credits are booked first, each keyed by its licence window, and the windows ended
        after: a crash in between repeats the same credits (booked once) and then ends them.
        """
        plant = await self._store.repo(PlantRepository).get(plant_id, None)
        power = (await self.plant_power(plant)).power_w
        now = self._clock.now()
        planned = on_power_change(await self._entitlements.plant_windows(plant.id), power, now)
        credited = 0
        for credit in planned.credits:
            amount = await self._credit_value(credit)
            if amount > 0 and credit.window.id is not None:
                await self._billing.credit(
                    plant.account_id,
                    amount,
                    f"Restwert Lizenz {plant.fields.name}",
                    key=f"licence-credit:window:{credit.window.id}",
                )
                credited += amount
        change = await self._entitlements.plant_power_changed(plant.id, power, now)
        offer = None
        if change.ended:
            offer = await self.quote(plant.account_id, [plant.id], LicenceTerm.DAYS_365)
            _LOGGER.info(
                "plant %d: %d W exceeds its licence; %d cents credited", plant.id, power, credited
            )
        return PowerChange(
            power_w=power,
            ended_window_ids=tuple(w.id for w in change.ended if w.id is not None),
            credited=credited,
            offer=offer,
        )

    async def nameplates_changed(self, account_id: int, serials: Sequence[str]) -> None:
        """An agent reported its inverters' configuration: check the plants concerned."""
        wanted = set(serials)
        for plant in await self._store.repo(PlantRepository).list_for_account(account_id):
            found = await self._store.repo(InverterRepository).list_for_plant(plant.id, account_id)
            if any(i.serial in wanted for i in found):
                await self.check_power(plant.id)

    async def preview_power(
        self,
        account_id: int,
        plant_id: int,
        added: Sequence[int | None],
        term: LicenceTerm,
    ) -> PowerPreview:
        """Gebühren vorab erfragen: the price after adding inverters; nothing is stored."""
        plant = await self._store.repo(PlantRepository).get(plant_id, account_id)
        current = await self.plant_power(plant)
        after = PlantPower(
            plant_id=plant.id, name=plant.fields.name, inverters=current.inverters + tuple(added)
        )
        now = self._clock.now()
        windows = await self._entitlements.plant_windows(plant.id)
        running = [
            w for w in windows if w.kind is WindowKind.LICENCE and w.start <= now < w.effective_end
        ]
        licensed = max((w.licensed_power_w or 0 for w in running), default=None)
        change = on_power_change(windows, after.power_w, now)  # pure: nothing is stored
        credit = sum([await self._credit_value(c) for c in change.credits])
        product = self.product()
        data = await self._store.repo(CustomerRepository).get(account_id)
        tax = (
            tax_treatment(customer_from_data(data).buyer, product.vat_rate)
            if data is not None
            else standard_tax(product)
        )
        return PowerPreview(
            current_w=current.power_w,
            new_w=after.power_w,
            licensed_w=licensed or None,
            exceeds=bool(change.ended),
            quote=quote(product, [after], term, tax, credit=credit),
        )

    # -- the agent ------------------------------------------------------------------------------

    async def resend_configuration(self, account_id: int, plant_id: int) -> int:
        """Ask the plant's inverter agents to resend its inverters' configuration.

        Sent as CONTROL ``resend_configuration`` (only this plant's serials) to every agent of
        the plant's owner with an open tunnel, on this node or on the node holding it
        (:meth:`TunnelRegistry.send_control`); returns how many were asked.
        Raises :class:`AgentOfflineError` when none is connected.
        """
        plant = await self._store.repo(PlantRepository).get(plant_id, account_id)
        found = await self._store.repo(InverterRepository).list_for_plant(
            plant.id, plant.account_id
        )
        devices = await self._store.repo(DeviceRepository).list_for_account(plant.account_id)
        body: dict[str, object] = {
            "type": "resend_configuration",
            "serials": sorted(i.serial for i in found),
        }
        asked = 0
        for device in devices:
            if device.kind is not DeviceKind.INVERTER_AGENT:
                continue
            # wherever the agent's tunnel is: another node is told through the fleet
            if await self._tunnels.send_control(device.id, body):
                asked += 1
        if not asked:
            raise AgentOfflineError(f"no inverter agent of plant {plant.id} is connected")
        return asked
