"""The customer data's one field spec: the table the migrations create, the API's checks and
its OpenAPI schema all follow it."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from cloud_gateway.accounts.customer_fields import (
    CUSTOMER_FIELDS,
    INPUT_TEXT_FIELDS,
    invalid_fields,
    openapi_properties,
)
from cloud_gateway.accounts.schema import customer_data
from cloud_gateway.store import Store
from cloud_gateway.store.schema import metadata

GOOD = {"name": "Anna Muster", "street": "Deichweg 3", "city": "Leer", "country": "DE"}


async def test_the_migrated_table_has_the_spec_columns(store: Store) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection)
        return [d for d in compare_metadata(context, metadata) if "customer_data" in repr(d)]

    async with store.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
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
        assert properties[field.name]["maxLength"] == customer_data.c[field.name].type.length
