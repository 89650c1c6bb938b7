"""Errors of the support area (named in ``cloud_gateway/errors.py``)."""

from __future__ import annotations

from cloud_gateway.errors import GatewayError

__all__ = ["AttachmentError", "RepairStateError", "SupportError", "TicketInputError"]


class SupportError(GatewayError):
    """A support rule refused a request."""


class AttachmentError(SupportError, ValueError):
    """An attachment is too large or not of an accepted type (by its content)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        #: ``too_large``, ``bad_type`` or ``too_many``: the text key the page shows
        self.reason = reason


class TicketInputError(SupportError, ValueError):
    """A ticket or repair form misses a required field."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        super().__init__(f"missing: {', '.join(fields)}")
        self.fields = fields


class RepairStateError(SupportError):
    """A repair order cannot take this step from its state."""
