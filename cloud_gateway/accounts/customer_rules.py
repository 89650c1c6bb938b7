"""Customer data rules (pure): who may use monitoring, allowed characters, VAT ID format.

- R-MON-4: consumers resident in Germany and businesses anywhere may use monitoring; other
  consumers are refused, consumers in Greece or Switzerland are referred to a service partner.
- R-MON-3: company data for the VAT check uses Latin letters without umlauts, digits, space and
  ``_ . , - ' ! ( ) [ ] (en dash) ; : & *``; other text needs a corrected second field.
- VAT IDs are checked offline against each EU member state's format before any online check.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = [
    "ALLOWED_PUNCTUATION",
    "CustomerKind",
    "Eligibility",
    "VatState",
    "invalid_characters",
    "monitoring_eligibility",
    "normalise_vat_id",
    "vat_format_ok",
]

ALLOWED_PUNCTUATION = "_.,-'!()[]\u2013;:&*"  # the en dash (U+2013) is on the seed's list
_LATIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "
_ALLOWED = frozenset(_LATIN + ALLOWED_PUNCTUATION)
SERVICE_PARTNER_COUNTRIES = frozenset({"GR", "CH"})


class CustomerKind(StrEnum):
    """Consumer or business."""

    PRIVATE = "private"
    BUSINESS = "business"


class Eligibility(StrEnum):
    """Whether monitoring can be offered."""

    ALLOWED = "allowed"
    REFUSED = "refused"
    SERVICE_PARTNER = "service_partner"


class VatState(StrEnum):
    """Where the VAT ID check stands. ``pending`` is never turned into ``invalid`` by an
    unavailable service; only the service's own answer makes a number invalid."""

    NONE = "none"
    FORMAT_INVALID = "format_invalid"
    PENDING = "pending"
    VALID = "valid"
    INVALID = "invalid"


def monitoring_eligibility(kind: CustomerKind, country: str) -> Eligibility:
    """R-MON-4 for a customer of ``kind`` resident in ``country`` (ISO 3166 alpha-2)."""
    code = country.strip().upper()
    if kind is CustomerKind.BUSINESS or code == "DE":
        return Eligibility.ALLOWED
    if code in SERVICE_PARTNER_COUNTRIES:
        return Eligibility.SERVICE_PARTNER
    return Eligibility.REFUSED


def invalid_characters(text: str) -> str:
    """The characters of ``text`` that the VAT services do not accept, in order, once each."""
    seen: list[str] = []
    for ch in text:
        if ch not in _ALLOWED and ch not in seen:
            seen.append(ch)
    return "".join(seen)


# member state formats without the country prefix (Greece uses EL)
_VAT_FORMATS: dict[str, str] = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "EL": r"\d{9}",
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}",
    "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}",
    "HR": r"\d{11}",
    "HU": r"\d{8}",
    "IE": r"\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W]",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"\d{2,10}",
    "SE": r"\d{12}",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
    "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
}


def normalise_vat_id(vat_id: str) -> str:
    """Upper case without spaces, dots and hyphens (``de 147.167-387`` → ``DE147167387``)."""
    return re.sub(r"[\s.\-]", "", vat_id).upper()


def vat_format_ok(vat_id: str) -> bool:
    """Whether ``vat_id`` (normalised, with country prefix) has its member state's format."""
    normal = normalise_vat_id(vat_id)
    pattern = _VAT_FORMATS.get(normal[:2])
    return pattern is not None and re.fullmatch(pattern, normal[2:]) is not None
