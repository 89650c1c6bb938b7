"""One gateway node in a fleet: directory rows, heartbeat, control bus and singleton leases.

:class:`FleetNode` is the tunnel registry's observer (a tunnel opened here is claimed in the
directory, a closed one released) and its relay (revocation, entitlement changes and operator
disconnects go to every node by ``NOTIFY`` after their commit, and so do CONTROL messages
for a device whose tunnel another node holds; the node holding the tunnel acts within one
round trip). Its row is kept fresh by a heartbeat thread beside the event loop (:mod:`.pulse`,
the rule in :mod:`.liveness`); the loop removes nodes that stopped beating, with their
directory rows, and joins again should the others have taken this node for dead. See ADR 0020.

Handshakes stay correct when a device flips nodes during a change: a change reaches every node
after its commit, and every received message counts in ``registry.changes``, which the
endpoint compares before and after admitting a device (it checks again when it moved).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any

from cloud_gateway.config import ClusterConfig
from cloud_gateway.entitlements.api import EntitlementListener
from cloud_gateway.errors import ConflictError, GatewayError
from cloud_gateway.fleet.control import (
    CHANNEL,
    PAYLOAD_LIMIT,
    ControlKind,
    ControlMessage,
    decode,
    encode,
)
from cloud_gateway.fleet.leases import JobFactory, Singletons
from cloud_gateway.fleet.link import PgLink, plain_dsn
from cloud_gateway.fleet.liveness import Liveness
from cloud_gateway.fleet.pulse import Pulse
from cloud_gateway.fleet.repository import DirectoryEntry, FleetRepository
from cloud_gateway.store import Store
from cloud_gateway.tunnels.registry import LiveTunnel, TunnelRegistry
from cloud_gateway.tunnels.repository_certificates import DeviceCertificateRepository
from tunnel.clock import Clock

__all__ = ["FleetNode", "default_node_id"]

_LOGGER = logging.getLogger(__name__)
_HOLDER_TTL_S = 5.0
_HOLDER_CACHE = 10_000
_CLAIM_RETRY_S = 0.5
"""First wait before a failed directory claim is tried again (then doubled)."""
_CLAIM_RETRY_MAX_S = 5.0
_ADDRESSED = frozenset({ControlKind.DISCONNECT, ControlKind.CONTROL})
"""Messages for one session of the device (the directory's), not for the device at large."""


def default_node_id() -> str:
    """Host name and process id: unique on a machine, readable in the operator's list."""
    return f"{socket.gethostname()}-{os.getpid()}"[:64]


class FleetNode:
    """This node's part in the fleet; :meth:`run` is its background task."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        registry: TunnelRegistry,
        config: ClusterConfig,
        *,
        node_id: str = "",
        internal_url: str = "",
        listeners: Sequence[EntitlementListener] = (),
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.node_id = node_id or config.node_id or default_node_id()
        self._store = store
        self._repo = store.repo(FleetRepository)
        self._clock = clock
        self._registry = registry
        self._config = config
        self.internal_url = internal_url
        self._listeners = list(listeners)
        self._wake = wake
        self._tasks: set[asyncio.Task[None]] = set()
        self.draining = False
        self.received = 0
        """Control messages from other nodes acted on."""
        self.rejoins = 0
        """Times this node joined again (with its tunnels) after the others took it for dead."""
        dsn = plain_dsn(store.engine.url.render_as_string(hide_password=False))
        self.liveness = Liveness.of(config)
        self._gone = asyncio.Event()
        """Set (from the heartbeat thread) when this node's row was found gone."""
        self.pulse = Pulse(
            dsn,
            self.node_id,
            clock,
            self.liveness,
            draining=lambda: self.draining,
            on_gone=self._gone.set,
        )
        self.link = PgLink(
            dsn,
            CHANNEL,
            self._received,
            on_reconnect=self.resync,
            check_s=config.lease_poll_s,
            name=self.node_id,
        )
        self.singletons = Singletons(self.link, poll_s=config.lease_poll_s)
        self.joined = asyncio.Event()
        self._rejoining = asyncio.Lock()
        self._holders: dict[int, tuple[str, float]] = {}
        """device id -> (holder's internal address, valid until loop time)."""

    # -- background ----------------------------------------------------------------------

    async def run(self) -> None:
        """Join, then keep the link, the heartbeat and the reaper going until cancelled."""
        delay = 0.5
        while True:  # the database may not be reachable yet: keep trying, never crash
            try:
                await self._repo.join(
                    self.node_id, self._clock.now(), internal_url=self.internal_url
                )
                break
            except (GatewayError, OSError) as exc:
                _LOGGER.warning("fleet node %s cannot join yet: %s", self.node_id, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        self.joined.set()
        _LOGGER.info("fleet node %s joined", self.node_id)
        self.pulse.start()
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self.link.run(), name="fleet link")
                group.create_task(self._reap(), name="fleet reaper")
                group.create_task(self._watch_row(), name="fleet row")
        finally:
            await asyncio.shield(self.pulse.stop())
            try:
                async with asyncio.timeout(5.0):
                    await asyncio.shield(self._repo.leave(self.node_id))
            except (GatewayError, TimeoutError) as exc:  # the others reap the row later
                _LOGGER.warning("fleet node %s: leaving: %s", self.node_id, exc)

    @property
    def pending(self) -> int:
        """Directory writes and control actions started in the background, not yet done."""
        return len(self._tasks)

    @property
    def scheduler_waker(self) -> EntitlementListener:
        """An entitlement listener that wakes the local entitlement scheduler (windows were
        granted or moved; a reminder may be due), as the relay does on the other nodes."""
        return _Waker(self._wake)

    async def singleton(self, name: str, factory: JobFactory) -> None:
        """Run the job whenever this node holds its lease (:mod:`.leases`)."""
        await self.joined.wait()
        await self.singletons.run(name, factory)

    async def set_draining(self, draining: bool) -> None:
        """The drain hook: the node's row says so at once."""
        self.draining = draining
        await self._repo.heartbeat(self.node_id, self._clock.now(), draining=draining)

    async def _reap(self) -> None:
        """Every heartbeat: remove the nodes that stopped beating (never this one: its loop
        is answering, and its heartbeat thread may just not have written since a clock step)."""
        dead_after = timedelta(seconds=self.liveness.dead_after_s)
        while True:
            await asyncio.sleep(self.liveness.heartbeat_s)
            try:
                dead = await self._repo.reap(self._clock.now(), dead_after, keep=self.node_id)
            except (GatewayError, OSError) as exc:  # the database is away: next time
                _LOGGER.warning("fleet reaper failed: %s", exc)
                continue
            if dead:
                _LOGGER.warning("fleet nodes %s stopped beating: removed", ", ".join(dead))

    async def _watch_row(self) -> None:
        """Join again whenever the heartbeat thread finds this node's row gone."""
        while True:
            await self._gone.wait()
            self._gone.clear()
            try:
                await self._rejoin()
            except (GatewayError, OSError) as exc:  # the thread tells again next beat
                _LOGGER.warning("fleet node %s: joining again failed: %s", self.node_id, exc)

    # -- TunnelObserver ------------------------------------------------------------------

    async def tunnel_opened(self, tunnel: LiveTunnel) -> None:
        """Claim the device; an older session on another node is told to close.

        A claim that fails (the database away, or no pooled connection free within the pool
        timeout in a reconnect storm) is tried again in the background until it is written
        or the tunnel has ended: a live tunnel missing from the directory cannot be reached
        from other nodes, and the fleet would not know where the device is.
        """
        async with asyncio.timeout(10.0):  # the node's own row first (a tunnel in its first ms)
            await self.joined.wait()
        try:
            await self._claim(tunnel)
        except (GatewayError, OSError) as exc:
            _LOGGER.warning("fleet claim of %s failed, trying again: %s", tunnel.device.slug, exc)
            self._spawn(self._claim_again(tunnel), "fleet claim")

    async def _claim(self, tunnel: LiveTunnel) -> None:
        try:
            previous = await self._repo.claim(
                tunnel.device.id, self.node_id, tunnel.session_id, tunnel.since
            )
        except ConflictError:  # our row is gone: the others took us for dead (a long stall)
            await self._rejoin()  # claims every live tunnel, this one too
            return
        if previous is not None and previous.newer_than(tunnel.since):
            # a late claim (tried again): the device has a newer session, this one is over
            if self._registry.get(tunnel.device.id) is tunnel:
                await self._registry.replaced(tunnel, previous.session_id)
            return
        if previous is not None and previous.node_id != self.node_id:
            await self._send(ControlKind.REPLACED, tunnel.device.id, tunnel.session_id)

    async def _claim_again(self, tunnel: LiveTunnel) -> None:
        """Claim ``tunnel`` until it is written or the tunnel is no longer this device's."""
        delay = _CLAIM_RETRY_S
        while self._registry.get(tunnel.device.id) is tunnel:
            await asyncio.sleep(delay)
            if self._registry.get(tunnel.device.id) is not tunnel:
                return  # ended or replaced meanwhile: nothing was claimed, nothing to release
            try:
                await self._claim(tunnel)
            except (GatewayError, OSError) as exc:
                _LOGGER.warning("fleet claim of %s failed again: %s", tunnel.device.slug, exc)
                delay = min(delay * 2, _CLAIM_RETRY_MAX_S)
                continue
            if self._registry.get(tunnel.device.id) is not tunnel:
                # it ended while the claim was on its way: its release may have run first
                await self._repo.release(tunnel.device.id, self.node_id, tunnel.session_id)
            return

    async def _rejoin(self) -> None:
        """Join again after being reaped while alive, and claim every live tunnel anew.

        The row and the claims go in one transaction (a reaper sees all or none of them), and
        afterwards every claimed tunnel is looked at again: one that closed meanwhile may have
        had its release run before the claim committed, so its row is released here.
        """
        async with self._rejoining:
            now = self._clock.now()
            live = self._registry.live()
            if await self._repo.heartbeat(self.node_id, now, draining=self.draining):
                # joined meanwhile; a tunnel whose claim failed while the row was missing, and
                # that the other join did not see yet, is claimed now
                if live:
                    await self._claim_missing(live)
                return
            _LOGGER.warning("fleet node %s was taken for dead: joining again", self.node_id)
            elsewhere = await self._repo.rejoin(
                self.node_id,
                now,
                [(t.device.id, t.session_id, t.since) for t in live],
                internal_url=self.internal_url,
                draining=self.draining,
            )
            await self._after_claims(live, elsewhere)
            self.rejoins += 1

    async def _claim_missing(self, live: Sequence[LiveTunnel]) -> None:
        held = {e.device_id: e.session_id for e in await self._repo.held_by(self.node_id)}
        missing = [t for t in live if held.get(t.device.id) != t.session_id]
        if not missing:
            return
        elsewhere = await self._repo.rejoin(
            self.node_id,
            self._clock.now(),
            [(t.device.id, t.session_id, t.since) for t in missing],
            internal_url=self.internal_url,
            draining=self.draining,
        )
        await self._after_claims(missing, elsewhere)

    async def _after_claims(
        self, claimed: Sequence[LiveTunnel], elsewhere: Sequence[DirectoryEntry]
    ) -> None:
        newer = {e.device_id: e for e in elsewhere}
        for tunnel in claimed:
            entry = newer.get(tunnel.device.id)
            if entry is not None:
                # the device came back elsewhere meanwhile: that session is the newer one
                if self._registry.get(tunnel.device.id) is tunnel:
                    await self._registry.replaced(tunnel, entry.session_id)
            elif self._registry.get(tunnel.device.id) is not tunnel:
                await self._repo.release(tunnel.device.id, self.node_id, tunnel.session_id)

    def tunnel_closed(self, tunnel: LiveTunnel) -> None:
        """Release the device's row (a newer session's row stays)."""
        self._spawn(
            self._repo.release(tunnel.device.id, self.node_id, tunnel.session_id),
            "fleet release",
        )

    # -- FleetRelay ----------------------------------------------------------------------

    async def announce(
        self,
        kind: str,
        device_id: int,
        detail: str = "",
        *,
        control: dict[str, object] | None = None,
    ) -> bool:
        """Send ``kind`` for the device to every node (``detail``: what the device is told,
        ``control``: the CONTROL body of a ``control`` message); whether another node holds
        it (and the message could be sent)."""
        entry = await self._repo.locate(device_id)
        elsewhere = entry is not None and entry.node_id != self.node_id
        message_kind = ControlKind(kind)
        if message_kind in _ADDRESSED:
            # meant for one session: none elsewhere, nothing to send (a message sent anyway
            # could reach a session that opens later, after the caller was told "not
            # connected"); the holder acts only while that session is the device's tunnel
            if entry is None or not elsewhere:
                return False
            return await self._send(
                message_kind, device_id, entry.session_id, detail=detail, control=control
            )
        sent = await self._send(message_kind, device_id, detail=detail, control=control)
        return sent and elsewhere

    async def holder_elsewhere(self, device_id: int, *, fresh: bool = False) -> str | None:
        """The internal address of another node holding the device's tunnel, if one does.

        Answers are reused for ``_HOLDER_TTL_S`` (a browser's page loads many resources); a
        holder that no longer has the tunnel says so and the caller asks again ``fresh``.
        """
        now = asyncio.get_running_loop().time()
        cached = self._holders.get(device_id)
        if cached is not None and not fresh and cached[1] > now:
            return cached[0]
        entry = await self._repo.locate(device_id)
        if entry is None or entry.node_id == self.node_id or not entry.internal_url:
            self._holders.pop(device_id, None)
            return None
        if len(self._holders) > _HOLDER_CACHE:
            self._holders.clear()
        self._holders[device_id] = (entry.internal_url, now + _HOLDER_TTL_S)
        return entry.internal_url

    async def _send(
        self,
        kind: ControlKind,
        device_id: int,
        session_id: str = "",
        *,
        detail: str = "",
        control: dict[str, object] | None = None,
    ) -> bool:
        message = ControlMessage(kind, device_id, self.node_id, session_id, detail, control)
        payload = encode(message)
        if len(payload.encode()) > PAYLOAD_LIMIT:
            _LOGGER.warning("fleet: %s for device %d too long to send", kind, device_id)
            return False
        try:
            await self._repo.notify(CHANNEL, payload)
        except GatewayError as exc:
            _LOGGER.warning("fleet: could not send %s for device %d: %s", kind, device_id, exc)
            return False
        return True

    # -- receiving -----------------------------------------------------------------------

    def _received(self, payload: str) -> None:
        message = decode(payload)
        if message is None:
            _LOGGER.warning("fleet: not a control message: %.200s", payload)
            return
        if message.origin == self.node_id:
            return
        self._spawn(self.act(message), f"fleet {message.kind}")

    async def act(self, message: ControlMessage) -> None:
        """Carry out a control message from another node."""
        self.received += 1
        registry = self._registry
        device_id = message.device_id
        match message.kind:
            case ControlKind.ENTITLEMENT:
                if self._wake is not None:
                    self._wake()  # the entitlement scheduler, should it run here
                for listener in self._listeners:
                    await listener.entitlement_changed(device_id)
                await registry.entitlement_changed(device_id, announce=False)
            case ControlKind.REVOKED:
                for listener in self._listeners:
                    await listener.entitlement_changed(device_id)
                if message.detail:
                    await registry.revoked(device_id, message.detail, announce=False)
                else:
                    await registry.revoked(device_id, announce=False)
            case ControlKind.DISCONNECT:
                if self._addressed_here(message):
                    await registry.disconnect(device_id, message.detail, announce=False)
            case ControlKind.CONTROL:
                if message.control is not None and self._addressed_here(message):
                    await registry.send_control(device_id, message.control, announce=False)
            case ControlKind.REPLACED:
                registry.changes += 1
                tunnel = registry.get(device_id)
                if tunnel is not None and tunnel.session_id != message.session_id:
                    await registry.replaced(tunnel, message.session_id)

    def _addressed_here(self, message: ControlMessage) -> bool:
        """Whether the session a disconnect or CONTROL names is this node's tunnel of the
        device (no session named: a node of an earlier release sent it, any tunnel here)."""
        tunnel = self._registry.get(message.device_id)
        if tunnel is None:
            return False
        return not message.session_id or tunnel.session_id == message.session_id

    async def resync(self) -> None:
        """After the link was lost messages may have been missed: look at every tunnel."""
        certificates = self._store.repo(DeviceCertificateRepository)
        for tunnel in self._registry.live():
            try:
                entry = await self._repo.locate(tunnel.device.id)
                if entry is not None and entry.session_id != tunnel.session_id:
                    await self._registry.replaced(tunnel, entry.session_id)
                    continue
                record = await certificates.get(tunnel.certificate_serial)
                if record is None or record.revoked:
                    await self._registry.revoked(tunnel.device.id, announce=False)
                    continue
                await self._registry.entitlement_changed(tunnel.device.id, announce=False)
            except GatewayError as exc:
                _LOGGER.warning("fleet resync of %s failed: %s", tunnel.device.slug, exc)

    def _spawn(self, work: Coroutine[Any, Any, object], name: str) -> None:
        async def guarded() -> None:
            try:
                await work
            except Exception:
                _LOGGER.exception("%s failed", name)

        task = asyncio.create_task(guarded(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class _Waker:
    """Wakes a scheduler when told about an entitlement change."""

    def __init__(self, wake: Callable[[], None] | None) -> None:
        self._wake = wake

    async def entitlement_changed(self, device_id: int) -> None:
        del device_id  # any change: the scheduler looks at everything due
        if self._wake is not None:
            self._wake()
