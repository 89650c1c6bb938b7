"""The payment service: implements the shop's :class:`~cloud_gateway.payments.port.PaymentPort`.

It starts payments through a provider, books what providers report through the billing
service (never flipping access itself) and keeps one row per attempt. Every booking is keyed
by the provider's money id (capture, sale or checkout), so the return of the browser, the
webhook, its duplicates and redeliveries book the money exactly once; the billing service
activates the order in the same transaction (``BillingService.pay_order``).

A declined attempt is not the end: "Jetzt kaufen" again (the same checkout key) starts a fresh
attempt for the same order, keyed by the declined one (:func:`retry_key`), so concurrent clicks
still start one; after the retry's decline the next click starts the next, and so on.

Closing an account cancels its PayPal subscriptions at PayPal (:meth:`cancel_subscriptions`):
each is first marked ``cancelling`` in the database, then cancelled through the provider; one
PayPal does not answer for stays marked and is asked again by :meth:`run_cancellations` (a
background task) until PayPal confirms, so the closure never fails on PayPal.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from cloud_gateway.billing.catalogue import PaymentMedium
from cloud_gateway.billing.errors import BillingError, IdempotencyError
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService
from cloud_gateway.billing.states import OrderState
from cloud_gateway.config import PaymentsConfig
from cloud_gateway.errors import NotFoundError
from cloud_gateway.payments.errors import PaymentError, ProviderError
from cloud_gateway.payments.model import PaymentState, Provider, StoredPayment
from cloud_gateway.payments.port import PaymentClaim, PaymentStart, StartedHook
from cloud_gateway.payments.providers import (
    CheckoutRequest,
    Notice,
    NoticeKind,
    Outcome,
    PaymentProvider,
    RecurringPlan,
)
from cloud_gateway.payments.repository import PaymentRepository
from cloud_gateway.store import Store, UnitOfWork
from tunnel.clock import Clock

__all__ = ["CANCEL_RETRY", "FAULT_ENV", "PaymentService", "retry_key"]

_LOGGER = logging.getLogger(__name__)
#: test-only fault hook: ``after_capture`` kills the process when PayPal has taken the money
#: but nothing is booked yet, ``after_booking`` right after a webhook's booking committed
#: (before it is answered); the crash test proves the provider's redelivery heals both
FAULT_ENV = "CLOUDCONNECTOR_PAYMENTS_FAULT"


def _origin(url: str) -> str:
    """``scheme://host:port`` of an absolute URL (the shop's return page), else refused."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise PaymentError("no gateway_url configured and the return URL is not absolute")
    return f"{parts.scheme}://{parts.netloc}"


def _fault(point: str, outcome: Outcome) -> None:
    if os.environ.get(FAULT_ENV) == point and outcome.kind is NoticeKind.PAID:
        os.kill(os.getpid(), signal.SIGKILL)


_PAYPAL = (Provider.PAYPAL, Provider.PAYPAL_SUBSCRIPTION)
#: subscriptions that may still renew at PayPal (approved or awaiting approval)
_LIVE = (PaymentState.PENDING, PaymentState.PAID)
_ENDING = (PaymentState.CANCELLING, PaymentState.CANCELLED)
#: the outcomes :meth:`PaymentService._apply` writes
_BOOKED = (NoticeKind.PAID, NoticeKind.DECLINED)
#: how long a cancellation PayPal did not answer waits before it is asked again
CANCEL_RETRY = timedelta(minutes=5)


def _route_kinds(route: str) -> tuple[Provider, ...]:
    """The providers a webhook route books for (the first one verifies the notices)."""
    return _PAYPAL if route == "paypal" else (Provider.PSP,)


def retry_key(key: str, declined_id: int) -> str:
    """The key of the attempt that follows declined attempt ``declined_id`` of checkout ``key``.

    Unique by the declined attempt's id (the prefix only keeps it within the column).
    """
    return f"{key[:160]}:retry:{declined_id}"


async def _current(repo: PaymentRepository, key: str) -> StoredPayment | None:
    """The attempt checkout ``key`` stands for now: after declines, the latest retry."""
    payment = await repo.by_key(key)
    while payment is not None and payment.state is PaymentState.DECLINED:
        retry = await repo.by_key(retry_key(key, payment.id))
        if retry is None:
            break
        payment = retry
    return payment


