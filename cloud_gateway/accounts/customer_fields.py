"""The customer data's text fields, once (pure): the one spec that drives parsing, the form, the
JSON, the OpenAPI schema and the columns of ``customer_data``.

A field the VAT services may refuse characters of (business name, street, town) has a
``<name>_corrected`` twin of the same length, shown and required only when the service needs it
(:func:`~cloud_gateway.accounts.customer_rules.invalid_characters`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CORRECTABLE",
    "CUSTOMER_FIELDS",
    "INPUT_TEXT_FIELDS",
    "CustomerField",
    "invalid_fields",
    "openapi_properties",
]


@dataclass(frozen=True, slots=True)
class CustomerField:
    """One text field of the customer data."""

    name: str
    max_length: int
    """Its column's length; longer input is refused, never cut."""
    required: bool = False
    correctable: bool = False
    """Has a ``<name>_corrected`` twin for characters the VAT services do not accept."""
    exact_length: int | None = None
    pattern: str | None = None
    """The form's HTML ``pattern``."""
    hint: str | None = None
    """Text key of a hint shown beside the label."""


CUSTOMER_FIELDS: tuple[CustomerField, ...] = (
    CustomerField("name", 200, required=True, correctable=True),
    CustomerField("street", 200, required=True, correctable=True),
    CustomerField("postcode", 16),
    CustomerField("city", 100, required=True, correctable=True),
    CustomerField("country", 2, required=True, exact_length=2, pattern="[A-Za-z]{2}"),
    CustomerField("vat_id", 20, hint="customer.vat_hint"),
)

CORRECTABLE: tuple[CustomerField, ...] = tuple(f for f in CUSTOMER_FIELDS if f.correctable)
"""The fields with a corrected twin, in form order."""

_LENGTHS: dict[str, int] = {f.name: f.max_length for f in CUSTOMER_FIELDS} | {
    f"{f.name}_corrected": f.max_length for f in CORRECTABLE
}

INPUT_TEXT_FIELDS: tuple[str, ...] = tuple(_LENGTHS)
"""Every text field a customer enters (everything but ``kind``), as forms and JSON name them."""


def invalid_fields(values: Mapping[str, str]) -> list[str]:
    """Fields missing, too long or of the wrong length, in form order (empty when all fit)."""
    wrong = [
        f.name
        for f in CUSTOMER_FIELDS
        if (f.required and not values.get(f.name))
        or (f.exact_length is not None and len(values.get(f.name, "")) != f.exact_length)
    ]
    return wrong + [name for name, limit in _LENGTHS.items() if len(values.get(name, "")) > limit]


def openapi_properties() -> dict[str, Any]:
    """The text fields as JSON schema properties (``kind`` is the caller's)."""
    return {name: {"type": "string", "maxLength": limit} for name, limit in _LENGTHS.items()}
