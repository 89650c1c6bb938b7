"""The checks in front of every request on a device host, and how long they are reused.

A browser's request on ``<slug>.<remote_domain>`` may be proxied when its remote session
is alive and not idle, its account may open the device (``can(actor, REMOTE, device)``:
owner, installer with a delegation of that device, or operator while the owner's support
grant is live, :func:`cloud_gateway.remote.support.remote_actor`), the device is
entitled, and its tunnel is live on this node or, in a fleet, on the node the directory names
(the request is then forwarded, :mod:`cloud_gateway.remote.relay`). A support grant's end is
honoured at that instant (the cached answer expires with it); a revoked grant through
:meth:`forget_device`.

Reading session, device, account, delegations and entitlement for every request would
cost several database round trips each time. :class:`RemoteGate` keeps the result per
remote session for ``access_recheck_s`` seconds of the injected clock (at most until the
entitlement's known end) and forgets a device's results at once when the entitlement
area or the tunnel registry says its entitlement may have changed (window granted or
ended, device disabled or re-enabled). Changes nobody announces (a delegation revoked,
a device changing hands) are therefore enforced at most ``access_recheck_s`` late; the
configuration keeps that at or below 5 s. The tunnel's liveness is looked up for every
request: it is in memory anyway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from cloud_gateway.accounts.access import Action, ObjectKind, Resource, can
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.config import RemoteAccessConfig
from cloud_gateway.devices.model import Device
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.entitlements.api import DeviceEntitlementPolicy
from cloud_gateway.errors import NotFoundError, StateError
from cloud_gateway.remote.ledger import TrafficLedger
from cloud_gateway.remote.repository import RemoteAccessRepository, RemoteSession
from cloud_gateway.remote.support import remote_actor
from cloud_gateway.store import Store
from cloud_gateway.tunnels.registry import LiveTunnel, TunnelRegistry
from tunnel.clock import Clock

if TYPE_CHECKING:
    from cloud_gateway.remote.relay import RelayClient

__all__ = ["DENIAL_STATUS", "Access", "Denial", "RemoteGate"]

_LOGGER = logging.getLogger(__name__)
_SWEEP_AT = 1024


class Denial(StrEnum):
    """Why a browser may not use a device host; each has its own clear page."""

    NOT_LOGGED_IN = "not_logged_in"
    NOT_YOURS = "not_yours"
    NOT_ENTITLED = "not_entitled"
    OFFLINE = "offline"
    UNREACHABLE = "unreachable"


DENIAL_STATUS = {
    Denial.NOT_LOGGED_IN: 401,
    Denial.NOT_YOURS: 403,
    Denial.NOT_ENTITLED: 403,
    Denial.OFFLINE: 503,
    Denial.UNREACHABLE: 502,
}


@dataclass(frozen=True, slots=True)
class Access:
    """A request that may be proxied: its session, device and tunnel (here, or the internal
    address of the node holding it)."""

    session: RemoteSession
    device: Device
    tunnel: LiveTunnel | None
    holder: str = ""
    """With no tunnel here: ``host:port`` of the node that holds it (:mod:`.relay`)."""


class Locator(Protocol):
    """Where another node holds a device's tunnel: its internal address, or None (the fleet's
    directory; absent on a single node). ``fresh``: not from a cache."""

    async def __call__(self, device_id: int, *, fresh: bool = False) -> str | None: ...


@dataclass(slots=True, kw_only=True)
class _Checked:
    """What the database said about one remote session, and until when to believe it."""

    session: RemoteSession
    device: Device | None
    denial: Denial | None
    valid_until: datetime
    last_seen_at: datetime


class RemoteGate:
    """Decides per request whether a browser's remote session may reach its device."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        policy: DeviceEntitlementPolicy,
        tunnels: TunnelRegistry,
        config: RemoteAccessConfig,
        ledger: TrafficLedger,
    ) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy
        self._tunnels = tunnels
        self._recheck = timedelta(seconds=config.access_recheck_s)
        self._idle = timedelta(seconds=config.session_idle_s)
        self.ledger = ledger
        self._checked: dict[str, _Checked] = {}
        self._generation = 0
        self._sweep_at = _SWEEP_AT
        self.locate: Locator | None = None
        """Set by the composition root when this node is one of several."""
        self.relay: RelayClient | None = None
        """Opens forwarded requests to the holding node (with ``locate``)."""

    async def check(self, token_hash: str, slug: str) -> Access | Denial:
        """May the session behind ``token_hash`` reach device ``slug`` now?"""
        now = self._clock.now()
        entry = self._checked.get(token_hash)
        if entry is None or now >= entry.valid_until:
            entry = await self._load(token_hash, now, entry)
            if entry is None:
                return Denial.NOT_LOGGED_IN
        session = entry.session
        if session.ended_at is not None or session.device_slug != slug:
            return Denial.NOT_LOGGED_IN
        if now - entry.last_seen_at > self._idle:
            self._checked.pop(token_hash, None)
            await self._end(session.id, now)
            return Denial.NOT_LOGGED_IN
        if entry.denial is not None:
            return entry.denial
        if entry.device is None:  # set whenever there is no denial
            raise StateError(f"a remote session check without device or denial: {slug}")
        tunnel = self._tunnels.get(entry.device.id)
        if tunnel is None or not tunnel.session.running:
            holder = None if self.locate is None else await self.locate(entry.device.id)
            if holder is None:
                return Denial.OFFLINE
            entry.last_seen_at = max(entry.last_seen_at, now)
            return Access(session, entry.device, None, holder)
        entry.last_seen_at = max(entry.last_seen_at, now)
        return Access(session, entry.device, tunnel)

    # -- told about changes --------------------------------------------------------------

    def forget_device(self, device_id: int) -> None:
        """Check every session of the device again on its next request."""
        self._generation += 1
        stale = [k for k, e in self._checked.items() if e.session.device_id == device_id]
        for key in stale:
            del self._checked[key]

    def forget_all(self) -> None:
        """Check every session again on its next request."""
        self._generation += 1
        self._checked.clear()

    async def entitlement_changed(self, device_id: int) -> None:
        """:class:`~cloud_gateway.entitlements.api.EntitlementListener`: forget the device."""
        self.forget_device(device_id)

    async def tunnel_state_changed(self, tunnel: LiveTunnel) -> None:
        """Tunnel registry hook (admitted, re-evaluated, operator disable): forget it."""
        self.forget_device(tunnel.device.id)

    # -- the checks ----------------------------------------------------------------------

    async def _load(self, token_hash: str, now: datetime, old: _Checked | None) -> _Checked | None:
        generation = self._generation
        session = await self._store.repo(RemoteAccessRepository).find_session(token_hash)
        if session is None:
            self._checked.pop(token_hash, None)
            return None
        seen = [session.last_seen_at, self.ledger.last_seen(session.id)]
        if old is not None and old.session.id == session.id:
            seen.append(old.last_seen_at)
        entry = _Checked(
            session=session,
            device=None,
            denial=None,
            valid_until=now + self._recheck,
            last_seen_at=max(s for s in seen if s is not None),
        )
        if session.ended_at is None:
            await self._judge(entry, now)
        if generation == self._generation:  # no change was announced meanwhile
            if len(self._checked) >= self._sweep_at:
                self._sweep(now)
            self._checked[token_hash] = entry
        return entry

    async def _judge(self, entry: _Checked, now: datetime) -> None:
        session = entry.session
        entry.device, grant_until = await self._may_open(session, now)
        if entry.device is None:
            _LOGGER.info(
                "remote session %d: access to %s withdrawn", session.id, session.device_slug
            )
            entry.denial = Denial.NOT_YOURS
            await self._end(session.id, now)
            return
        if grant_until is not None:
            entry.valid_until = min(entry.valid_until, grant_until)
        decision = await self._policy.decide(entry.device, now)
        if not decision.entitled:
            entry.denial = Denial.NOT_ENTITLED
        elif decision.until is not None:
            entry.valid_until = min(entry.valid_until, decision.until)

    async def _may_open(
        self, session: RemoteSession, now: datetime
    ) -> tuple[Device | None, datetime | None]:
        """The session's device if its account may still open it remotely, and until when
        a support grant allows it (None: no grant involved)."""
        store = self._store
        try:
            device = await store.repo(DeviceRepository).get_by_slug(session.device_slug)
            account = await store.repo(AccountRepository).get(session.account_id or 0)
        except NotFoundError:
            return None, None
        resource = Resource(
            kind=ObjectKind.DEVICE, owner_account_id=device.account_id, device_id=device.id
        )
        if device.id != session.device_id:
            return None, None
        actor, grant_until = await remote_actor(store, account, device, now)
        if not can(actor, Action.REMOTE, resource):
            return None, None
        return device, grant_until

    async def _end(self, session_id: int, now: datetime) -> None:
        await self.ledger.flush_session(session_id)
        await self._store.repo(RemoteAccessRepository).end_session(session_id, now)

    def _sweep(self, now: datetime) -> None:
        self._checked = {k: e for k, e in self._checked.items() if e.valid_until > now}
        self._sweep_at = max(_SWEEP_AT, 2 * len(self._checked))
