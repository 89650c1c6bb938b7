"""Accounts: who may log in, with which general role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["Account", "Role"]


class Role(StrEnum):
    """What an account may do in general; object access is checked per tenant on top."""

    CUSTOMER = "customer"
    INSTALLER = "installer"
    OPERATOR = "operator"
    """Support: tunnels, devices, entitlements; needs a second factor in the console."""
    ACCOUNTANT = "accountant"
    """Money: payments, documents, the billing queues; needs a second factor as well."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """A portal account (homeowner, installer, operator or accountant)."""

    id: int
    username: str
    email: str
    password_hash: str
    role: Role
    language: str
    created_at: datetime
