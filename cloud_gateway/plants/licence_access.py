"""The plants area's :class:`~cloud_gateway.plants.access.PlantAccessPolicy` over licences.

Replaces the plants area's trial-only default: the stored windows (trial, licences, operator
grants) decide, with the plant's first activation standing in for a trial not stored yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cloud_gateway.entitlements.api import LicenceDecision, PlantRefusal
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.plants.access import PlantAccess
from cloud_gateway.plants.model import Plant

__all__ = ["LicencePlantAccess"]


class LicencePlantAccess:
    """R-MON-16: only licensed (or trial) plants' data is served."""

    def __init__(self, service: EntitlementService) -> None:
        self._service = service

    async def decide(self, plant: Plant, at: datetime) -> PlantAccess:
        """The answer for ``plant`` at ``at`` (reason ``unlicensed`` when not entitled)."""
        return _access(
            await self._service.plant_decision(
                plant.id, at, trial_started_at=plant.trial_started_at
            )
        )

    async def decide_many(self, plants: Sequence[Plant], at: datetime) -> dict[int, PlantAccess]:
        """The answers for many plants at ``at`` from one query (the alert round, R-MON-16)."""
        decisions = await self._service.plant_decisions(
            {p.id: p.trial_started_at for p in plants}, at
        )
        return {plant_id: _access(d) for plant_id, d in decisions.items()}


def _access(decision: LicenceDecision) -> PlantAccess:
    if decision.entitled:
        return PlantAccess(entitled=True, until=decision.until)
    return PlantAccess(entitled=False, reason=decision.reason or PlantRefusal.UNLICENSED)
