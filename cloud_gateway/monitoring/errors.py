"""Errors of the monitoring area.

::

    GatewayError
    └── MonitoringError
        ├── ForecastUnavailableError (ValueError)   the plant lacks data the forecast needs
        └── AlertStateError (ValueError)            a stored alert state could not be read
"""

from __future__ import annotations

from collections.abc import Sequence

from cloud_gateway.errors import GatewayError

__all__ = ["AlertStateError", "ForecastUnavailableError", "MonitoringError"]


class MonitoringError(GatewayError):
    """Root of the monitoring area's errors."""


class ForecastUnavailableError(MonitoringError, ValueError):
    """No forecast: ``missing`` names the plant fields that must be filled in first."""

    def __init__(self, missing: Sequence[str]) -> None:
        super().__init__(f"forecast needs: {', '.join(missing)}")
        self.missing = tuple(missing)


class AlertStateError(MonitoringError, ValueError):
    """A serialised alert state is malformed (wrong version, key or instant)."""
