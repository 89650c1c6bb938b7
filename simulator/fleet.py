"""``simulator fleet``: many devices against one gateway, for load and reconnect-storm tests.

Every device is the real product daemon in this process, with its own state folder
(``<state-dir>/<kind>-0001/``: key, certificate, caches, the agent's outbox), so a second run
with the same folder reuses the identities and skips enrolment:

* ``--kind ccu``: the CCU add-on daemon (:func:`ccu_addon.app.run_addon`, everything it runs:
  dashboard, CCU event bridge, enrolment, tunnel, streams, telemetry) against one shared
  :class:`~simulator.ccu.SimulatedCcu`;
* ``--kind agent``: the inverter agent (:class:`inverter_agent.agent.Agent`: buses, outbox,
  uplink) with its tunnel, against one shared bus of simulated Modbus TCP inverters.

See :mod:`simulator.fleet_devices`. Full daemons cost memory (roughly one add-on's RSS
increment per device, a few MiB, with its two small HTTP servers); a few hundred devices per
process are fine, thousands want several fleet processes.

Enrolment is the real flow: each new device asks the gateway for a pairing code; with
``--account``/``--password`` the fleet logs in to the portal as that owner (CSRF and all)
and enters every code on ``/portal/devices/pair``; with ``--claim-none`` it only prints the
codes. The gateway limits enrolment requests per source address
(``enrolment.max_enrolments_per_source``, 30 per window by default): raise it for larger
fresh fleets. Devices start spread over ``--ramp`` seconds.

The fleet watches each device's tunnel connector a few times a second: counts per state, and
a connect whenever a device's session id changes (a session shorter than the sampling
interval can go uncounted). Ctrl-C (SIGINT) or SIGTERM stops every device cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

from cryptography import x509
from cryptography.x509.oid import NameOID

from simulator.ccu import SimulatedCcu
from simulator.fleet_devices import AgentMember, CcuMember, Member
from simulator.fleet_portal import PortalError, PortalOwner
from simulator.fleet_progress import FleetCounts, Progress
from simulator.inverter import InverterBus, TcpInverterServer
from simulator.inverter import SystemClock as InverterClock
from tunnel.clock import Clock, SystemClock
from tunnel.connector import ConnectorState
from tunnel.enrolment import CERT_FILE
from tunnel.session import DisconnectReason

__all__ = ["DeviceKind", "Fleet", "FleetCounts", "FleetOptions", "run_fleet"]

_LOGGER = logging.getLogger(__name__)
_SAMPLE_S = 0.1
_AGENT_INVERTERS = 3


class DeviceKind(StrEnum):
    """What the fleet's devices are."""

    CCU = "ccu"
    AGENT = "agent"


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetOptions:
    """What ``simulator fleet`` was asked to do."""

    gateway_url: str
    """Base URL of the gateway (``https://host:port/``)."""
    ca_file: Path | None
    """CA to verify the gateway with; the system store when unset."""
    count: int
    """Devices to run."""
    kind: DeviceKind
    """CCU add-ons or inverter agents."""
    state_dir: Path
    """Parent of the devices' state folders."""
    account: str | None = None
    """Portal login that claims the pairing codes; None: only show them."""
    password: str | None = None
    """Password of ``account``."""
    ramp_s: float = 0.0
    """Spread the device starts over this many seconds."""
    progress_interval_s: float = 5.0
    """Seconds between plain progress lines when not on a terminal."""

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("count must be at least 1")
        if self.ramp_s < 0:
            raise ValueError("ramp must not be negative")
        if (self.account is None) != (self.password is None):
            raise ValueError("account and password go together")


@dataclass(slots=True)
class _Watch:
    """What the fleet knows about one member between samples."""

    member: Member
    started: bool = False
    code: str | None = None
    session_id: str | None = None
    sessions: int = 0


