"""Errors of the plants area.

::

    GatewayError
    └── PlantError
        ├── InvalidPlantError (ValueError)      plant fields failed validation (per field)
        ├── ActivationCodeError (ValueError)    the activation code does not fit the serial
        ├── ActivationRateLimitedError          too many wrong codes; retry after a while
        └── SerialTakenError                    the serial is already registered

Store errors (``NotFoundError`` for another tenant's plant too, ``ConflictError``) come from
:mod:`cloud_gateway.errors` unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping

from cloud_gateway.errors import GatewayError

__all__ = [
    "ActivationCodeError",
    "ActivationRateLimitedError",
    "InvalidPlantError",
    "PlantError",
    "SerialTakenError",
]


class PlantError(GatewayError):
    """Root of the plants area's errors."""


class InvalidPlantError(PlantError, ValueError):
    """Plant or inverter fields failed validation; ``problems`` maps field -> text id."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = dict(problems)


class ActivationCodeError(PlantError, ValueError):
    """The activation code is not the one printed on the inverter with this serial."""


class ActivationRateLimitedError(PlantError):
    """Too many wrong activation codes from this account; ``retry_after_s`` seconds to wait."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many wrong activation codes; retry in {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s


class SerialTakenError(PlantError):
    """An inverter with this serial is already registered (in this or another plant)."""
