"""State machines of orders and contracts (pure).

::

    order:     placed ──reservations_confirmed──► confirmed ──paid──► ready ──activate──► active
                 │  └────────paid──────────► paid ──reservations_confirmed──┘
                 └─(placed / confirmed / paid)──cancel──► cancelled

    contract:  pending ──activate──► active ──end──► ended
                 └──cancel──► cancelled

An event not drawn here is refused with :class:`~cloud_gateway.billing.errors.TransitionError`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from cloud_gateway.billing.errors import TransitionError

__all__ = ["ContractEvent", "ContractState", "OrderEvent", "OrderState", "advance"]


class OrderState(StrEnum):
    """Where an order stands."""

    PLACED = "placed"
    CONFIRMED = "confirmed"  # every delivery reservation confirmed, not yet paid
    PAID = "paid"  # paid, reservations still open
    READY = "ready"  # confirmed and paid: delivery can start
    ACTIVE = "active"  # the contracts run
    CANCELLED = "cancelled"


class OrderEvent(StrEnum):
    """What can happen to an order."""

    RESERVATIONS_CONFIRMED = "reservations_confirmed"
    PAID = "paid"
    ACTIVATE = "activate"
    CANCEL = "cancel"


class ContractState(StrEnum):
    """Where a contract stands."""

    PENDING = "pending"
    ACTIVE = "active"
    ENDED = "ended"
    CANCELLED = "cancelled"


class ContractEvent(StrEnum):
    """What can happen to a contract."""

    ACTIVATE = "activate"
    END = "end"
    CANCEL = "cancel"


_O, _OE = OrderState, OrderEvent
_C, _CE = ContractState, ContractEvent

_ORDER: dict[tuple[StrEnum, StrEnum], StrEnum] = {
    (_O.PLACED, _OE.RESERVATIONS_CONFIRMED): _O.CONFIRMED,
    (_O.PLACED, _OE.PAID): _O.PAID,
    (_O.CONFIRMED, _OE.PAID): _O.READY,
    (_O.PAID, _OE.RESERVATIONS_CONFIRMED): _O.READY,
    (_O.READY, _OE.ACTIVATE): _O.ACTIVE,
    (_O.PLACED, _OE.CANCEL): _O.CANCELLED,
    (_O.CONFIRMED, _OE.CANCEL): _O.CANCELLED,
    (_O.PAID, _OE.CANCEL): _O.CANCELLED,
}
_CONTRACT: dict[tuple[StrEnum, StrEnum], StrEnum] = {
    (_C.PENDING, _CE.ACTIVATE): _C.ACTIVE,
    (_C.PENDING, _CE.CANCEL): _C.CANCELLED,
    (_C.ACTIVE, _CE.END): _C.ENDED,
}


_MACHINES = {OrderState: (OrderEvent, _ORDER), ContractState: (ContractEvent, _CONTRACT)}

S = TypeVar("S", OrderState, ContractState)


def advance(state: S, event: StrEnum) -> S:
    """The state after ``event``; raises :class:`TransitionError` if not allowed."""
    events, table = _MACHINES[type(state)]
    new = table.get((state, event)) if isinstance(event, events) else None
    if new is None:
        raise TransitionError(f"{type(state).__name__} {state}: {event} not allowed")
    return type(state)(new)
