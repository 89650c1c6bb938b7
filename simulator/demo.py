"""``simulator demo``: the whole system on one machine, on SQLite, over TLS on loopback.

::

    gateway (HTTPS, SQLite, local CA)  ◄══ tunnel ══  CCU add-on  ──►  simulated CCU (WebUI)
         portal: demo (homeowner), installateur        └─ dashboard at /addons/cloudconnector/
                                        ◄══ tunnel ══  inverter agent ──RS485 (pty)──► 3 inverters

One asyncio process. On the first run the add-on and the agent ask the gateway for pairing
codes (the real enrolment API); the demo enters them for the homeowner (the CCU) and the
installer (the agent) through the portal's enrolment service, and the devices collect their
certificates and connect. The installer's plant holds the three inverters, added by serial and
activation code. A second run finds all of that in the state folder and reuses it.

When both tunnels are up, the demo prints where to look (``--print-json``: one JSON object)
and runs until ``stop`` is set (Ctrl-C); then the devices stop first, the simulators and the
gateway last.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ccu_addon.app import run_addon
from ccu_addon.config import AddonConfig
from ccu_addon.packages import PackageCache
from ccu_addon.status import AddonState
from cloud_gateway.accounts.model import Account
from cloud_gateway.plants.model import Plant
from cloud_gateway.server import RunningGateway
from inverter_agent.agent import Agent
from inverter_agent.config import AgentConfig
from simulator.ccu import SimulatedCcu
from simulator.demo_billing import DemoMoney, ensure_demo_money
from simulator.demo_devices import (
    ADDON_ID,
    ccu_session,
    demo_ccu,
    inverter_bus,
    midsummer_noon,
    rtu_server,
    write_addon_config,
    write_agent_config,
)
from simulator.demo_facts import Running, describe, render_text
from simulator.demo_gateway import (
    HOMEOWNER,
    INSTALLER,
    OPERATOR,
    PUBLIC_HOST,
    TunnelWatch,
    claim,
    ensure_account,
    ensure_plant,
    start_demo_gateway,
)
from simulator.demo_licence import ensure_licence_buyer
from simulator.demo_payments import DemoPayments, start_payment_simulators
from simulator.inverter import DEMO_MANUFACTURER_KEY, InverterBus, RtuInverterServer
from simulator.mailcatcher import MailCatcher
from tunnel.clock import Clock, SystemClock
from tunnel.enrolment import CERT_FILE, load_identity

__all__ = ["describe", "run_demo"]

_LOGGER = logging.getLogger(__name__)

CodeSink = Callable[[str | None], None]


class _ShownCode(AddonState):
    """The add-on's live state, also handing each pairing code to the demo."""

    def __init__(self, cache: PackageCache, on_code: CodeSink) -> None:
        super().__init__(cache)
        self._on_code = on_code

    def show_pairing_code(self, code: str | None) -> None:
        super().show_pairing_code(code)
        self._on_code(code)


@dataclass(slots=True)
class _Device:
    """One demo device as far as pairing goes: its owner and, once known, its slug."""

    owner: Account
    state_dir: Path
    codes: asyncio.Queue[tuple[_Device, str]]
    slug: asyncio.Future[str] = field(default_factory=asyncio.Future)

    async def known_slug(self) -> None:
        """The slug of an enrolment an earlier run completed."""
        if await asyncio.to_thread((self.state_dir / CERT_FILE).is_file):
            identity = await asyncio.to_thread(load_identity, self.state_dir)
            if identity.slug:
                self.slug.set_result(identity.slug)

    def show(self, code: str | None) -> None:
        """The device's ``on_pairing_code``: queue the code for the demo to enter."""
        if code is not None:
            self.codes.put_nowait((self, code))


@dataclass(slots=True, kw_only=True)
class _World:
    """The gateway, the simulators and the device configurations of this run."""

    gateway: RunningGateway
    watch: TunnelWatch
    ccu: SimulatedCcu
    bus: InverterBus
    rtu: RtuInverterServer
    plant: Plant
    money: DemoMoney
    inverter_start: datetime
    hub: _Device
    agent: _Device
    addon_config: AddonConfig
    agent_config: AgentConfig
    codes: asyncio.Queue[tuple[_Device, str]]
    state_dir: Path
    payments: DemoPayments


