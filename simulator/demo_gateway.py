"""The demo's gateway side: the gateway on SQLite, its demo accounts, pairing and the plant.

Everything goes through the gateway's own services, as the portal would use them: accounts as
registration makes them (terms accepted, the hub trial from creation, here without the e-mail
round trip), pairing codes claimed with the portal's :class:`EnrolmentService`, the plant
created and its inverters added by serial and activation code with
:class:`~cloud_gateway.plants.service.InverterRegistration` (which starts the plant's 40-day
trial with the first one). Each step first looks for what an earlier run left and reuses it.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from cloud_gateway.accounts.model import Account, Role
from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.accounts.repository_security import AccountSecurityRepository
from cloud_gateway.config import (
    EnrolmentConfig,
    GatewayConfig,
    HttpConfig,
    PaymentsConfig,
    PlantsConfig,
    PortalConfig,
    RemoteAccessConfig,
    SmtpConfig,
    TunnelEndpointConfig,
)
from cloud_gateway.http.keys import ENROLMENT, ENTITLEMENTS, INVERTER_REGISTRATION, TUNNELS
from cloud_gateway.plants.activation import normalise_serial
from cloud_gateway.plants.model import Plant, PlantFields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.server import RunningGateway, start_gateway
from cloud_gateway.tunnels.enrolment import RateLimitedError
from cloud_gateway.tunnels.registry import LiveTunnel
from tunnel.clock import Clock
from tunnel.tomlconfig import dump_config

__all__ = [
    "CONFIG_FILE",
    "HOMEOWNER",
    "INSTALLER",
    "OPERATOR",
    "PLANT_NAME",
    "PUBLIC_HOST",
    "DemoLogin",
    "TunnelWatch",
    "claim",
    "ensure_account",
    "ensure_plant",
    "start_demo_gateway",
]

_LOGGER = logging.getLogger(__name__)

PUBLIC_HOST = "gateway.localhost"
"""Portal host and remote-access domain: device hosts are ``<slug>.gateway.localhost``
(OpenSSL and browsers match no wildcard directly below ``localhost``; browsers resolve every
``*.localhost`` name to loopback by themselves)."""
PLANT_NAME = "Demo-Anlage"


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoLogin:
    """A demo account's portal login."""

    username: str
    """User name (also the first part of its e-mail address)."""
    password: str
    """Its password (meets the password policy)."""
    role: Role
    """Homeowner (customer) or installer."""


HOMEOWNER = DemoLogin(username="demo", password="Demo!2026", role=Role.CUSTOMER)  # noqa: S106 - documented demo login
INSTALLER = DemoLogin(username="installateur", password="Demo!2026", role=Role.INSTALLER)  # noqa: S106 - documented demo login
OPERATOR = DemoLogin(username="betrieb", password="Demo!2026", role=Role.OPERATOR)  # noqa: S106 - documented demo login


def demo_gateway_config(
    state_dir: Path,
    port: int,
    payments: PaymentsConfig | None = None,
    *,
    smtp_port: int = 0,
    mailbox_dir: Path | None = None,
) -> GatewayConfig:
    """The gateway as the demo runs it: SQLite in ``state_dir``, portal at gateway.localhost.

    ``payments`` points at the PayPal and PSP simulators; with ``smtp_port`` the gateway sends
    its mails to the demo's mail catcher there, and the portal shows ``mailbox_dir`` as
    "Postfach (Demo)".
    """
    return GatewayConfig(
        state_dir=state_dir.resolve(),
        remote_domain=PUBLIC_HOST,
        http=HttpConfig(port=port, public_host=PUBLIC_HOST),
        # the demo claims codes at once: let the devices notice within a second
        enrolment=EnrolmentConfig(poll_interval_s=1.0),
        # the CCU add-on serves its WebUI as stream target "webui" (ccu_addon.streams)
        remote=RemoteAccessConfig(target="webui"),
        # one hub and one agent: after a restart they need not wait up to two minutes
        tunnel=TunnelEndpointConfig(reconnect_window_s=5.0),
        # the PayPal and PSP simulators (simulator.demo_payments)
        payments=payments or PaymentsConfig(),
        smtp=SmtpConfig(host="127.0.0.1", port=smtp_port, poll_interval_s=2.0)
        if smtp_port
        else SmtpConfig(),
        portal=PortalConfig(
            demo_mailbox_dir=mailbox_dir.resolve() if mailbox_dir is not None else None
        ),
        # the demo's inverter labels carry codes of the public demo manufacturer key
        plants=PlantsConfig(demo_activation_key=True),
    )


CONFIG_FILE = "gateway.toml"
"""The configuration the demo runs its gateway with, written into the gateway's state folder so
that every ``cloud-gateway`` command can be pointed at the demo's database."""


