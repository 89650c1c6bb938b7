"""Errors of the portal area (named in the tree of :mod:`cloud_gateway.errors`)."""

from __future__ import annotations

from cloud_gateway.errors import GatewayError

__all__ = ["ClosureRefusedError", "InvalidIbanError", "PortalError"]


class PortalError(GatewayError):
    """A portal rule refused a request."""


class InvalidIbanError(PortalError, ValueError):
    """The IBAN (or BIC) of the bank data is invalid; ``reason`` names the problem."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ClosureRefusedError(PortalError, PermissionError):
    """The account was not closed: the password did not match."""
