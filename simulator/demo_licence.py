"""The demo installer can buy a monitoring licence for the demo plant.

Buying needs customer data (R-MON-3/4): the installer is a German business without a VAT ID,
so the licence pages (``/plants/<id>/licence``, "Lizenz kaufen") offer the order at once, and
the order ends on the shop's order page with bank transfer. Saved only when the installer has
none yet: a second demo run changes nothing, and data the user edited stays.
"""

from __future__ import annotations

from cloud_gateway.accounts.customer_rules import CustomerKind
from cloud_gateway.accounts.model import Account
from cloud_gateway.accounts.repository_customers import CustomerData, CustomerRepository
from cloud_gateway.server import RunningGateway
from tunnel.clock import Clock

__all__ = ["ensure_licence_buyer"]


async def ensure_licence_buyer(gateway: RunningGateway, installer: Account, clock: Clock) -> None:
    """Give the demo installer the customer data a licence order needs (once)."""
    repo = gateway.store.repo(CustomerRepository)
    if await repo.get(installer.id) is not None:
        return
    await repo.save(
        CustomerData(
            account_id=installer.id,
            kind=CustomerKind.BUSINESS,
            name="Solartechnik Demo GmbH",
            street="Sonnenstraße 1",
            postcode="72793",
            city="Pfullingen",
            country="DE",
            updated_at=clock.now(),
        )
    )
