"""Who may do what to which object: the one place every tenant check goes through.

``can(actor, action, resource)`` is pure. Rules:

- operators may do everything (R-OPS-2); their changes are audited where they happen;
- owners may read, change and delete their own objects, and read (never change) their own
  entitlement windows; they grant and revoke delegations of their own plants;
- installers may read a plant, its devices and its entitlement windows only while the owner
  delegates that plant (or all plants) to them (R-MON-20); nothing else of the owner;
- everybody else: nothing, for every object type and action.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from cloud_gateway.store.accounts import Role

__all__ = ["Action", "Actor", "Delegation", "ObjectKind", "Resource", "can"]


class Action(StrEnum):
    """What an actor wants to do."""

    READ = "read"
    UPDATE = "update"
    DELETE = "delete"
    MANAGE = "manage"
    """Grant or end (entitlement windows), delegate (plants), disable (devices)."""


class ObjectKind(StrEnum):
    """Object types with a tenant."""

    ACCOUNT = "account"
    DEVICE = "device"
    WINDOW = "window"
    CUSTOMER_DATA = "customer_data"
    PLANT = "plant"
    DELEGATION = "delegation"


@dataclass(frozen=True, slots=True)
class Delegation:
    """An owner lets an installer monitor one plant, or all plants (``plant_id`` None)."""

    owner_account_id: int
    plant_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """The logged-in account with the delegations it holds as installer."""

    account_id: int
    role: Role
    delegations: frozenset[Delegation] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True, kw_only=True)
class Resource:
    """An object as far as access control is concerned."""

    kind: ObjectKind
    owner_account_id: int | None
    """The tenant; None for objects nobody owns (only operators reach them)."""
    plant_id: int | None = None
    """The plant the object belongs to, if any (delegations are per plant)."""


_OWNER_ACTIONS: dict[ObjectKind, frozenset[Action]] = {
    ObjectKind.ACCOUNT: frozenset({Action.READ, Action.UPDATE, Action.DELETE}),
    ObjectKind.DEVICE: frozenset({Action.READ, Action.UPDATE, Action.DELETE}),
    ObjectKind.WINDOW: frozenset({Action.READ}),
    ObjectKind.CUSTOMER_DATA: frozenset({Action.READ, Action.UPDATE}),
    ObjectKind.PLANT: frozenset({Action.READ, Action.UPDATE, Action.DELETE, Action.MANAGE}),
    ObjectKind.DELEGATION: frozenset({Action.READ, Action.DELETE, Action.MANAGE}),
}
_DELEGATED_KINDS = frozenset({ObjectKind.PLANT, ObjectKind.DEVICE, ObjectKind.WINDOW})


def _delegated(actor: Actor, resource: Resource) -> bool:
    if actor.role is not Role.INSTALLER or resource.plant_id is None:
        return False
    owner = resource.owner_account_id
    return any(
        d.owner_account_id == owner and d.plant_id in (None, resource.plant_id)
        for d in actor.delegations
    )


def can(actor: Actor, action: Action, resource: Resource) -> bool:
    """Whether ``actor`` may perform ``action`` on ``resource``."""
    if actor.role is Role.OPERATOR:
        return True
    if resource.owner_account_id is not None and resource.owner_account_id == actor.account_id:
        return action in _OWNER_ACTIONS[resource.kind]
    if resource.kind is ObjectKind.DELEGATION:
        # only the owner manages a delegation; installers see theirs through their own list
        return False
    return (
        action is Action.READ and resource.kind in _DELEGATED_KINDS and _delegated(actor, resource)
    )