class Fleet:
    """Runs the devices, claims their codes, keeps the counts."""

    def __init__(
        self,
        options: FleetOptions,
        *,
        clock: Clock | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.options = options
        self._clock = clock or SystemClock()
        self._progress = progress
        self._watches: list[_Watch] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._codes: asyncio.Queue[_Watch] = asyncio.Queue()
        self._changed = asyncio.Condition()
        self._history: deque[tuple[float, int]] = deque(maxlen=64)
        self.claimed = 0
        self.counts = _empty_counts()
        """The latest snapshot."""

    # -- observation ---------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[FleetCounts], bool]) -> FleetCounts:
        """Wait until a snapshot satisfies ``predicate``; that snapshot."""
        async with self._changed:
            await self._changed.wait_for(lambda: predicate(self.counts))
            return self.counts

    def report(self) -> dict[str, Any]:
        """The final summary (``--print-json``)."""
        return {
            "kind": str(self.options.kind),
            "count": self.options.count,
            **asdict(self.counts),
            "devices": [
                {"index": w.member.index, "state_dir": str(w.member.state_dir)}
                for w in self._watches
            ],
        }

    # -- running -------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Start the hardware and the devices; run until ``stop`` is set."""
        async with contextlib.AsyncExitStack() as stack:
            make = await self._hardware(stack)
            owner = await self._owner(stack)
            self._watches = [
                _Watch(make(i, self.options.state_dir / f"{self.options.kind}-{i + 1:04d}"))
                for i in range(self.options.count)
            ]
            halt = asyncio.Event()
            async with asyncio.TaskGroup() as group:
                sampler = group.create_task(self._sample_forever(), name="fleet sampler")
                claimer = group.create_task(self._claim_forever(owner), name="fleet claims")
                devices = group.create_task(self._start_all(group, halt, stop), name="ramp")
                await stop.wait()
                halt.set()
                await devices
                if self._tasks:
                    await asyncio.wait(self._tasks)
                self._sample()
                sampler.cancel()
                claimer.cancel()
        if self._progress is not None:
            self._progress.finish(self.counts)

    async def _hardware(self, stack: contextlib.AsyncExitStack) -> Callable[[int, Path], Member]:
        options, clock = self.options, self._clock
        if options.kind is DeviceKind.CCU:
            ccu = await stack.enter_async_context(SimulatedCcu())

            def ccu_member(index: int, folder: Path) -> Member:
                return CcuMember(
                    index,
                    folder,
                    gateway_url=options.gateway_url,
                    ca_file=options.ca_file,
                    ccu=ccu,
                    clock=clock,
                    on_code=self._on_code,
                )

            return ccu_member
        bus = InverterBus.generate(_AGENT_INVERTERS, seed=1, clock=InverterClock())
        server = await stack.enter_async_context(TcpInverterServer(bus, "127.0.0.1", 0))
        units = tuple(range(1, _AGENT_INVERTERS + 1))

        def agent_member(index: int, folder: Path) -> Member:
            return AgentMember(
                index,
                folder,
                gateway_url=options.gateway_url,
                ca_file=options.ca_file,
                modbus=(server.host, server.port),
                unit_ids=units,
                clock=clock,
                on_code=self._on_code,
            )

        return agent_member

    async def _owner(self, stack: contextlib.AsyncExitStack) -> PortalOwner | None:
        options = self.options
        if options.account is None or options.password is None:
            return None
        cafile = str(options.ca_file) if options.ca_file else None
        trust = await asyncio.to_thread(ssl.create_default_context, cafile=cafile)
        owner = PortalOwner(
            options.gateway_url, trust, login=options.account, password=options.password
        )
        return await stack.enter_async_context(owner)

    async def _start_all(
        self, group: asyncio.TaskGroup, halt: asyncio.Event, stop: asyncio.Event
    ) -> None:
        pause = self.options.ramp_s / self.options.count
        for watch in self._watches:
            if stop.is_set():
                return
            watch.started = True
            name = f"device {watch.member.index}"
            self._tasks.append(group.create_task(self._run_member(watch, halt), name=name))
            if pause > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(pause):
                        await stop.wait()

    async def _run_member(self, watch: _Watch, halt: asyncio.Event) -> None:
        try:
            await watch.member.run(halt)
        except Exception:  # one broken device must not end the fleet
            _LOGGER.exception("device %d failed", watch.member.index)
        finally:
            watch.started = False

    # -- pairing codes -------------------------------------------------------------------

    def _on_code(self, member: Member, code: str | None) -> None:
        watch = self._watches[member.index]
        watch.code = code
        if code is None:
            return
        if self.options.account is None and self._progress is not None:
            self._progress.message(f"device {member.index + 1}: pairing code {code}")
        self._codes.put_nowait(watch)

    async def _claim_forever(self, owner: PortalOwner | None) -> None:
        if owner is None:
            await asyncio.Future()  # nothing to claim; cancelled at the end
        assert owner is not None
        while True:
            watch = await self._codes.get()
            code = watch.code
            if code is None:  # withdrawn meanwhile (enrolment failed and starts again)
                continue
            try:
                await owner.claim(code)
            except (PortalError, OSError, TimeoutError) as exc:
                _LOGGER.warning("device %d: claiming its code failed: %s", watch.member.index, exc)
            else:
                self.claimed += 1

    # -- counting ------------------------------------------------------------------------

    async def _sample_forever(self) -> None:
        while True:
            await asyncio.sleep(_SAMPLE_S)
            self._sample()
            async with self._changed:
                self._changed.notify_all()

    def _sample(self) -> None:
        started = pending = enrolled = connected = refused = reconnecting = connects = 0
        reconnects = 0
        for watch in self._watches:
            started += watch.started
            pending += watch.code is not None
            connector = watch.member.connector
            if connector is None:
                continue
            enrolled += 1
            status = connector.status()
            if status.session_id is not None and status.session_id != watch.session_id:
                watch.session_id = status.session_id
                watch.sessions += 1
            connects += watch.sessions
            reconnects += max(watch.sessions - 1, 0)
            last = status.last_disconnect
            if connector.state is ConnectorState.CONNECTED:
                connected += 1
            elif last is not None and last.reason is DisconnectReason.REFUSED:
                refused += 1
            elif connector.state is not ConnectorState.STOPPED:
                reconnecting += 1
        now = asyncio.get_running_loop().time()
        self._history.append((now, connects))
        while len(self._history) > 2 and now - self._history[1][0] >= 1.0:
            self._history.popleft()
        first_at, first = self._history[0]
        rate = (connects - first) / (now - first_at) if now > first_at else 0.0
        self.counts = FleetCounts(
            started=started,
            pending=pending,
            enrolled=enrolled,
            connected=connected,
            refused=refused,
            reconnecting=reconnecting,
            connects=connects,
            reconnects=reconnects,
            claimed=self.claimed,
            connects_per_s=round(rate, 2),
        )
        if self._progress is not None:
            self._progress.update(self.counts, now)


def _empty_counts() -> FleetCounts:
    return FleetCounts(
        started=0,
        pending=0,
        enrolled=0,
        connected=0,
        refused=0,
        reconnecting=0,
        connects=0,
        reconnects=0,
        claimed=0,
        connects_per_s=0.0,
    )


def device_slug(state_dir: Path) -> str | None:
    """The slug in a device folder's certificate (its CN); None before enrolment."""
    path = state_dir / CERT_FILE
    if not path.is_file():
        return None
    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


async def run_fleet(
    options: FleetOptions,
    stop: asyncio.Event,
    *,
    print_json: bool = False,
    stream: TextIO | None = None,
) -> int:
    """``simulator fleet``: run until ``stop``; with ``print_json`` one JSON line at the end."""
    out = stream or sys.stdout
    progress = Progress(
        sys.stderr if print_json else out,
        str(options.kind),
        options.count,
        interval=options.progress_interval_s,
    )
    fleet = Fleet(options, progress=progress)
    failed: list[str] = []
    try:
        await fleet.run(stop)
    except* PortalError as group:  # the owner's login failed: nothing can be claimed
        failed.extend(str(exc) for exc in group.exceptions)
    if failed:
        progress.message(f"simulator fleet: {failed[0]}")
        return 1
    if print_json:
        report = fleet.report()
        slugs = await asyncio.to_thread(
            lambda: [device_slug(Path(d["state_dir"])) for d in report["devices"]]
        )
        for device, slug in zip(report["devices"], slugs, strict=True):
            device["slug"] = slug
        out.write(json.dumps(report) + "\n")
        out.flush()
    return 0
