"""Who may open a device remotely: ``can(actor, REMOTE, device)`` (pure)."""

from __future__ import annotations

from cloud_gateway.accounts.access import Action, Actor, Delegation, ObjectKind, Resource, can
from cloud_gateway.accounts.model import Role

OWNER, HUB = 1, 7
DEVICE = Resource(kind=ObjectKind.DEVICE, owner_account_id=OWNER, device_id=HUB)


def _installer(*delegations: Delegation) -> Actor:
    return Actor(account_id=4, role=Role.INSTALLER, delegations=frozenset(delegations))


def test_owner_may_open_strangers_may_not() -> None:
    assert can(Actor(account_id=OWNER, role=Role.CUSTOMER), Action.REMOTE, DEVICE)
    assert not can(Actor(account_id=2, role=Role.CUSTOMER), Action.REMOTE, DEVICE)


def test_operator_needs_the_owners_support_grant_of_that_device() -> None:
    assert not can(Actor(account_id=9, role=Role.OPERATOR), Action.REMOTE, DEVICE)
    granted = Actor(account_id=9, role=Role.OPERATOR, support_devices=frozenset({HUB}))
    assert can(granted, Action.REMOTE, DEVICE)
    other_hub = Resource(kind=ObjectKind.DEVICE, owner_account_id=OWNER, device_id=8)
    assert not can(granted, Action.REMOTE, other_hub)
    # a grant is only an operator's: an accountant or a customer holding one gets nothing
    for role in (Role.ACCOUNTANT, Role.CUSTOMER, Role.INSTALLER):
        holder = Actor(account_id=9, role=role, support_devices=frozenset({HUB}))
        assert not can(holder, Action.REMOTE, DEVICE)


def test_installer_needs_a_delegation_of_that_device() -> None:
    assert not can(_installer(), Action.REMOTE, DEVICE)
    assert not can(_installer(Delegation(OWNER, None)), Action.REMOTE, DEVICE)  # all plants
    assert not can(_installer(Delegation(OWNER, 5)), Action.REMOTE, DEVICE)
    delegated = _installer(Delegation(OWNER, None, HUB))
    assert can(delegated, Action.REMOTE, DEVICE)
    assert can(delegated, Action.READ, DEVICE)
    assert not can(delegated, Action.UPDATE, DEVICE)
    other_hub = Resource(kind=ObjectKind.DEVICE, owner_account_id=OWNER, device_id=8)
    assert not can(delegated, Action.REMOTE, other_hub)
    # the device changed hands: the old owner's delegation no longer counts
    sold = Resource(kind=ObjectKind.DEVICE, owner_account_id=3, device_id=HUB)
    assert not can(delegated, Action.REMOTE, sold)
    # a device delegation reaches nothing else of the owner
    plant = Resource(kind=ObjectKind.PLANT, owner_account_id=OWNER, plant_id=5)
    assert not can(delegated, Action.READ, plant)
