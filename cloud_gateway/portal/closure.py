"""Closing an account (R-POR-6): confirmed by password, nothing personal left, invoices kept.

In this order, so that a crash at any point can simply be retried:

1. the password is checked (a wrong one changes nothing);
2. every running contract is ended through the billing service (idempotent keys
   ``close:<account>:<contract>``; a contract within its minimum term is left to run out and
   reported), and every order not started yet (placed, confirmed or paid) is cancelled with
   its pending contracts (``close:<account>:order:<order>``): its pro-formas are void, money
   arriving for them later activates nothing and stays on the payment account as credit;
   every PayPal subscription still renewing is cancelled at PayPal through the payment service
   (marked first; one PayPal does not answer for is asked again in the background, so the
   closure never fails on PayPal);
3. in one transaction: the account's personal data are erased (:meth:`PortalRepository.erase`),
   the closure recorded with the date until which documents are kept (8 years after the end
   of the calendar year, § 147 AO), and the confirmation mail written to the outbox;
4. after the commit, each device's live tunnel is refused (its certificates are revoked).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from cloud_gateway.accounts.model import Account
from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.billing.errors import BillingError
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService
from cloud_gateway.billing.states import ContractState, OrderState
from cloud_gateway.i18n import Language
from cloud_gateway.localdays import BERLIN, local_date
from cloud_gateway.notify.mail import Mail, MailKind
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.portal.errors import ClosureRefusedError
from cloud_gateway.portal.repository import PortalRepository
from cloud_gateway.store import Store
from cloud_gateway.tunnels.registry import TunnelRegistry
from tunnel.clock import Clock

__all__ = ["KEEP_DOCUMENTS_YEARS", "AccountClosure", "ClosedAccount", "SubscriptionCanceller"]

_LOGGER = logging.getLogger(__name__)

#: orders whose contracts have not started: closing the account cancels them
_NOT_STARTED = frozenset({OrderState.PLACED, OrderState.CONFIRMED, OrderState.PAID})

KEEP_DOCUMENTS_YEARS = 8
"""Invoices are kept this many years after the end of the calendar year (§ 147 AO)."""


class SubscriptionCanceller(Protocol):
    """Stops the account's subscriptions at their provider (the payment service)."""

    async def cancel_subscriptions(self, account_id: int, *, reason: str) -> int:
        """Cancel (or mark for a retry) every live subscription; how many."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosedAccount:
    """What closing an account did."""

    devices: int
    plants: int
    contracts_ended: int
    contracts_left: int
    """Contracts within their minimum term: they run out and are not renewed."""
    orders_cancelled: int
    """Orders not started yet (awaiting payment or delivery), cancelled with their contracts."""
    subscriptions_cancelled: int = 0
    """PayPal subscriptions cancelled at PayPal (or marked to be, when it did not answer)."""
    keep_documents_until: date


class AccountClosure:
    """Closes accounts (built by the composition root)."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        passwords: PasswordHasher,
        outbox: Outbox,
        billing: BillingService,
        tunnels: TunnelRegistry,
        subscriptions: SubscriptionCanceller | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._passwords = passwords
        self._outbox = outbox
        self._billing = billing
        self._tunnels = tunnels
        self._subscriptions = subscriptions

    async def close(self, account: Account, password: str) -> ClosedAccount:
        """Close ``account`` when ``password`` is its password (else ClosureRefusedError)."""
        matches = await asyncio.to_thread(self._passwords.verify, account.password_hash, password)
        if not matches:
            raise ClosureRefusedError(f"wrong password for account {account.id}")
        ended, left = await self._end_contracts(account.id)
        cancelled = await self._cancel_orders(account.id)
        subscriptions = 0
        if self._subscriptions is not None:
            subscriptions = await self._subscriptions.cancel_subscriptions(
                account.id, reason="account closed"
            )
        now = self._clock.now()
        today = local_date(now)
        keep_until = date(today.year + KEEP_DOCUMENTS_YEARS, 12, 31)
        language = Language.EN if account.language == Language.EN.value else Language.DE
        async with self._store.database.begin() as conn:
            erased = await PortalRepository.erase(conn, account.id, now=now, keep_until=keep_until)
            pattern = "%d.%m.%Y %H:%M" if language is Language.DE else "%Y-%m-%d %H:%M"
            mail = Mail(
                to=account.email,
                kind=MailKind.ACCOUNT_CLOSED,
                language=language,
                params={
                    "username": account.username,
                    "when": now.astimezone(BERLIN).strftime(pattern),
                    "devices": len(erased.device_ids),
                    "contracts": ended,
                    "keep_until": keep_until.strftime(
                        "%d.%m.%Y" if language is Language.DE else "%Y-%m-%d"
                    ),
                },
            )
            await self._outbox.put(conn, mail, now=now)
        self._outbox.wake()
        for device_id in erased.device_ids:
            await self._tunnels.revoked(device_id)
        _LOGGER.info(
            "account %d closed: %d devices, %d plants, %d contracts ended, %d orders cancelled, "
            "%d subscriptions cancelled",
            account.id,
            len(erased.device_ids),
            erased.plants,
            ended,
            cancelled,
            subscriptions,
        )
        return ClosedAccount(
            devices=len(erased.device_ids),
            plants=erased.plants,
            contracts_ended=ended,
            contracts_left=left,
            orders_cancelled=cancelled,
            subscriptions_cancelled=subscriptions,
            keep_documents_until=keep_until,
        )

    async def _end_contracts(self, account_id: int) -> tuple[int, int]:
        repo = self._store.repo(BillingRepository)
        async with self._store.engine.connect() as conn:
            running = [
                c
                for c in await repo.contracts(conn, state=ContractState.ACTIVE)
                if c.account_id == account_id
            ]
        ended = left = 0
        for contract in running:
            try:
                await self._billing.terminate(contract.id, key=f"close:{account_id}:{contract.id}")
            except BillingError as exc:
                _LOGGER.info("contract %d not ended at closure: %s", contract.id, exc)
                left += 1
            else:
                ended += 1
        return ended, left

    async def _cancel_orders(self, account_id: int) -> int:
        repo = self._store.repo(BillingRepository)
        async with repo.transaction() as conn:
            waiting = [o for o in await repo.orders(conn, account_id) if o.state in _NOT_STARTED]
        for order in waiting:
            await self._billing.cancel_order(order.id, key=f"close:{account_id}:order:{order.id}")
        return len(waiting)
