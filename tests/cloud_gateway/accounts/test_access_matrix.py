"""Tenant matrix: every object type and action, as stranger, installer without delegation,
installer with delegation, owner and operator; pure and over the real JSON API."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from cloud_gateway.accounts.access import Action, Actor, Delegation, ObjectKind, Resource, can
from cloud_gateway.accounts.model import Role
from cloud_gateway.accounts.repository_customers import CustomerRepository
from cloud_gateway.billing.catalogue import BookingType
from cloud_gateway.billing.service import OrderLine, customer_from_data
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.entitlements.windows import Subject
from cloud_gateway.http.keys import BILLING, ENTITLEMENTS, SUPPORT
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.support.attachments import checked
from cloud_gateway.support.service import RepairForm
from tests.cloud_gateway.shop.shopping import give_customer_data, pay_and_activate
from tests.support.console import staff_login
from tests.support.gateway import GatewayHarness, gateway_harness
from tunnel.clock import ManualClock

OWNER = 1
PLANT = 5
RESOURCES = [
    Resource(kind=kind, owner_account_id=OWNER, plant_id=PLANT if kind in {
        ObjectKind.PLANT, ObjectKind.WINDOW, ObjectKind.DEVICE} else None)
    for kind in ObjectKind
]  # fmt: skip
STRANGER = Actor(account_id=2, role=Role.CUSTOMER)
INSTALLER = Actor(account_id=3, role=Role.INSTALLER)
DELEGATED = Actor(
    account_id=4, role=Role.INSTALLER, delegations=frozenset({Delegation(OWNER, PLANT)})
)
OTHER_PLANT = Actor(
    account_id=4, role=Role.INSTALLER, delegations=frozenset({Delegation(OWNER, 6)})
)
OPERATOR = Actor(account_id=9, role=Role.OPERATOR)


@pytest.mark.parametrize(
    "actor", [STRANGER, INSTALLER, OTHER_PLANT], ids=["stranger", "installer", "other-plant"]
)
def test_no_success_without_tenancy_or_delegation(actor: Actor) -> None:
    wins = [(r.kind, a) for r, a in itertools.product(RESOURCES, Action) if can(actor, a, r)]
    assert wins == []


def test_operators_may_do_everything_but_open_hubs_without_a_grant_or_touch_money() -> None:
    losses = [
        (r.kind, a) for r, a in itertools.product(RESOURCES, Action) if not can(OPERATOR, a, r)
    ]
    money = {ObjectKind.ORDER, ObjectKind.DOCUMENT}
    assert set(losses) == {
        (kind, action)
        for kind in ObjectKind
        for action in Action
        if action in {Action.REMOTE, Action.SUPPORT} or kind in money
    }


def test_owners_grant_support_and_read_their_money_but_never_change_it() -> None:
    owner = Actor(account_id=OWNER, role=Role.CUSTOMER)
    device = Resource(kind=ObjectKind.DEVICE, owner_account_id=OWNER, device_id=7)
    assert can(owner, Action.SUPPORT, device)
    hub_installer = Actor(
        account_id=4,
        role=Role.INSTALLER,
        delegations=frozenset({Delegation(OWNER, None, device_id=7)}),
    )
    assert can(hub_installer, Action.REMOTE, device)
    assert not can(hub_installer, Action.SUPPORT, device)
    for kind in (ObjectKind.ORDER, ObjectKind.DOCUMENT):
        paper = Resource(kind=kind, owner_account_id=OWNER)
        assert can(owner, Action.READ, paper)
        assert not can(owner, Action.UPDATE, paper)
        assert not can(STRANGER, Action.READ, paper)


def test_accountants_reach_no_customer_object() -> None:
    accountant = Actor(account_id=10, role=Role.ACCOUNTANT)
    assert not any(can(accountant, a, r) for r, a in itertools.product(RESOURCES, Action))


def test_delegation_allows_reading_the_plant_only() -> None:
    wins = {(r.kind, a) for r, a in itertools.product(RESOURCES, Action) if can(DELEGATED, a, r)}
    assert wins == {
        (ObjectKind.PLANT, Action.READ),
        (ObjectKind.DEVICE, Action.READ),
        (ObjectKind.WINDOW, Action.READ),
    }
    everything = Delegation(OWNER, None)
    all_plants = Actor(account_id=4, role=Role.INSTALLER, delegations=frozenset({everything}))
    assert can(all_plants, Action.READ, RESOURCES[list(ObjectKind).index(ObjectKind.PLANT)])


def test_owners_read_but_never_grant_their_own_windows() -> None:
    owner = Actor(account_id=OWNER, role=Role.CUSTOMER)
    window = Resource(kind=ObjectKind.WINDOW, owner_account_id=OWNER)
    assert can(owner, Action.READ, window)
    assert not can(owner, Action.MANAGE, window)
    assert not can(owner, Action.UPDATE, window)
    assert not can(owner, Action.READ, Resource(kind=ObjectKind.ACCOUNT, owner_account_id=None))


async def _session(gw: GatewayHarness, http: aiohttp.ClientSession, login: str) -> str:
    assert (await gw.login(http, login)).status == 200
    return await gw.form_token(http, "/portal")


async def _any_session(
    gw: GatewayHarness, http: aiohttp.ClientSession, login: str, clock: ManualClock
) -> str:
    """A session of ``login``; the operator olga passes the second factor too."""
    if login == "olga":
        return await staff_login(gw, http, login, clock)
    return await _session(gw, http, login)


async def test_api_matrix_strangers_and_undelegated_installers_get_nothing(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        anna = await gw.create_account("anna")
        await gw.create_account("bert")
        await gw.create_account("ivo", role=Role.INSTALLER)
        await gw.create_account("ina", role=Role.INSTALLER)
        operator = await gw.create_account("olga", role=Role.OPERATOR)
        store = gw.gateway.store
        device = await store.repo(DeviceRepository).create(
            slug="ccu-anna", kind=DeviceKind.CCU, created_at=clock.now(), account_id=anna.id
        )
        service = gw.gateway.runner.app[ENTITLEMENTS]
        window = await service.grant(
            actor_account_id=operator.id,
            subject=Subject.HUB,
            subject_id=device.id,
            start=clock.now(),
            end=clock.now() + timedelta(days=90),
            note="setup",
        )
        # a delegation names a plant of the owner's own (issue 20 item 9)
        roof = await store.repo(PlantRepository).create(
            anna.id, PlantFields(name="Dach"), clock.now()
        )
        customer = {"kind": "private", "name": "Anna A", "street": "Weg 1", "postcode": "72555",
                    "city": "Metzingen", "country": "DE"}  # fmt: skip
        async with gw.client() as http:
            csrf = await _session(gw, http, "anna")
            async with http.put(
                f"/api/v1/accounts/{anna.id}/customer-data",
                json=customer,
                headers={"X-CSRF-Token": csrf},
            ) as resp:
                assert resp.status == 200
            async with http.post(
                "/api/v1/delegations",
                json={"installer": "ina", "plant_id": roof.id},
                headers={"X-CSRF-Token": csrf},
            ) as resp:
                assert resp.status == 201
                delegation = (await resp.json())["id"]
        now = clock.now()
        grant = {"subject": "hub", "subject_id": device.id, "start": now.isoformat(),
                 "end": (now + timedelta(days=1)).isoformat(), "note": "x"}  # fmt: skip
        requests: list[tuple[str, str, dict[str, Any] | None]] = [
            ("GET", f"/api/v1/accounts/{anna.id}", None),
            ("GET", f"/api/v1/accounts/{anna.id}/customer-data", None),
            ("PUT", f"/api/v1/accounts/{anna.id}/customer-data", customer),
            ("GET", "/api/v1/devices/ccu-anna", None),
            ("GET", "/api/v1/devices/ccu-anna/windows", None),
            ("GET", f"/api/v1/windows/{window.id}", None),
            ("POST", "/api/v1/windows", grant),
            ("POST", f"/api/v1/windows/{window.id}/end", {"note": "x"}),
            ("DELETE", f"/api/v1/delegations/{delegation}", None),
        ]
        for login in ("bert", "ivo", "ina", "olga"):
            async with gw.client() as http:
                csrf = await _session(gw, http, login)
                if login == "olga":  # the password alone opens nothing for staff
                    async with http.get(f"/api/v1/accounts/{anna.id}") as resp:
                        assert resp.status == 403
                        assert (await resp.json())["error"] == "second_factor_required"
                    csrf = await staff_login(gw, http, login, clock)
                statuses = []
                for method, path, body in requests:
                    async with http.request(
                        method, path, json=body, headers={"X-CSRF-Token": csrf}
                    ) as resp:
                        statuses.append(resp.status)
                if login == "olga":
                    assert all(200 <= s < 300 for s in statuses), statuses
                else:
                    # the delegation covers anna's roof plant only, never anna's hub or her data
                    assert [s for s in statuses if s < 400] == [], (login, statuses)
                    assert set(statuses) == {404}, (login, statuses)


async def test_api_needs_login_and_csrf_for_writes(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        anna = await gw.create_account("anna")
        async with gw.client() as http:
            async with http.get("/api/v1/me") as resp:
                assert resp.status == 401
            await _session(gw, http, "anna")
            async with http.get("/api/v1/me") as resp:
                assert (await resp.json())["username"] == "anna"
            async with http.put(f"/api/v1/accounts/{anna.id}/customer-data", json={}) as resp:
                assert resp.status == 403


async def _portal_objects(gw: GatewayHarness, anna: int) -> dict[str, int | str]:
    """Anna's order, its pro-forma and contract, a ticket (with attachment) and a quoted
    repair order."""
    await give_customer_data(gw, anna, "Anna A")
    app = gw.gateway.runner.app
    data = await gw.gateway.store.repo(CustomerRepository).get(anna)
    assert data is not None
    placed = await app[BILLING].place_order(
        customer_from_data(data),
        [OrderLine(product="hub-comfort", plan="12m", booking=BookingType.SUBSCRIPTION)],
        key="matrix-order",
    )
    await pay_and_activate(gw, anna, placed["order_id"])
    support = app[SUPPORT]
    ticket = await support.open_ticket(anna, "Privat", "nur für Anna", [checked("a.txt", b"hi")])
    facts = await support.ticket(ticket, anna)
    form = {"contact_name": "Anna", "contact_email": "anna@example.org",
            "category": "ae_new", "device_serial": "SN-1", "fault": "kaputt"}  # fmt: skip
    repair = await support.file_repair(anna, RepairForm.parse(form))
    await support.review(repair, "")
    await support.quote(repair, 1000, "Tausch", base_url=gw.url)
    return {
        "order": placed["order_id"],
        "proforma": placed["proforma_ids"][0],
        "contract": placed["contract_ids"][0],
        "ticket": ticket,
        "attachment": facts.messages[0].attachments[0].id,
        "repair": repair,
    }


async def test_portal_matrix_invoices_contracts_tickets_repairs_are_the_owners_only(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        anna = await gw.create_account("anna")
        await gw.create_account("bert")
        await gw.create_account("ivo", role=Role.INSTALLER)
        await gw.create_account("olga", role=Role.OPERATOR)
        ids = await _portal_objects(gw, anna.id)
        t, r = ids["ticket"], ids["repair"]
        reads = [
            f"/api/v1/billing/documents/{ids['proforma']}/pdf",
            f"/portal/tickets/{t}",
            f"/portal/attachments/{ids['attachment']}",
            f"/portal/repairs/{r}",
            f"/portal/repairs/{r}/quote.pdf",
        ]
        writes = [
            f"/portal/tickets/{t}/reply",
            f"/portal/tickets/{t}/close",
            f"/portal/repairs/{r}/accept",
            f"/portal/products/{ids['contract']}/cancel",
        ]
        operator_api = [f"/api/v1/operator/tickets/{t}", f"/api/v1/operator/repairs/{r}"]
        for login in ("bert", "ivo", "olga", "anna"):
            async with gw.client() as http:
                csrf = await _any_session(gw, http, login, clock)
                statuses = []
                for path in reads:
                    async with http.get(path, allow_redirects=False) as resp:
                        statuses.append(resp.status)
                for path in writes:
                    form = {"csrf_token": csrf, "body": "übernommen"}
                    async with http.post(path, data=form, allow_redirects=False) as resp:
                        statuses.append(resp.status)
                pages = ""
                for path in ("/portal", "/portal/tickets", "/portal/repairs",
                             "/portal/products", "/portal/invoices"):  # fmt: skip
                    async with http.get(path) as resp:
                        assert resp.status == 200, (login, path)
                        pages += await resp.text()
                api = []
                for path in operator_api:
                    async with http.get(path) as resp:
                        api.append(resp.status)
            shows = "Privat" in pages or "RA-" in pages or "Komfort" in pages
            if login == "anna":
                assert all(s in (200, 303) for s in statuses), statuses
                assert "Privat" in pages
                assert "RA-" in pages
                assert api == [403, 403]
            else:
                assert set(statuses) == {404}, (login, statuses)
                assert not shows, login
                assert api == ([200, 200] if login == "olga" else [403, 403]), (login, api)
        # nothing a stranger posted changed anna's objects
        support = gw.gateway.runner.app[SUPPORT]
        messages = (await support.ticket(int(t), anna.id)).messages
        assert [m.body for m in messages] == ["nur für Anna", "übernommen"]


async def test_page_matrix_grants_and_shared_plants(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    """The portal's grant pages and a granted plant's pages, for every role: the owner
    manages the grant, the installer holding it only reads the plant, nobody else sees
    either (404, existence not revealed); operators manage grants and read plants."""
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        anna = await gw.create_account("anna")
        await gw.create_account("bert")
        await gw.create_account("ivo", role=Role.INSTALLER)
        ina = await gw.create_account("ina", role=Role.INSTALLER)
        await gw.create_account("olga", role=Role.OPERATOR)
        store = gw.gateway.store
        plant = await store.repo(PlantRepository).create(
            anna.id, PlantFields(name="Dach"), clock.now()
        )
        grant = await store.repo(CustomerRepository).delegate(
            anna.id, ina.id, plant.id, clock.now()
        )
        pages = [
            ("GET", f"/portal/sharing/{grant.id}/revoke"),
            ("GET", f"/plants/{plant.id}"),
            ("GET", f"/plants/{plant.id}/edit"),
            ("POST", f"/plants/{plant.id}/delete"),
        ]
        expected = {
            "anna": [200, 200, 200, 200],  # the delete answers with its question first
            "bert": [404, 404, 404, 404],
            "ivo": [404, 404, 404, 404],
            "ina": [404, 200, 404, 404],
            "olga": [200, 200, 404, 404],  # owner pages stay the owner's
        }
        for login, statuses in expected.items():
            async with gw.client() as http:
                csrf = await _any_session(gw, http, login, clock)
                seen = []
                for method, path in pages:
                    data = {"csrf_token": csrf} if method == "POST" else None
                    async with http.request(method, path, data=data) as resp:
                        seen.append(resp.status)
                assert seen == statuses, (login, seen)
        # after the matrix nothing changed: the grant and the plant are still there
        assert await store.repo(CustomerRepository).delegations(installer_account_id=ina.id)
        assert (await store.repo(PlantRepository).get(plant.id, anna.id)).fields.name == "Dach"
