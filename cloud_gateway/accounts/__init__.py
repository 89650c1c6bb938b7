"""Accounts: passwords, portal sessions, login, CSRF; registration and policy build on these."""

from cloud_gateway.accounts import routes

__all__ = ["routes"]
