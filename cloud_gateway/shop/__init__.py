"""The shop (R-CCU-3..5, later) and, now, the landing page of the hub's signed booking link."""

from __future__ import annotations

from cloud_gateway.shop import routes

__all__ = ["routes"]
