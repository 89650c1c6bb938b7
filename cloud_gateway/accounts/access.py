"""Who may do what to which object: the one place every tenant check goes through.

``can(actor, action, resource)`` is pure. Rules:

- operators may do everything (R-OPS-2) except open a hub remotely: that needs the owner's
  time-limited support grant of that very device (R-OPS-4, ADR 0021); the remote area puts
  the devices with a live grant into ``Actor.support_devices``; their changes are audited
  where they happen; they never grant that support access themselves (``SUPPORT``) and read
  no customer's orders or documents (money is the accountants', in the console);
- accountants handle money in the console and reach no customer object through this rule;
- owners may read, change and delete their own objects, and read (never change) their own
  entitlement windows, orders and documents; they grant and revoke delegations of their own
  plants and operators' support access to their own devices;
- installers may read a plant, its devices and its entitlement windows only while the owner
  delegates that plant (or all plants) to them (R-MON-20); nothing else of the owner;
- opening a device's web UI remotely (``REMOTE``) is full control of the hub, so a plant
  delegation never grants it: an installer needs a delegation of that very device, which
  also lets them read it;
- everybody else: nothing, for every object type and action.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from cloud_gateway.accounts.model import Account, Role
from cloud_gateway.accounts.repository_customers import CustomerRepository
from cloud_gateway.store import Store

__all__ = ["Action", "Actor", "Delegation", "ObjectKind", "Resource", "actor_for", "can"]


class Action(StrEnum):
    """What an actor wants to do."""

    READ = "read"
    UPDATE = "update"
    DELETE = "delete"
    MANAGE = "manage"
    """Grant or end (entitlement windows), delegate (plants), disable (devices)."""
    REMOTE = "remote"
    """Open a device's web UI through the remote-access proxy (R-DEV-7)."""
    SUPPORT = "support"
    """Grant or end operators' time-limited support access to a device (ADR 0021)."""


class ObjectKind(StrEnum):
    """Object types with a tenant."""

    ACCOUNT = "account"
    DEVICE = "device"
    WINDOW = "window"
    CUSTOMER_DATA = "customer_data"
    PLANT = "plant"
    DELEGATION = "delegation"
    ORDER = "order"
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class Delegation:
    """An owner lets an installer monitor one plant, or all plants (``plant_id`` None), or
    open one device remotely (``device_id`` set, ``plant_id`` None)."""

    owner_account_id: int
    plant_id: int | None
    device_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """The logged-in account with the delegations it holds as installer."""

    account_id: int
    role: Role
    delegations: frozenset[Delegation] = field(default_factory=frozenset)
    support_devices: frozenset[int] = field(default_factory=frozenset)
    """Devices whose owners grant operators support access now (only operators use it)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Resource:
    """An object as far as access control is concerned."""

    kind: ObjectKind
    owner_account_id: int | None
    """The tenant; None for objects nobody owns (only operators reach them)."""
    plant_id: int | None = None
    """The plant the object belongs to, if any (delegations are per plant)."""
    device_id: int | None = None
    """The device itself (kind ``DEVICE``), for device delegations."""


_OWNER_ACTIONS: dict[ObjectKind, frozenset[Action]] = {
    ObjectKind.ACCOUNT: frozenset({Action.READ, Action.UPDATE, Action.DELETE}),
    ObjectKind.DEVICE: frozenset(
        {Action.READ, Action.UPDATE, Action.DELETE, Action.REMOTE, Action.SUPPORT}
    ),
    ObjectKind.WINDOW: frozenset({Action.READ}),
    ObjectKind.CUSTOMER_DATA: frozenset({Action.READ, Action.UPDATE}),
    ObjectKind.PLANT: frozenset({Action.READ, Action.UPDATE, Action.DELETE, Action.MANAGE}),
    ObjectKind.DELEGATION: frozenset({Action.READ, Action.DELETE, Action.MANAGE}),
    ObjectKind.ORDER: frozenset({Action.READ}),
    ObjectKind.DOCUMENT: frozenset({Action.READ}),
}
_MONEY_KINDS = frozenset({ObjectKind.ORDER, ObjectKind.DOCUMENT})
_DELEGATED_KINDS = frozenset({ObjectKind.PLANT, ObjectKind.DEVICE, ObjectKind.WINDOW})


_PLANT_DELEGATED_ACTIONS = frozenset({Action.READ})
_DEVICE_DELEGATED_ACTIONS = frozenset({Action.READ, Action.REMOTE})


def _covers(d: Delegation, resource: Resource) -> bool:
    if d.owner_account_id != resource.owner_account_id:
        return False
    if d.device_id is not None:
        return resource.kind is ObjectKind.DEVICE and resource.device_id == d.device_id
    return resource.plant_id is not None and d.plant_id in (None, resource.plant_id)


def _delegated(actor: Actor, action: Action, resource: Resource) -> bool:
    if actor.role is not Role.INSTALLER or resource.kind not in _DELEGATED_KINDS:
        return False
    return any(
        action in (_PLANT_DELEGATED_ACTIONS if d.device_id is None else _DEVICE_DELEGATED_ACTIONS)
        and _covers(d, resource)
        for d in actor.delegations
    )


def can(actor: Actor, action: Action, resource: Resource) -> bool:
    """Whether ``actor`` may perform ``action`` on ``resource``."""
    if actor.role is Role.OPERATOR:
        if action is Action.REMOTE:
            return resource.kind is ObjectKind.DEVICE and resource.device_id in (
                actor.support_devices
            )
        return action is not Action.SUPPORT and resource.kind not in _MONEY_KINDS
    if actor.role is Role.ACCOUNTANT:
        return False
    if resource.owner_account_id is not None and resource.owner_account_id == actor.account_id:
        return action in _OWNER_ACTIONS[resource.kind]
    if resource.kind is ObjectKind.DELEGATION:
        # only the owner manages a delegation; installers see theirs through their own list
        return False
    return _delegated(actor, action, resource)


async def actor_for(store: Store, account: Account) -> Actor:
    """``account`` as an :class:`Actor` with the delegations it holds now."""
    held = await store.repo(CustomerRepository).delegations(installer_account_id=account.id)
    return Actor(
        account_id=account.id,
        role=account.role,
        delegations=frozenset(
            Delegation(d.owner_account_id, d.plant_id, d.device_id) for d in held
        ),
    )
