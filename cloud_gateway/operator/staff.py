"""Staff accounts (operators and accountants) as the ``cloud-gateway operator`` command makes
them: no usable password, a one-time link to set one (valid 72 hours), the e-mail address
counted as proven by that link. The second factor is enrolled at the first console visit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from cloud_gateway.accounts.model import Account, Role
from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.accounts.repository_security import AccountSecurityRepository, LinkPurpose
from cloud_gateway.config import GatewayConfig
from cloud_gateway.operator.repository_search import AccountHit, ConsoleSearchRepository
from cloud_gateway.store import Store
from tunnel.clock import Clock

__all__ = ["LINK_VALIDITY", "NewStaff", "create_staff", "list_staff", "portal_base"]

LINK_VALIDITY = timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class NewStaff:
    """A created staff account and the link that sets its first password."""

    account: Account
    link: str


def portal_base(config: GatewayConfig, port: int | None = None) -> str:
    """The portal's address as browsers reach it, ending in ``/``."""
    port = config.http.port if port is None else port
    suffix = "" if port in {0, 443} else f":{port}"
    return f"https://{config.http.public_host}{suffix}/"


async def create_staff(
    store: Store,
    clock: Clock,
    passwords: PasswordHasher,
    *,
    username: str,
    email: str,
    role: Role,
    base_url: str,
) -> NewStaff:
    """A new operator or accountant with a one-time password-set link."""
    if role not in {Role.OPERATOR, Role.ACCOUNTANT}:
        raise ValueError(f"not a staff role: {role}")
    now = clock.now()
    security = store.repo(AccountSecurityRepository)
    unusable = passwords.hash(secrets.token_urlsafe(32))
    async with store.database.begin() as conn:
        account = await security.create_account(
            conn,
            username=username,
            email=email.strip().lower(),
            password_hash=unusable,
            now=now,
            language="de",
            role=role,
        )
        token = await security.create_link(
            conn, account.id, LinkPurpose.RESET_PASSWORD, now, now + LINK_VALIDITY
        )
    return NewStaff(account, f"{base_url}password/reset?token={token}")


async def list_staff(store: Store) -> list[AccountHit]:
    """Every operator and accountant."""
    return await store.repo(ConsoleSearchRepository).staff()
