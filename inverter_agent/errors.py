"""Errors of the inverter agent.

::

    AgentError
    ├── ConfigError (tunnel.errors.ConfigError)   invalid configuration (file, key, problem)
    ├── SunSpecError (ValueError)                  a register image is not valid SunSpec
    ├── BusError (OSError)                         the Modbus bus or device did not answer
    │   ├── DeviceTimeoutError (TimeoutError)      one device did not answer in time
    │   └── DeviceRejectedError                    a device answered with a Modbus exception
    └── OutboxError                                the durable outbox failed
"""

from __future__ import annotations

from tunnel.errors import ConfigError

__all__ = [
    "AgentError",
    "BusError",
    "ConfigError",
    "DeviceRejectedError",
    "DeviceTimeoutError",
    "OutboxError",
    "SunSpecError",
]


class AgentError(Exception):
    """Root of every error the agent raises."""


class SunSpecError(AgentError, ValueError):
    """A register image is not valid SunSpec (no marker, truncated model, bad length)."""


class BusError(AgentError, OSError):
    """The Modbus bus or a device on it did not answer."""


class DeviceTimeoutError(BusError, TimeoutError):
    """One device did not answer in time."""


class OutboxError(AgentError):
    """The durable outbox could not store or read readings."""


class DeviceRejectedError(BusError):
    """A device answered with a Modbus exception (e.g. 2, illegal data address)."""

    def __init__(self, message: str, *, exception_code: int) -> None:
        super().__init__(message)
        self.exception_code = exception_code
        """The Modbus exception code."""
