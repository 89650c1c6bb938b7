"""The customer data's one field spec: the table the migrations create, the API's checks and
its OpenAPI schema all follow it."""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.accounts.customer_fields import (
    CUSTOMER_FIELDS,
    INPUT_TEXT_FIELDS,
    invalid_fields,
    openapi_properties,
)
from cloud_gateway.accounts.schema import customer_data
from cloud_gateway.store import Store
from tests.support.schema_drift import schema_drift

GOOD = {"name": "Anna Muster", "street": "Deichweg 3", "city": "Leer", "country": "DE"}


async def test_the_migrated_table_has_the_spec_columns(store: Store) -> None:
    assert await schema_drift(store, "customer_data") == []
    for name in INPUT_TEXT_FIELDS:
        assert name in customer_data.c


def test_required_exact_and_maximum_lengths_come_from_the_spec() -> None:
    assert invalid_fields(GOOD) == []
    assert invalid_fields({**GOOD, "street": ""}) == ["street"]
    assert invalid_fields({**GOOD, "country": "DEU"}) == ["country", "country"]
    assert invalid_fields({**GOOD, "city": "x" * 100}) == []
    assert invalid_fields({**GOOD, "city": "x" * 101}) == ["city"]
    assert invalid_fields({**GOOD, "city_corrected": "x" * 101}) == ["city_corrected"]
    assert invalid_fields({**GOOD, "postcode": "1" * 17}) == ["postcode"]


def test_openapi_names_every_text_field_with_its_column_length() -> None:
    properties = openapi_properties()
    assert list(properties) == list(INPUT_TEXT_FIELDS)
    for field in CUSTOMER_FIELDS:
        column_type = customer_data.c[field.name].type
        assert isinstance(column_type, sa.String)
        assert properties[field.name]["maxLength"] == column_type.length
