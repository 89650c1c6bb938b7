"""412 after new terms (R-MON-19); customer data with VAT ID checks (R-MON-3, R-MON-4)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from cloud_gateway.accounts.customer_rules import CustomerKind, VatState
from cloud_gateway.accounts.customers import CustomerInput, CustomerService
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.accounts.repository_customers import CustomerRepository
from cloud_gateway.accounts.repository_security import AccountSecurityRepository
from cloud_gateway.accounts.vies import ViesClient
from cloud_gateway.config import GatewayConfig, VatConfig
from cloud_gateway.http.keys import SCHEDULER
from cloud_gateway.store import Store
from simulator.vies import ViesSimulator
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock

AEI = CustomerInput(
    kind=CustomerKind.BUSINESS,
    name="AEI Power GmbH",
    street="Uracherstrasse 91",
    postcode="72555",
    city="Metzingen",
    country="DE",
    vat_id="DE 147 167 387",
)


async def test_new_terms_answer_412_until_accepted_in_the_portal(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        async with gw.client() as http:
            await gw.login(http, "anna")
            async with http.get("/api/v1/me") as resp:
                assert resp.status == 200
            clock.advance(timedelta(hours=1))
            await gw.gateway.store.repo(AccountSecurityRepository).publish(
                "terms", "2", clock.now()
            )
            async with http.get("/api/v1/me") as resp:
                assert resp.status == 412
                body = await resp.json()
                assert body["missing"] == {"terms": "2"}
            async with http.get("/portal", allow_redirects=False) as resp:
                assert resp.status == 303
                assert resp.headers["Location"].startswith("/terms?next=/portal")
            async with http.get("/api/v1/openapi.json") as resp:
                assert resp.status == 200  # the document stays readable
            token = await gw.form_token(http, "/terms")
            async with http.post(
                "/terms", data={"csrf_token": token, "accept_terms": "2", "next": "/portal"}
            ) as resp:
                assert str(resp.url).endswith("/portal")
            async with http.get("/api/v1/me") as resp:
                assert resp.status == 200


async def test_vies_unavailable_is_pending_then_valid_with_proof(
    store: Store, clock: ManualClock, vies: ViesSimulator
) -> None:
    account = await store.repo(AccountRepository).create(
        username="aei", email="sitelink@example.org", password_hash="h", created_at=clock.now()
    )
    service = CustomerService(store, clock, ViesClient(VatConfig(vies_url=vies.url)), VatConfig())
    vies.available = False
    saved = (await service.save(account.id, AEI)).saved
    assert saved is not None
    assert saved.vat_id == "DE147167387"
    assert saved.vat_state is VatState.PENDING
    assert not await service.licence_purchase_allowed(account.id)
    assert await service.retry_due(clock.now()) == 0  # not yet due
    clock.advance(timedelta(minutes=60))
    assert await service.retry_due(clock.now()) == 1
    still = await store.repo(CustomerRepository).get(account.id)
    assert still is not None
    assert still.vat_state is VatState.PENDING  # unavailable again: never "invalid"
    vies.available = True
    clock.advance(timedelta(minutes=60))
    assert await service.retry_due(clock.now()) == 1
    done = await store.repo(CustomerRepository).get(account.id)
    assert done is not None
    assert done.vat_state is VatState.VALID
    assert done.vat_checked_at == clock.now()
    proof = json.loads(done.vat_proof)
    assert proof["valid"] is True
    assert proof["name"] == "AEI Power GmbH"
    assert json.loads(proof["answer"])["requestIdentifier"].startswith("SIM")
    assert await service.licence_purchase_allowed(account.id)
    assert vies.requests == 3


async def test_format_check_first_invalid_answer_and_corrections(
    store: Store, clock: ManualClock, vies: ViesSimulator
) -> None:
    account = await store.repo(AccountRepository).create(
        username="firma", email="f@example.org", password_hash="h", created_at=clock.now()
    )
    service = CustomerService(store, clock, ViesClient(VatConfig(vies_url=vies.url)), VatConfig())
    bad = await service.save(account.id, CustomerInput(
        kind=CustomerKind.BUSINESS, name="X GmbH", street="Weg 1", postcode="1", city="Wien",
        country="AT", vat_id="ATU1234"))  # fmt: skip
    assert bad.saved is not None
    assert bad.saved.vat_state is VatState.FORMAT_INVALID
    assert vies.requests == 0  # never asked about a malformed number
    unknown = await service.save(account.id, CustomerInput(
        kind=CustomerKind.BUSINESS, name="X GmbH", street="Weg 1", postcode="1", city="Wien",
        country="AT", vat_id="ATU12345678"))  # fmt: skip
    assert unknown.saved is not None
    assert unknown.saved.vat_state is VatState.INVALID
    umlauts = CustomerInput(
        kind=CustomerKind.BUSINESS, name="Müller & Söhne GmbH", street="Hauptstraße 1",
        postcode="72555", city="Metzingen", country="DE", vat_id="")  # fmt: skip
    needs = await service.save(account.id, umlauts)
    assert needs.saved is None
    assert needs.corrections == {"name": "üö", "street": "ß"}
    fixed = await service.save(
        account.id,
        CustomerInput(**{
            **{f: getattr(umlauts, f) for f in ("kind", "name", "street", "postcode", "city",
                                                 "country", "vat_id")},
            "name_corrected": "Mueller & Soehne GmbH", "street_corrected": "Hauptstrasse 1"}),
    )  # fmt: skip
    assert fixed.saved is not None
    assert fixed.saved.name_corrected == "Mueller & Soehne GmbH"


async def test_country_rules_and_pending_check_over_the_api(
    tmp_path: Path, db_url: str, clock: ManualClock, vies: ViesSimulator
) -> None:
    config = GatewayConfig(vat=VatConfig(vies_url=vies.url, retry_minutes=30))
    async with gateway_harness(tmp_path, db_url, clock, config) as gw:
        anna = await gw.create_account("anna")
        async with gw.client() as http:
            await gw.login(http, "anna")
            csrf = await gw.form_token(http, "/portal")
            headers = {"X-CSRF-Token": csrf}
            url = f"/api/v1/accounts/{anna.id}/customer-data"
            consumer = {"kind": "private", "name": "Anna", "street": "Weg 1", "postcode": "1",
                        "city": "Athen", "country": "GR"}  # fmt: skip
            async with http.put(url, json=consumer, headers=headers) as resp:
                assert (await resp.json())["eligibility"] == "service_partner"
            async with http.put(url, json={**consumer, "country": "AT"}, headers=headers) as resp:
                assert (await resp.json())["eligibility"] == "refused"
            vies.available = False
            business = {"kind": "business", "name": AEI.name, "street": AEI.street,
                        "postcode": AEI.postcode, "city": AEI.city, "country": "CH",
                        "vat_id": AEI.vat_id}  # fmt: skip
            async with http.put(url, json=business, headers=headers) as resp:
                body = await resp.json()
                assert body["eligibility"] == "allowed"
                assert body["vat_state"] == "pending"
            vies.available = True
            clock.advance(timedelta(minutes=30))
            await gw.gateway.runner.app[SCHEDULER].run_due()
            async with http.get(url) as resp:
                body = await resp.json()
                assert body["vat_state"] == "valid"
                assert json.loads(body["vat_proof"])["valid"] is True
