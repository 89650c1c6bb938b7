"""The plants area's :class:`~cloud_gateway.plants.access.PlantAccessPolicy` over licences.

Replaces the plants area's trial-only default: the stored windows (trial, licences, operator
grants) decide, with the plant's first activation standing in for a trial not stored yet.
"""

from __future__ import annotations

from datetime import datetime

from cloud_gateway.entitlements.api import PlantRefusal
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
        decision = await self._service.plant_decision(
            plant.id, at, trial_started_at=plant.trial_started_at
        )
        if decision.entitled:
            return PlantAccess(entitled=True, until=decision.until)
        return PlantAccess(entitled=False, reason=decision.reason or PlantRefusal.UNLICENSED)
