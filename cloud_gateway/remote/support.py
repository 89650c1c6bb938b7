"""Who opens a device remotely, with the owner's support grant counted (R-OPS-4, ADR 0021).

``accounts.access.can`` lets an operator open a hub only if the hub is in the actor's
``support_devices``. :func:`remote_actor` is the one place that fills it: the account as an
actor, plus the device when its owner's support grant is live now. The second value is when
that grant ends, so that callers caching the answer (the remote gate) stop believing it then.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from cloud_gateway.accounts.access import Actor, actor_for
from cloud_gateway.accounts.model import Account, Role
from cloud_gateway.devices.model import Device
from cloud_gateway.remote.repository_support import SupportGrantRepository
from cloud_gateway.store import Store

__all__ = ["DEFAULT_GRANT", "MAX_GRANT", "grant_duration", "remote_actor"]

DEFAULT_GRANT = timedelta(hours=24)
"""How long support access lasts unless the owner chooses otherwise."""
MAX_GRANT = timedelta(days=7)
"""The longest support access an owner may grant at once."""


async def remote_actor(
    store: Store, account: Account, device: Device, now: datetime
) -> tuple[Actor, datetime | None]:
    """``account`` as an actor for opening ``device`` at ``now``, and when a grant ends."""
    actor = await actor_for(store, account)
    if account.role is not Role.OPERATOR:
        return actor, None
    grant = await store.repo(SupportGrantRepository).live(device.id, now)
    if grant is None:
        return actor, None
    return replace(actor, support_devices=frozenset({device.id})), grant.expires_at


def grant_duration(hours: str | None) -> timedelta | None:
    """The owner's chosen duration in whole hours (1 h .. 7 days), or None if unusable."""
    if hours is None or not hours.strip():
        return DEFAULT_GRANT
    try:
        value = int(hours.strip())
    except ValueError:
        return None
    duration = timedelta(hours=value)
    if value < 1 or duration > MAX_GRANT:
        return None
    return duration
