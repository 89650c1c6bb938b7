"""Shared set-up for plant and telemetry tests: accounts, plants, agents, reading payloads."""

from __future__ import annotations

import json
from datetime import datetime

from cloud_gateway.accounts.model import Account
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.devices.model import Device, DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.plants.model import Plant, PlantFields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.store import Store
from tunnel.clock import Clock


async def account(store: Store, clock: Clock, name: str) -> Account:
    return await store.repo(AccountRepository).create(
        username=name, email=f"{name}@example.org", password_hash="h", created_at=clock.now()
    )


async def plant(store: Store, clock: Clock, owner: Account, name: str = "Scheune") -> Plant:
    return await store.repo(PlantRepository).create(owner.id, PlantFields(name=name), clock.now())


async def agent(store: Store, clock: Clock, owner: Account | None, slug: str = "agent-1") -> Device:
    return await store.repo(DeviceRepository).create(
        slug=slug,
        kind=DeviceKind.INVERTER_AGENT,
        created_at=clock.now(),
        account_id=None if owner is None else owner.id,
    )


def reading(serial: str, at: datetime, w: float | None, wh: float | None) -> bytes:
    body: dict[str, object] = {
        "v": 1,
        "k": "reading",
        "sn": serial,
        "unit": 1,
        "ts": int(at.timestamp() * 1000),
    }
    if w is not None:
        body["w"] = w
    if wh is not None:
        body["wh"] = wh
    return json.dumps(body).encode()


def info(serial: str, wrtg: float) -> bytes:
    return json.dumps(
        {
            "v": 1,
            "k": "info",
            "sn": serial,
            "unit": 1,
            "ts": 1768467600000,
            "wrtg": wrtg,
            "mn": "Acme",
        }
    ).encode()
