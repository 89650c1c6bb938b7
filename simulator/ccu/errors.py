"""Errors of the simulated CCU.

::

    CcuSimulatorError
    └── RpcFaultError            an XML-RPC fault as the interface process sends it
        ├── UnknownInstanceError     -2  unknown device or channel address
        ├── UnknownParamsetError     -3  unknown paramset key
        └── InvalidParameterError    -5  unknown parameter or value that cannot be set

The JSON-RPC layer turns an :class:`RpcFaultError` into a ``JSONRPCError`` with code 501.
"""

from __future__ import annotations

__all__ = [
    "CcuSimulatorError",
    "InvalidParameterError",
    "RpcFaultError",
    "UnknownInstanceError",
    "UnknownParamsetError",
]


class CcuSimulatorError(Exception):
    """Root of the simulated CCU's errors."""


class RpcFaultError(CcuSimulatorError):
    """A fault with the numeric code the real interface processes use."""

    code = -1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownInstanceError(RpcFaultError, KeyError):
    """No device or channel has this address."""

    code = -2

    def __str__(self) -> str:
        return self.message


class UnknownParamsetError(RpcFaultError):
    """The channel has no paramset with this key."""

    code = -3


class InvalidParameterError(RpcFaultError, ValueError):
    """The parameter does not exist, is not writable, or the value does not fit."""

    code = -5
