"""The tunnel registry: one live tunnel per device, entitlement enforcement, operator actions.

A newer tunnel of the same device replaces the older one (the older is told by CONTROL
and closed). :meth:`TunnelRegistry.send_control` delivers a CONTROL message to a device
wherever its tunnel is (through the fleet's relay when another node holds it). The registry
is the :class:`~cloud_gateway.entitlements.api.EntitlementListener` of this node:
:meth:`TunnelRegistry.entitlement_changed` re-asks the policy and closes a tunnel that lost
entitlement with CONTROL + REFUSE at once; a decision that ends at ``until`` schedules a
re-evaluation at that instant on the injected clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from cloud_gateway.devices.model import Device
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.entitlements.api import Decision, DeviceEntitlementPolicy
from cloud_gateway.errors import NotFoundError, StateError
from cloud_gateway.store import Store
from cloud_gateway.tunnels.handshake_guard import HandshakeGuard
from cloud_gateway.tunnels.metrics import TunnelMetrics
from tunnel.admission import HandshakeGate
from tunnel.clock import Clock
from tunnel.frames import Hello, RefusalReason
from tunnel.gateway_end import GatewaySession
from tunnel.session import SessionStats

__all__ = ["FleetRelay", "LiveTunnel", "TelemetryHandler", "TunnelObserver", "TunnelRegistry"]

TelemetryHandler = Callable[[Device, int, bytes], Awaitable[None]]
"""Stores one TELEMETRY batch of a device; returns after the commit (then ACK is sent)."""
StateHook = Callable[["LiveTunnel"], Awaitable[None]]
"""Told about a live tunnel whose device state may have changed."""

_LOGGER = logging.getLogger(__name__)
_ADMISSION_HOOKS = 4
"""State-hook runs after admissions at once (each reads the store: packages, LAN targets). In a
reconnect storm they queued for the same pooled connections as the handshakes' own checks and
starved them (pool timeouts); bounded, the handshakes keep most of the pool and the hooks
catch up behind them."""


class TunnelObserver(Protocol):
    """Told when a tunnel starts and ends on this node (the fleet's tunnel directory)."""

    async def tunnel_opened(self, tunnel: LiveTunnel) -> None:
        """The tunnel was admitted (WELCOME sent) and registered."""
        ...

    def tunnel_closed(self, tunnel: LiveTunnel) -> None:
        """The session has ended; must not block (schedule the work)."""
        ...


class FleetRelay(Protocol):
    """Carries an action on a device to the other gateway nodes (the fleet's control bus)."""

    async def announce(
        self,
        kind: str,
        device_id: int,
        detail: str = "",
        *,
        control: dict[str, object] | None = None,
    ) -> bool:
        """Tell every other node (``kind``: entitlement, revoked, disconnect, control with
        its ``control`` body); whether some other node holds the device's tunnel."""
        ...


@dataclass(slots=True, kw_only=True, eq=False)
class LiveTunnel:
    """A device's accepted tunnel session and what the operator list shows about it."""

    device: Device
    session: GatewaySession
    session_id: str
    since: datetime
    peer: str
    hello: Hello
    protocol_version: int
    certificate_serial: str
    decision: Decision | None = field(default=None, repr=False)
    """The newest entitlement decision (its windows serve the state hooks)."""
    watch: asyncio.Task[None] | None = field(default=None, repr=False)
    """Scheduled re-evaluation at the end of the current entitlement."""
    rtt_seen: float | None = field(default=None, repr=False)


class TunnelRegistry:
    """Live tunnels of this gateway node, keyed by device id."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        policy: DeviceEntitlementPolicy,
        metrics: TunnelMetrics | None = None,
        *,
        telemetry_handler: TelemetryHandler | None = None,
        state_hooks: Sequence[StateHook] = (),
    ) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy
        self._tunnels: dict[int, LiveTunnel] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._hooks: set[asyncio.Task[None]] = set()
        self._hooks_of: dict[int, asyncio.Task[None]] = {}
        """The state-hook task still running for a tunnel (by ``id`` of its LiveTunnel)."""
        self._hook_slots: asyncio.Semaphore | None = None
        """Bounds the hook runs after admissions (:data:`_ADMISSION_HOOKS`)."""
        self.metrics = metrics or TunnelMetrics(self.live_stats, now=clock.now)
        self.guard = HandshakeGuard()
        """Before the gate: no place without a verified device certificate, short HELLO waits,
        per-source limits (:mod:`cloud_gateway.tunnels.handshake_guard`)."""
        self.handshakes = HandshakeGate()
        """Admission control: handshakes in progress at once and a short queue; the rest
        REFUSE(overloaded) with a retry slot (:mod:`tunnel.admission`)."""
        self.telemetry_handler = telemetry_handler
        """Where TELEMETRY goes (the composition root routes it); without it batches are not
        acknowledged."""
        self.changes = 0
        """Revocations and entitlement changes announced so far. A handshake reads it before
        its checks and again once registered: a change in between may have missed the
        tunnel (it was not registered yet), so the endpoint checks again."""
        self.state_hooks: list[StateHook] = list(state_hooks)
        """Called after a tunnel is admitted and whenever its entitlement is re-evaluated
        (e.g. to send the hub its packages); a failing hook is logged, never fatal."""
        self.observers: list[TunnelObserver] = []
        """Told when tunnels open and close (the fleet's directory); failures are logged."""
        self.relay: FleetRelay | None = None
        """Where revocations, entitlement changes and disconnects go to reach the other
        nodes (None: a single node)."""

    # -- lookup --------------------------------------------------------------------------

    def get(self, device_id: int) -> LiveTunnel | None:
        """The device's live tunnel on this node."""
        return self._tunnels.get(device_id)

    def live(self) -> list[LiveTunnel]:
        """Every live tunnel, oldest first."""
        return sorted(self._tunnels.values(), key=lambda t: t.since)

    def live_stats(self) -> list[SessionStats]:
        """Counters of every live session (for the metrics)."""
        return [t.session.stats() for t in self._tunnels.values()]

    # -- life cycle ----------------------------------------------------------------------

    async def register(self, tunnel: LiveTunnel, decision: Decision) -> None:
        """Make ``tunnel`` the device's tunnel; an older one is replaced and closed."""
        old = self._tunnels.get(tunnel.device.id)
        self._tunnels[tunnel.device.id] = tunnel
        tunnel.decision = decision
        self.metrics.connects.inc()
        self._schedule(tunnel, decision)
        if self.state_hooks:
            # the session starts running after registration: hooks that send must not wait
            hooks = asyncio.create_task(self._admitted_hooks(tunnel), name="tunnel state hooks")
            self._hooks.add(hooks)
            self._hooks_of[id(tunnel)] = hooks
            hooks.add_done_callback(functools.partial(self._hooks_done, id(tunnel)))
        for observer in self.observers:
            try:
                await observer.tunnel_opened(tunnel)
            except Exception:  # the directory must not break the tunnel
                _LOGGER.exception("tunnel observer failed for %s", tunnel.device.slug)
        if old is not None:
            await self.replaced(old, tunnel.session_id)

    async def replaced(self, old: LiveTunnel, session_id: str) -> None:
        """A newer tunnel of the device (here or on another node) replaces ``old``."""
        _LOGGER.info("tunnel of %s replaced by a newer one", old.device.slug)
        self._cancel_watch(old)
        await self._notify(old, {"type": "replaced", "session_id": session_id})
        await old.session.close()

    def unregister(self, tunnel: LiveTunnel, reason: str) -> None:
        """The session has ended: forget it (unless already replaced) and count it."""
        self._cancel_watch(tunnel)
        if self._tunnels.get(tunnel.device.id) is tunnel:
            del self._tunnels[tunnel.device.id]
        for observer in self.observers:
            observer.tunnel_closed(tunnel)
        self._sample_rtt(tunnel)
        self.metrics.session_ended(tunnel.session.stats(), reason)

    def sample_rtts(self) -> None:
        """Put each live tunnel's newest heartbeat RTT into the histogram (at scrape)."""
        for tunnel in self._tunnels.values():
            self._sample_rtt(tunnel)

    def _sample_rtt(self, tunnel: LiveTunnel) -> None:
        rtt = tunnel.session.rtt
        if rtt is not None and rtt != tunnel.rtt_seen:
            tunnel.rtt_seen = rtt
            self.metrics.observe_rtt(rtt)

    async def close_all(self) -> None:
        """Close every tunnel (gateway shutdown).

        Running state hooks are awaited (briefly), not cancelled: cancelling one inside a
        database call can leave the driver's connection unable to close.
        """
        if self._hooks:
            await asyncio.wait(list(self._hooks), timeout=5.0)
        for tunnel in list(self._tunnels.values()):
            self._cancel_watch(tunnel)
            await tunnel.session.close()
        for task in list(self._closing):
            task.cancel()

    # -- enforcement ---------------------------------------------------------------------

    async def entitlement_changed(
        self, device_id: int, detail: str = "entitlement ended", *, announce: bool = True
    ) -> None:
        """Re-ask the policy for the device; close its tunnel if it lost entitlement
        (``detail`` tells the device why, e.g. the operator's reason).

        ``announce``: tell the other nodes too (False when the change came from them).
        """
        self.changes += 1
        if announce and self.relay is not None:
            await self.relay.announce("entitlement", device_id)
        tunnel = self._tunnels.get(device_id)
        if tunnel is None:
            return
        try:
            device = await self._store.repo(DeviceRepository).get_by_slug(tunnel.device.slug)
        except NotFoundError:
            await self.end(tunnel, RefusalReason.NOT_ENROLLED, 24 * 3600.0, "device deleted")
            return
        tunnel.device = device
        decision = tunnel.decision = await self._policy.decide(device, self._clock.now())
        await self._run_hooks(tunnel)
        if decision.entitled:
            self._schedule(tunnel, decision)
            return
        await self.end(
            tunnel,
            decision.reason or RefusalReason.FORBIDDEN,
            decision.retry_after_s,
            detail,
        )

    async def revoked(
        self, device_id: int, detail: str = "certificate revoked", *, announce: bool = True
    ) -> None:
        """The device's certificate was revoked: refuse its tunnel now (on whichever node)."""
        self.changes += 1
        if announce and self.relay is not None:
            await self.relay.announce("revoked", device_id, detail)
        tunnel = self._tunnels.get(device_id)
        if tunnel is not None:
            await self.end(tunnel, RefusalReason.REVOKED, 7 * 24 * 3600.0, detail)

    async def disconnect(self, device_id: int, reason: str = "", *, announce: bool = True) -> bool:
        """Operator action: close the tunnel cleanly (the device reconnects), wherever it is;
        the device is told the operator's ``reason`` (on this node)."""
        tunnel = self._tunnels.get(device_id)
        if tunnel is None:
            if announce and self.relay is not None:
                return await self.relay.announce("disconnect", device_id, reason)
            return False
        await self._notify(tunnel, {"type": "disconnect", "by": "operator", "reason": reason})
        await tunnel.session.close()
        return True

    async def send_control(
        self, device_id: int, body: dict[str, object], *, announce: bool = True
    ) -> bool:
        """Send the device a CONTROL message through its tunnel, wherever it is; whether a
        tunnel was there to take it (here: sent; elsewhere: the holding node was told).

        ``announce``: pass it on to the other nodes when the tunnel is not here (False when
        the message came from them).
        """
        tunnel = self._tunnels.get(device_id)
        if tunnel is None:
            if announce and self.relay is not None:
                return await self.relay.announce("control", device_id, control=body)
            return False
        try:
            async with asyncio.timeout(2.0):
                await tunnel.session.send_control(body)
        except (ConnectionError, TimeoutError) as exc:
            _LOGGER.info("CONTROL to %s not sent: %s", tunnel.device.slug, exc)
            return False
        return True

    async def end(
        self, tunnel: LiveTunnel, reason: RefusalReason, retry_after: float, detail: str
    ) -> None:
        """Tell the device why (CONTROL), then REFUSE and close."""
        self._cancel_watch(tunnel)
        # A state hook still on its way (the CCU's package view) must not reach the device
        # after the reason it is being closed for.
        hooks = self._hooks_of.pop(id(tunnel), None)
        if hooks is not None and hooks is not asyncio.current_task():
            hooks.cancel()
        self.metrics.refused(reason.value)
        _LOGGER.info("closing tunnel of %s: %s (%s)", tunnel.device.slug, reason, detail)
        await self._notify(
            tunnel,
            {
                "type": "entitlement",
                "entitled": False,
                "reason": reason.value,
                "retry_after": retry_after,
                "detail": detail,
            },
        )
        await tunnel.session.refuse(reason, retry_after, detail)

    def _hooks_done(self, key: int, task: asyncio.Task[None]) -> None:
        self._hooks.discard(task)
        if self._hooks_of.get(key) is task:
            del self._hooks_of[key]

    async def _admitted_hooks(self, tunnel: LiveTunnel) -> None:
        slots = self._hook_slots = self._hook_slots or asyncio.Semaphore(_ADMISSION_HOOKS)
        async with slots:
            if self._tunnels.get(tunnel.device.id) is tunnel:  # not ended or replaced meanwhile
                await self._run_hooks(tunnel)

    async def _run_hooks(self, tunnel: LiveTunnel) -> None:
        async with self._store.reading():  # the hooks' reads: one pooled connection
            for hook in self.state_hooks:
                try:
                    await hook(tunnel)
                except Exception:  # a hook must not break enforcement
                    _LOGGER.exception("tunnel state hook failed for %s", tunnel.device.slug)

    @staticmethod
    async def _notify(tunnel: LiveTunnel, body: dict[str, object]) -> None:
        with contextlib.suppress(ConnectionError, TimeoutError):
            async with asyncio.timeout(2.0):
                await tunnel.session.send_control(body)

    # -- scheduled re-evaluation ---------------------------------------------------------

    def _schedule(self, tunnel: LiveTunnel, decision: Decision) -> None:
        self._cancel_watch(tunnel)
        if decision.until is not None:
            tunnel.watch = asyncio.create_task(
                self._at_end(tunnel, decision.until), name=f"entitlement end {tunnel.device.slug}"
            )

    async def _at_end(self, tunnel: LiveTunnel, until: datetime) -> None:
        await self._clock.sleep_until(until)
        tunnel.watch = None  # not cancelled by the re-evaluation it starts
        task = asyncio.current_task()
        if task is None:
            raise StateError("an entitlement end watch runs outside a task")
        self._closing.add(task)
        try:
            await self.entitlement_changed(tunnel.device.id)
        finally:
            self._closing.discard(task)

    @staticmethod
    def _cancel_watch(tunnel: LiveTunnel) -> None:
        if tunnel.watch is not None and tunnel.watch is not asyncio.current_task():
            tunnel.watch.cancel()
        tunnel.watch = None
