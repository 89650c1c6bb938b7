"""May a plant's data be served at an instant? (R-MON-16; the data API answers 402 if not.)

Readings of every plant are stored; serving them (API, pages, MQTT fan-out) asks a
:class:`PlantAccessPolicy`. :class:`TrialPolicy` is the default: the entitlements area's pure
rules (:mod:`cloud_gateway.entitlements.plant_rules`) over the one window known here, the
40-day trial from the first activated inverter. When the entitlements area offers
``plant_decision(plant_id, at)`` with licences, wrap it in :class:`DecisionFunctionPolicy`
and put it under :data:`cloud_gateway.http.keys.PLANT_ACCESS`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cloud_gateway.entitlements.plant_rules import licence_status, plant_trial
from cloud_gateway.plants.model import Plant

__all__ = [
    "DecisionFunctionPolicy",
    "PlantAccess",
    "PlantAccessPolicy",
    "TrialPolicy",
    "decide_all",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantAccess:
    """The answer for one plant at one instant."""

    entitled: bool
    """Whether its data may be served."""
    reason: str | None = None
    """Machine-readable reason when not (``no_window``, ``expired``, ``ended`` …)."""
    until: datetime | None = None
    """End of the current entitlement, when known."""


_YIELD_PLANTS = 200
"""Plants decided one by one between two turns given back to the event loop."""


class PlantAccessPolicy(Protocol):
    """Answers "may this plant's data be served at ``at``?"."""

    async def decide(self, plant: Plant, at: datetime) -> PlantAccess:
        """The answer for ``plant`` at ``at``."""
        ...


async def decide_all(
    policy: PlantAccessPolicy, plants: Sequence[Plant], at: datetime
) -> dict[int, PlantAccess]:
    """The answers for many plants at ``at``: through the policy's ``decide_many`` (one query)
    when it has one, else plant by plant, giving the event loop back every
    ``_YIELD_PLANTS`` plants (a policy's ``decide`` may answer without ever suspending, and
    the alert round asks for every plant while the ingest shares the loop)."""
    many = getattr(policy, "decide_many", None)
    if many is not None:
        answers: dict[int, PlantAccess] = await many(plants, at)
        return answers
    answers = {}
    for n, plant in enumerate(plants, 1):
        answers[plant.id] = await policy.decide(plant, at)
        if not n % _YIELD_PLANTS:
            await asyncio.sleep(0)
    return answers


class TrialPolicy:
    """Entitled during the 40-day trial from the first activated inverter (R-MON-8)."""

    async def decide(self, plant: Plant, at: datetime) -> PlantAccess:
        windows = [] if plant.trial_started_at is None else [plant_trial(plant.trial_started_at)]
        status = licence_status(windows, at)
        if status.entitled:
            return PlantAccess(entitled=True, until=status.ends_at)
        reason = status.why_not.value if status.why_not is not None else "no_window"
        return PlantAccess(entitled=False, reason=reason)


class _Decision(Protocol):
    @property
    def entitled(self) -> bool: ...


DecisionFunction = Callable[[int, datetime], Awaitable[_Decision]]


class DecisionFunctionPolicy:
    """Adapts an entitlements ``plant_decision(plant_id, at)`` coroutine function.

    Its result needs ``entitled``; ``reason`` or ``why_not`` and ``until`` are used if present.
    """

    def __init__(self, plant_decision: DecisionFunction) -> None:
        self._decide = plant_decision

    async def decide(self, plant: Plant, at: datetime) -> PlantAccess:
        decision = await self._decide(plant.id, at)
        if decision.entitled:
            return PlantAccess(entitled=True, until=getattr(decision, "until", None))
        reason = getattr(decision, "reason", None) or getattr(decision, "why_not", None)
        return PlantAccess(entitled=False, reason=str(reason or "not_entitled"))
