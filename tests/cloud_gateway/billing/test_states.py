"""Order and contract state machines."""

from __future__ import annotations

import pytest

from cloud_gateway.billing.errors import TransitionError
from cloud_gateway.billing.states import (
    ContractEvent,
    ContractState,
    OrderEvent,
    OrderState,
    advance,
)


def test_order_needs_reservations_and_payment_in_either_order() -> None:
    a = advance(advance(OrderState.PLACED, OrderEvent.PAID), OrderEvent.RESERVATIONS_CONFIRMED)
    b = advance(advance(OrderState.PLACED, OrderEvent.RESERVATIONS_CONFIRMED), OrderEvent.PAID)
    assert a is b is OrderState.READY
    assert advance(a, OrderEvent.ACTIVATE) is OrderState.ACTIVE


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (OrderState.PLACED, OrderEvent.ACTIVATE),
        (OrderState.ACTIVE, OrderEvent.CANCEL),
        (OrderState.CANCELLED, OrderEvent.PAID),
        (ContractState.ENDED, ContractEvent.ACTIVATE),
        (ContractState.PENDING, ContractEvent.END),
    ],
)
def test_refused_transitions(
    state: OrderState | ContractState, event: OrderEvent | ContractEvent
) -> None:
    machine_state: OrderState = state  # type: ignore[assignment]  # both machines: one signature
    with pytest.raises(TransitionError):
        advance(machine_state, event)


def test_events_of_the_other_machine_are_refused() -> None:
    with pytest.raises(TransitionError):
        advance(ContractState.PENDING, OrderEvent.ACTIVATE)
    assert advance(ContractState.PENDING, ContractEvent.ACTIVATE) is ContractState.ACTIVE
