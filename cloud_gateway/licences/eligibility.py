"""Who may buy a monitoring licence now (pure; R-MON-3, R-MON-4).

- Consumers resident in Germany and businesses anywhere may; other consumers are refused, and
  consumers in Greece or Switzerland are referred to a service partner
  (:func:`~cloud_gateway.accounts.customer_rules.monitoring_eligibility`).
- A business that gave a VAT ID buys only once the ID is confirmed: while the check is pending
  (the service may be down at night) or the number is invalid, the purchase waits.
- Without customer data nothing can be invoiced: the buyer fills in the customer page first.
"""

from __future__ import annotations

from enum import StrEnum

from cloud_gateway.accounts.customer_rules import (
    CustomerKind,
    Eligibility,
    VatState,
    monitoring_eligibility,
)
from cloud_gateway.accounts.repository_customers import CustomerData

__all__ = ["Refusal", "purchase_refusal"]


class Refusal(StrEnum):
    """Why a licence cannot be bought now."""

    NO_CUSTOMER_DATA = "no_customer_data"
    VAT_UNRESOLVED = "vat_unresolved"
    VAT_INVALID = "vat_invalid"
    CONSUMER_ABROAD = "consumer_abroad"
    SERVICE_PARTNER = "service_partner"


_UNRESOLVED = frozenset({VatState.PENDING, VatState.NONE})


def purchase_refusal(customer: CustomerData | None) -> Refusal | None:
    """``None`` when ``customer`` may buy a licence now, else the reason."""
    if customer is None:
        return Refusal.NO_CUSTOMER_DATA
    eligibility = monitoring_eligibility(customer.kind, customer.country)
    if eligibility is Eligibility.SERVICE_PARTNER:
        return Refusal.SERVICE_PARTNER
    if eligibility is Eligibility.REFUSED:
        return Refusal.CONSUMER_ABROAD
    if customer.kind is CustomerKind.PRIVATE or not customer.vat_id:
        return None
    if customer.vat_state is VatState.VALID:
        return None
    if customer.vat_state in _UNRESOLVED:
        return Refusal.VAT_UNRESOLVED
    return Refusal.VAT_INVALID