async def _start(
    stack: contextlib.AsyncExitStack, state_dir: Path, port: int, clock: Clock
) -> _World:
    """Gateway, accounts, plant, simulated CCU and bus; closed by ``stack`` in reverse."""
    payments = await start_payment_simulators(stack)
    public = f"https://{PUBLIC_HOST}:{port}"
    # the demo's mails go to a local catcher; the portal shows them as "Postfach (Demo)"
    catcher = MailCatcher(state_dir / "mailbox")
    await catcher.start()
    stack.push_async_callback(catcher.stop)
    gateway = await start_demo_gateway(
        state_dir / "gateway",
        port,
        clock,
        # with port 0 the public port is known only once the gateway listens: the providers'
        # return and notify addresses then come from the buyer's own request (its origin)
        payments.config(public if port else ""),
        smtp_port=catcher.port,
        mailbox_dir=catcher.folder,
    )
    stack.push_async_callback(gateway.stop)
    payments.listen(f"https://127.0.0.1:{gateway.port}")
    watch = TunnelWatch(gateway)
    homeowner = await ensure_account(gateway, HOMEOWNER, clock)
    installer = await ensure_account(gateway, INSTALLER, clock)
    await ensure_account(gateway, OPERATOR, clock)  # the console: /console (TOTP at first visit)
    money = await ensure_demo_money(gateway, homeowner)
    inverter_start = midsummer_noon(clock.now())
    bus = inverter_bus(inverter_start)
    labels = [(i["serial"], i["activation_code"]) for i in bus.describe(DEMO_MANUFACTURER_KEY)]
    plant = await ensure_plant(gateway, installer, labels, clock)
    await ensure_licence_buyer(gateway, installer, clock)

    ccu = demo_ccu()
    await ccu.start()
    stack.push_async_callback(ccu.stop)
    rtu = rtu_server(bus)
    await rtu.start()
    stack.push_async_callback(rtu.close)

    codes: asyncio.Queue[tuple[_Device, str]] = asyncio.Queue()
    hub = _Device(homeowner, state_dir / "ccu-addon", codes)
    agent = _Device(installer, state_dir / "inverter-agent", codes)
    for device in (hub, agent):
        await device.known_slug()
    # devices reach the gateway by address (its certificate has IP SANs)
    url = f"https://127.0.0.1:{gateway.port}/"
    ca_file = gateway.tls.ca_cert or gateway.tls.cert
    addon_config = await asyncio.to_thread(
        write_addon_config, hub.state_dir, gateway_url=url, ca_file=ca_file, ccu=ccu
    )
    agent_config = await asyncio.to_thread(
        write_agent_config,
        agent.state_dir,
        gateway_url=url,
        ca_file=ca_file,
        serial_port=rtu.path,
        unit_ids=[i.unit_id for i in bus],
    )
    return _World(
        gateway=gateway,
        watch=watch,
        ccu=ccu,
        bus=bus,
        rtu=rtu,
        plant=plant,
        money=money,
        inverter_start=inverter_start,
        hub=hub,
        agent=agent,
        addon_config=addon_config,
        agent_config=agent_config,
        codes=codes,
        state_dir=state_dir,
        payments=payments,
    )


async def _tick(ccu: SimulatedCcu) -> None:
    """The simulated CCU's live behaviour (meters, thermostats), as ``simulator ccu`` runs it."""
    while True:
        await asyncio.sleep(ccu.config.tick_interval)
        ccu.tick()


async def _pair(world: _World) -> None:
    """Enter every pairing code a device shows for its owner, as the portal would."""
    while True:
        device, code = await world.codes.get()
        slug = await claim(world.gateway, code, device.owner)
        if slug is not None and not device.slug.done():
            device.slug.set_result(slug)


async def _report(world: _World, dashboard: asyncio.Future[int], *, print_json: bool) -> None:
    """Once both tunnels are up and the dashboard is mounted: print where to look."""
    ccu_slug, agent_slug = await world.hub.slug, await world.agent.slug
    await world.watch.wait_live(ccu_slug, agent_slug)
    await dashboard
    running = Running(
        gateway=world.gateway,
        ccu=world.ccu,
        bus=world.bus,
        rtu=world.rtu,
        plant=world.plant,
        money=world.money,
        ccu_slug=ccu_slug,
        agent_slug=agent_slug,
        sid=await ccu_session(world.ccu),
        inverter_clock_start=world.inverter_start,
        state_dir=world.state_dir,
    )
    facts = describe(running)
    facts["payments"] = world.payments.facts()
    print(json.dumps(facts) if print_json else render_text(facts), flush=True)
    if not print_json:
        print(world.payments.text(), flush=True)


async def _run_devices(
    world: _World, clock: Clock, stop: asyncio.Event, *, print_json: bool
) -> None:
    """Add-on and agent until ``stop``; then they stop first (the simulators stay up)."""
    dashboard: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def mount(port: int) -> None:
        world.ccu.mount_addon(ADDON_ID, f"http://127.0.0.1:{port}/")
        dashboard.set_result(port)

    halt = asyncio.Event()
    state = _ShownCode(PackageCache(world.hub.state_dir), world.hub.show)
    agent = Agent(world.agent_config, clock=clock, on_pairing_code=world.agent.show)
    async with asyncio.TaskGroup() as group:
        group.create_task(
            run_addon(world.addon_config, halt, clock=clock, state=state, on_dashboard=mount),
            name="ccu-addon",
        )
        group.create_task(agent.run(halt), name="inverter-agent")
        helpers = [
            group.create_task(_tick(world.ccu), name="ccu-tick"),
            group.create_task(_pair(world), name="pairing"),
            group.create_task(_report(world, dashboard, print_json=print_json), name="report"),
        ]
        try:
            await stop.wait()
        finally:
            _LOGGER.info("demo stopping")
            for task in helpers:
                task.cancel()
            halt.set()


async def run_demo(state_dir: Path, port: int, stop: asyncio.Event, *, print_json: bool) -> int:
    """Start everything, print where to look, run until ``stop`` is set."""
    clock = SystemClock()
    async with contextlib.AsyncExitStack() as stack:
        world = await _start(stack, state_dir, port, clock)
        await _run_devices(world, clock, stop, print_json=print_json)
    return 0
