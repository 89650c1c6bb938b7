"""Accounts: registration, passwords and their policy, sessions, CSRF, roles and access, terms,
customer data with VAT ID checks.

``routes`` is imported on first use, so pure modules of this package (``customer_rules``,
``policy``, ``access``) can be imported by the store without pulling in the web layer.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["routes"]


def __getattr__(name: str) -> ModuleType:
    if name == "routes":
        return importlib.import_module("cloud_gateway.accounts.routes")
    raise AttributeError(name)