@dataclass(frozen=True, slots=True, kw_only=True)
class _Claimed(PaymentClaim):
    """A claim whose provider still has to be asked (:meth:`PaymentService.launch`)."""

    provider: Provider
    request: CheckoutRequest


class PaymentService:
    """Starts payments, handles the buyer's return and the providers' webhooks."""

    def __init__(
        self,
        store: Store,
        billing: BillingService,
        clock: Clock,
        config: PaymentsConfig,
        *,
        providers: Mapping[Provider, PaymentProvider],
        gateway_url: str = "",
    ) -> None:
        self._store = store
        self._repo = store.repo(PaymentRepository)
        self._billing = billing
        self._clock = clock
        self._config = config
        self._providers = dict(providers)
        self._base = gateway_url.rstrip("/")

    @property
    def methods(self) -> frozenset[PaymentMedium]:
        """What the shop may offer: bank transfer, plus each configured provider's method."""
        offered = {PaymentMedium.BANK_TRANSFER}
        if Provider.PAYPAL in self._providers:
            offered.add(PaymentMedium.PAYPAL)
        if Provider.PSP in self._providers:
            offered.add(PaymentMedium.CARD)
        return frozenset(offered)

    async def close(self) -> None:
        """Close the providers' connections."""
        for provider in {id(p): p for p in self._providers.values()}.values():
            await provider.close()

    def _provider(self, kind: Provider) -> PaymentProvider:
        provider = self._providers.get(kind)
        if provider is None:
            raise PaymentError(f"payment provider {kind} is not configured")
        return provider

    async def _calling(self, kind: Provider) -> PaymentProvider:
        """The provider, about to be asked over the network: the request's shared read
        connection goes back to the pool first (ADR 0034)."""
        provider = self._provider(kind)
        await self._store.release_reads()
        return provider

    # --- PaymentPort -------------------------------------------------------------------------
    async def start(
        self,
        *,
        order_id: int,
        account_id: int,
        method: PaymentMedium,
        return_url: str,
        cancel_url: str,
        key: str,
    ) -> PaymentStart:
        """Begin paying the order's open period-0 pro-formas in full (see the port)."""
        async with self._store.transaction() as unit:
            claim = await self.claim(
                unit, order_id=order_id, account_id=account_id, method=method,
                return_url=return_url, cancel_url=cancel_url, key=key,
            )  # fmt: skip
        return await self.launch(claim)

    async def claim(
        self,
        unit: UnitOfWork,
        *,
        order_id: int,
        account_id: int,
        method: PaymentMedium,
        return_url: str,
        cancel_url: str,
        key: str,
        amount: int | None = None,
    ) -> PaymentClaim:
        """Read what paying needs and claim the attempt, in ``unit`` (see the port)."""
        repo = unit.repo(PaymentRepository)
        due = await self._billing.within(unit.repo(BillingRepository)).payment_due(order_id)
        if method not in due.media:
            raise PaymentError(f"order {order_id} cannot be paid by {method}")
        if method is PaymentMedium.BANK_TRANSFER:
            nothing = PaymentStart(payment_id=None, redirect_url=None)
            return PaymentClaim(payment_id=None, answer=nothing)
        proformas = due.proformas
        if any(d.account_id != account_id for d in proformas):
            raise NotFoundError(f"order {order_id} is not account {account_id}'s")
        if amount is None:
            amount = sum(d.gross for d in proformas)
        elif proformas or amount <= 0:  # only while placing: its pro-formas not stored yet
            raise PaymentError(f"order {order_id}: an amount is given for a placed order")
        if not amount:  # paid meanwhile (a late double click gets its first answer)
            earlier = await _current(repo, key)
            if earlier is None or earlier.account_id != account_id:
                raise PaymentError(f"order {order_id} has nothing left to pay")
            answer = PaymentStart(payment_id=earlier.id, redirect_url=earlier.redirect_url)
            return PaymentClaim(payment_id=earlier.id, answer=answer)
        recurring = due.recurring
        if method is PaymentMedium.PAYPAL:
            kind = Provider.PAYPAL_SUBSCRIPTION if recurring else Provider.PAYPAL
        else:
            kind, recurring = Provider.PSP, None
        self._provider(kind)  # configured, else PaymentError before anything is stored
        now = self._clock.now()
        attempt = {
            "key": key, "account_id": account_id, "order_id": order_id,
            "provider": kind.value, "provider_id": None,
            "state": PaymentState.CREATED.value,
            "amount": amount, "currency": self._config.currency,
            "return_url": return_url, "cancel_url": cancel_url, "redirect_url": None,
            "message": "", "created_at": now, "updated_at": now,
        }  # fmt: skip
        payment = await repo.claim(attempt)
        while True:
            if payment.order_id != order_id or payment.account_id != account_id:
                raise PaymentError(f"key {key!r} belongs to another order")
            if payment.state is not PaymentState.DECLINED:
                break
            # declined: the buyer tries again, a fresh attempt (one for concurrent clicks)
            payment = await repo.claim({**attempt, "key": retry_key(key, payment.id)})
        if payment.redirect_url is not None:
            answer = PaymentStart(payment_id=payment.id, redirect_url=payment.redirect_url)
            return PaymentClaim(payment_id=payment.id, answer=answer)
        route = "paypal" if kind in _PAYPAL else "psp"
        base = self._base or _origin(return_url)
        request = CheckoutRequest(
            payment_id=payment.id,
            amount=payment.amount,
            currency=payment.currency,
            reference=f"A-{order_id}",
            description=recurring.name if recurring else f"Bestellung A-{order_id}",
            return_url=f"{base}/payments/{route}/return?payment={payment.id}",
            cancel_url=f"{base}/payments/{route}/return?payment={payment.id}&cancel=1",
            notify_url=f"{base}/api/v1/payments/psp/notify",
            recurring=RecurringPlan(
                product_code=recurring.product_code,
                name=recurring.name,
                period_unit=recurring.period_unit,
                period_length=recurring.period_length,
                renewal_amount=recurring.renewal_amount,
            )
            if recurring
            else None,
        )
        return _Claimed(payment_id=payment.id, answer=None, provider=kind, request=request)

    async def launch(
        self, claim: PaymentClaim, *, started: StartedHook | None = None
    ) -> PaymentStart:
        """Ask the provider for the claimed attempt, store its answer (see the port)."""
        if claim.answer is not None:
            return claim.answer
        if not isinstance(claim, _Claimed) or claim.payment_id is None:
            raise PaymentError("not a claim of this payment service")
        answered = await (await self._calling(claim.provider)).create(
            claim.request, idempotency_key=f"cc-payment-{claim.payment_id}"
        )
        async with self._store.transaction() as unit:
            stored = await unit.repo(PaymentRepository).set_started(
                claim.payment_id, answered.provider_id, answered.redirect_url, self._clock.now()
            )
            answer = PaymentStart(payment_id=stored.id, redirect_url=stored.redirect_url)
            if started is not None:
                await started(unit, answer)
        return answer

    # --- the buyer comes back ----------------------------------------------------------------
    async def returned(self, payment_id: int, *, cancelled: bool = False) -> str:
        """The provider's page sent the buyer back: book what happened; where to go next.

        PayPal's order is captured and booked here (the webhook books the same capture once
        more, which changes nothing); a PSP payment is booked by its signed notification, so
        the buyer sees "pending" until that has arrived. The answer is the shop's page with
        ``payment=paid|pending|declined`` (``cancelled``: the cart).
        """
        payment = await self._repo.get(payment_id)
        if cancelled:
            return payment.cancel_url
        if payment.provider_id is None:
            raise PaymentError(f"payment {payment_id} was never started")
        if payment.state is PaymentState.CREATED or payment.state is PaymentState.PENDING:
            outcome = await (await self._calling(payment.provider)).complete(
                payment.provider_id, idempotency_key=f"cc-capture-{payment.id}"
            )
            if payment.provider is Provider.PSP and outcome.kind is NoticeKind.PAID:
                # the signed notification (sent before the buyer's redirect) books it; the
                # buyer does not wait for the activation (order page: "wird bestätigt")
                outcome = Outcome(kind=NoticeKind.PENDING)
            await self._apply(payment, outcome, recurring=False)
            payment = await self._repo.get(payment_id)
        state = {PaymentState.PAID: "paid", PaymentState.DECLINED: "declined"}.get(
            payment.state, "pending"
        )
        sep = "&" if "?" in payment.return_url else "?"
        return f"{payment.return_url}{sep}{urlencode({'payment': state})}"

    async def state(self, payment_id: int) -> StoredPayment:
        """One attempt as stored (the order page shows its state and message)."""
        return await self._repo.get(payment_id)

    async def for_order(self, order_id: int) -> list[StoredPayment]:
        """Every attempt to pay the order."""
        return await self._repo.for_order(order_id)

    # --- webhooks ----------------------------------------------------------------------------
    def listens(self, route: str) -> bool:
        """Whether the provider behind a webhook route is configured (else it has no listener)."""
        return _route_kinds(route)[0] in self._providers

    async def webhook(self, route: str, headers: Mapping[str, str], body: bytes) -> Notice:
        """A provider's webhook: verified (WebhookSignatureError otherwise), then booked."""
        kinds = _route_kinds(route)
        provider = await self._calling(kinds[0])
        notice = await provider.notice(headers, body)
        if notice.outcome.kind is NoticeKind.IGNORED:
            return notice
        try:
            payment = await self._repo.by_provider_id(kinds, notice.provider_id)
        except NotFoundError:
            _LOGGER.warning(
                "%s event %s for unknown %s", route, notice.event_id, notice.provider_id
            )
            return notice
        outcome = notice.outcome
        if outcome.kind is NoticeKind.APPROVED and payment.state is PaymentState.PENDING:
            await self._store.release_reads()
            outcome = await provider.complete(
                notice.provider_id, idempotency_key=f"cc-capture-{payment.id}"
            )
            _fault("after_capture", outcome)
        again = await self._apply(
            payment, outcome, recurring=notice.recurring, event=(kinds[0], notice)
        )
        _fault("after_booking", outcome)
        if again:
            _LOGGER.info("%s event %s delivered again", route, notice.event_id)
        return notice

    async def _apply(
        self,
        payment: StoredPayment,
        outcome: Outcome,
        *,
        recurring: bool,
        event: tuple[Provider, Notice] | None = None,
    ) -> bool:
        """Book ``outcome`` and record the provider's ``event`` in one transaction.

        ``event``: the webhook's notice and the provider its route verifies for. Returns
        whether the event was seen before (a redelivery). The payment (booked once,
        by its money id), the attempt's state and the event commit together: a crash before
        the commit leaves all three for the provider's redelivery.
        """
        if outcome.kind is NoticeKind.CANCELLED:
            await self._cancelled(payment)
            return await self._seen(event)
        if event is None and outcome.kind not in _BOOKED:
            # nothing to write (a PSP buyer back before its notification): no transaction,
            # so the return does not queue behind the writers on SQLite
            return False
        now = self._clock.now()
        booked: dict[str, Any] | None = None
        async with self._store.transaction() as unit:
            repo = unit.repo(PaymentRepository)
            again = event is not None and await repo.seen(
                event[0], event[1].event_id, event[1].event_type, now
            )
            if outcome.kind is NoticeKind.PAID:
                if payment.state is not PaymentState.PAID:
                    await repo.set_state(payment.id, PaymentState.PAID, now, unless=_ENDING)
                # last: paying may finalise the invoice, whose number counter stays locked
                # until the commit
                booked = await self._book(unit, payment, outcome)
            elif outcome.kind is NoticeKind.DECLINED:
                if recurring:
                    _LOGGER.warning("PayPal cycle payment of %s denied", payment.provider_id)
                else:  # a renewal's pro-forma stays open; unpaid, the contract ends
                    await repo.set_state(
                        payment.id,
                        PaymentState.DECLINED,
                        now,
                        message=outcome.message[:200],
                        unless=(PaymentState.PAID,),
                    )
        if booked is not None:  # committed: listeners read the new windows
            await self._billing.after_commit(booked)
        return again

    async def _seen(self, event: tuple[Provider, Notice] | None) -> bool:
        if event is None:
            return False
        provider, notice = event
        return await self._repo.seen(
            provider, notice.event_id, notice.event_type, self._clock.now()
        )

    async def _book(
        self, unit: UnitOfWork, payment: StoredPayment, outcome: Outcome
    ) -> dict[str, Any] | None:
        """Book the money once (keyed by its provider id): the order, or the next renewal.

        A subscription's sale pays the order while it is unpaid (the first cycle, whatever
        order its events arrive in), later ones the contract's next renewal pro-forma. A
        redelivered sale finds its key used (possibly by the other operation): booked.
        Runs in ``unit``; the result is for :meth:`BillingService.after_commit`.
        """
        billing = self._billing.within(unit.repo(BillingRepository))
        key = f"{payment.provider.value}:{outcome.money_id}"
        amount = outcome.amount or payment.amount
        unpaid = (OrderState.PLACED, OrderState.CONFIRMED)
        renewal_sale = payment.provider is Provider.PAYPAL_SUBSCRIPTION and (
            await billing.order_state(payment.order_id) not in unpaid
        )
        try:
            if not renewal_sale:
                return await billing.pay_order(payment.order_id, amount, key, key=key)
            recurring = await billing.recurring(payment.order_id)
            renewal = await billing.next_renewal(recurring.contract_id) if recurring else None
            reference = (renewal.payment_reference if renewal else None) or key
            return await billing.record_payment(payment.account_id, amount, reference, key=key)
        except IdempotencyError:
            _LOGGER.info("%s was booked before", key)
            return None

    async def _cancelled(self, payment: StoredPayment) -> None:
        """The buyer cancelled the subscription in PayPal: the contract ends at period end."""
        await self._repo.set_state(payment.id, PaymentState.CANCELLED, self._clock.now())
        recurring = await self._billing.recurring(payment.order_id)
        if recurring is None:
            return
        try:
            await self._billing.terminate(
                recurring.contract_id, key=f"paypal:cancelled:{payment.provider_id}"
            )
        except BillingError as exc:
            # not started yet or within its minimum term: it simply is not renewed
            _LOGGER.info("subscription %s cancelled: %s", payment.provider_id, exc)

    # --- cancelling subscriptions (account closure) ------------------------------------------
    async def cancel_subscriptions(self, account_id: int, *, reason: str) -> int:
        """Cancel every live PayPal subscription of the account at PayPal; how many.

        Each is marked ``cancelling`` first; one PayPal does not answer for stays so and is
        asked again by :meth:`run_cancellations`. Never raises for an unreachable PayPal.
        """
        live = await self._repo.subscriptions(_LIVE, account_id=account_id)
        now = self._clock.now()
        for payment in live:
            await self._repo.set_state(
                payment.id, PaymentState.CANCELLING, now, message=reason[:200], unless=_ENDING
            )
        pending = await self._repo.subscriptions((PaymentState.CANCELLING,), account_id=account_id)
        for payment in pending:
            await self._cancel(payment)
        return len(pending)

    async def retry_cancellations(self) -> int:
        """Ask PayPal again for every cancellation it has not confirmed; how many are left."""
        pending = await self._repo.subscriptions((PaymentState.CANCELLING,))
        return sum([not await self._cancel(p) for p in pending])

    async def run_cancellations(self, every: timedelta = CANCEL_RETRY) -> None:
        """Background task: :meth:`retry_cancellations` every ``every``, until cancelled."""
        while True:
            try:
                await self.retry_cancellations()
            except asyncio.CancelledError:
                raise
            except Exception:  # a retry loop outlives one bad round; logged with its cause
                _LOGGER.exception("retrying PayPal cancellations failed")
            await self._clock.sleep_until(self._clock.now() + every)

    async def _cancel(self, payment: StoredPayment) -> bool:
        """Cancel one subscription at PayPal; ``False`` when PayPal did not answer."""
        if payment.provider_id is None:  # pragma: no cover - selected with a provider id
            return True
        provider = self._providers.get(payment.provider)
        if provider is None:
            _LOGGER.warning("subscription %s: PayPal is not configured", payment.provider_id)
            return False
        try:
            await self._store.release_reads()
            await provider.cancel_subscription(
                payment.provider_id, reason=payment.message or "account closed"
            )
        except ProviderError as exc:
            _LOGGER.warning("subscription %s not cancelled yet: %s", payment.provider_id, exc)
            return False
        _LOGGER.info("subscription %s cancelled at PayPal", payment.provider_id)
        await self._cancelled(payment)
        return True
