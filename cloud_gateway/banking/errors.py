"""Errors of the bank-transfer area.

::

    GatewayError
    └── BankingError                              a bank-transfer rule refused a request
        ├── StatementError (ValueError)           a statement file is not a valid camt.053
        │                                         (the message names the file and the problem)
        └── QueueStateError                       a queued payment was already resolved

Database errors stay :class:`~cloud_gateway.errors.StoreError` (mapped at the repository).
"""

from __future__ import annotations

from cloud_gateway.errors import GatewayError

__all__ = ["BankingError", "QueueStateError", "StatementError"]


class BankingError(GatewayError):
    """Root of the bank-transfer area's own errors."""


class StatementError(BankingError, ValueError):
    """A statement file is not a valid camt.053; nothing of it was booked."""

    def __init__(self, file: str, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        #: the file's name as given
        self.file = file
        #: what is wrong with it (an XSD message names the line)
        self.problem = problem


class QueueStateError(BankingError):
    """The queued payment was already assigned, refunded or booked."""