async def start_demo_gateway(
    state_dir: Path,
    port: int,
    clock: Clock,
    payments: PaymentsConfig | None = None,
    *,
    smtp_port: int = 0,
    mailbox_dir: Path | None = None,
) -> RunningGateway:
    """Start the gateway on ``port``, or on a free one when that is taken.

    The configuration in force is written to ``state_dir / "gateway.toml"``.
    """
    config = demo_gateway_config(
        state_dir, port, payments, smtp_port=smtp_port, mailbox_dir=mailbox_dir
    )
    try:
        gateway = await start_gateway(config, clock)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE or port == 0:
            raise
        _LOGGER.warning("port %d is taken, using a free one", port)
        config = replace(config, http=replace(config.http, port=0))
        gateway = await start_gateway(config, clock)
    await asyncio.to_thread((config.state_dir / CONFIG_FILE).write_text, dump_config(config))
    return gateway


async def ensure_account(gateway: RunningGateway, login: DemoLogin, clock: Clock) -> Account:
    """The demo account ``login``: found from an earlier run, or made as registration does."""
    store = gateway.store
    found = await store.repo(AccountRepository).find_by_login(login.username)
    if found is not None:
        return found
    password_hash = await asyncio.to_thread(PasswordHasher().hash, login.password)
    documents = await store.repo(AccountSecurityRepository).current_documents()
    now = clock.now()
    async with store.engine.begin() as conn:
        account = await store.repo(AccountSecurityRepository).create_account(
            conn,
            username=login.username,
            email=f"{login.username}@example.org",
            password_hash=password_hash,
            now=now,
            language="de",
            role=login.role,
        )
        await store.repo(AccountSecurityRepository).accept(conn, account.id, documents, now)
        await gateway.runner.app[ENTITLEMENTS].grant_account_trial(conn, account, now)
        await store.repo(AccountSecurityRepository).mark_verified(conn, account.id, now)
    _LOGGER.info("demo account %s created (%s)", login.username, login.role.value)
    return account


async def claim(gateway: RunningGateway, code: str, account: Account) -> str | None:
    """Enter ``code`` for ``account`` as the portal's pairing page does; the device's slug.

    ``None`` when the code is no longer open (expired, used): the device asks for a new one.
    """
    service = gateway.runner.app[ENROLMENT]
    try:
        claimed = await service.claim(code, account_id=account.id, source_address="127.0.0.1")
    except (LookupError, RateLimitedError) as exc:
        _LOGGER.warning("pairing code %s not claimed: %s", code, exc)
        return None
    _LOGGER.info("paired %s (%s) with %s", claimed.slug, claimed.kind, account.username)
    return claimed.slug


async def ensure_plant(
    gateway: RunningGateway,
    installer: Account,
    inverters: Iterable[tuple[str, str]],
    clock: Clock,
) -> Plant:
    """The installer's demo plant with every ``(serial, activation code)`` registered."""
    store = gateway.store
    plant = next(
        (
            p
            for p in await store.repo(PlantRepository).list_for_account(installer.id)
            if p.fields.name == PLANT_NAME
        ),
        None,
    )
    if plant is None:
        fields = PlantFields(
            name=PLANT_NAME,
            description="Drei simulierte Wechselrichter an einem RS485-Bus",
            latitude=52.52,
            longitude=13.40,
            postcode="10117",
            town="Berlin",
            azimuth_deg=180,
            tilt_deg=30,
            public=True,  # the public list and map show it (R-MON-6)
        )
        plant = await store.repo(PlantRepository).create(installer.id, fields, clock.now())
    known = {
        i.serial
        for i in await store.repo(InverterRepository).list_for_plant(plant.id, installer.id)
    }
    registration = gateway.runner.app[INVERTER_REGISTRATION]
    for number, (serial, code) in enumerate(inverters, start=1):
        if normalise_serial(serial) in known:
            continue
        await registration.add(
            account_id=installer.id,
            plant_id=plant.id,
            serial=serial,
            code=code,
            source_address="demo",
            name=f"Wechselrichter {number}",
        )
    return await store.repo(PlantRepository).get(plant.id, installer.id)


class TunnelWatch:
    """Which devices have a live tunnel (a state hook on the gateway's tunnel registry)."""

    def __init__(self, gateway: RunningGateway) -> None:
        self._registry = gateway.runner.app[TUNNELS]
        self._changed = asyncio.Condition()
        self._registry.state_hooks.append(self._seen)

    async def _seen(self, _tunnel: LiveTunnel) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _live(self, slugs: set[str]) -> bool:
        return slugs <= {t.device.slug for t in self._registry.live()}

    async def wait_live(self, *slugs: str) -> None:
        """Return once every device in ``slugs`` holds a tunnel."""
        wanted = set(slugs)
        async with self._changed:
            await self._changed.wait_for(lambda: self._live(wanted))
