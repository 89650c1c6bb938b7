"""JSON API of the accounts area: the caller, accounts, customer data, delegations."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cloud_gateway.accounts.access import Action, ObjectKind, Resource
from cloud_gateway.accounts.customer_fields import (
    CUSTOMER_FIELDS,
    INPUT_TEXT_FIELDS,
    invalid_fields,
    openapi_properties,
)
from cloud_gateway.accounts.customer_rules import CustomerKind
from cloud_gateway.accounts.customers import CustomerInput
from cloud_gateway.accounts.model import Account, Role
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.accounts.repository_customers import CustomerData, CustomerRepository
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.api import api_actor, check, json_id, json_text, read_json
from cloud_gateway.http.errors import ErrorCode, refuse
from cloud_gateway.http.keys import CLOCK, CUSTOMERS, OPENAPI, STORE
from cloud_gateway.http.openapi import json_body, ok, path_param
from cloud_gateway.http.pages import Handler
from cloud_gateway.plants.repository import PlantRepository

__all__ = ["setup"]


def _account_json(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "username": account.username,
        "email": account.email,
        "role": account.role.value,
        "language": account.language,
        "created_at": account.created_at.isoformat(),
    }


def _customer_json(data: CustomerData) -> dict[str, Any]:
    return {
        "kind": data.kind.value,
        **{name: getattr(data, name) for name in INPUT_TEXT_FIELDS},
        "vat_state": data.vat_state.value,
        "vat_checked_at": data.vat_checked_at.isoformat() if data.vat_checked_at else None,
        "vat_proof": data.vat_proof,
    }


def _int(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise refuse(ErrorCode.NOT_FOUND) from None


async def me(request: web.Request) -> web.Response:
    """The logged-in account."""
    identity, _ = await api_actor(request)
    return web.json_response(_account_json(identity.account))


async def get_account(request: web.Request) -> web.Response:
    """One account (its owner and operators only)."""
    _, actor = await api_actor(request)
    account_id = _int(request, "account_id")
    check(actor, Action.READ, Resource(kind=ObjectKind.ACCOUNT, owner_account_id=account_id))
    try:
        account = await request.app[STORE].repo(AccountRepository).get(account_id)
    except NotFoundError:
        raise refuse(ErrorCode.NOT_FOUND) from None
    return web.json_response(_account_json(account))


async def get_customer_data(request: web.Request) -> web.Response:
    """An account's customer data with the VAT ID state and proof."""
    _, actor = await api_actor(request)
    account_id = _int(request, "account_id")
    check(actor, Action.READ, Resource(kind=ObjectKind.CUSTOMER_DATA, owner_account_id=account_id))
    data = await request.app[STORE].repo(CustomerRepository).get(account_id)
    if data is None:
        raise refuse(ErrorCode.NOT_FOUND)
    return web.json_response(_customer_json(data))


async def put_customer_data(request: web.Request) -> web.Response:
    """Enter or change customer data; a business VAT ID is checked (or left pending)."""
    _, actor = await api_actor(request)
    account_id = _int(request, "account_id")
    resource = Resource(kind=ObjectKind.CUSTOMER_DATA, owner_account_id=account_id)
    check(actor, Action.UPDATE, resource)
    body = await read_json(request)
    texts = {k: body.get(k, "") for k in INPUT_TEXT_FIELDS}
    if not all(isinstance(v, str) for v in texts.values()):
        raise refuse(
            ErrorCode.MISSING_FIELDS, fields=[k for k, v in texts.items() if not isinstance(v, str)]
        )
    try:
        kind = CustomerKind(str(body.get("kind", "")))
    except ValueError:
        raise refuse(ErrorCode.INVALID_KIND) from None
    wrong = invalid_fields(texts)
    if wrong:
        raise refuse(ErrorCode.MISSING_FIELDS, fields=wrong)
    entered = CustomerInput(kind=kind, **texts)
    result = await request.app[CUSTOMERS].save(account_id, entered)
    if result.saved is None:
        raise refuse(ErrorCode.CORRECTION_NEEDED, fields=result.corrections)
    return web.json_response(
        {**_customer_json(result.saved), "eligibility": result.eligibility.value}
    )


async def list_delegations(request: web.Request) -> web.Response:
    """Delegations the caller gave (as owner) and holds (as installer)."""
    identity, _ = await api_actor(request)
    customers = request.app[STORE].repo(CustomerRepository)
    given = await customers.delegations(owner_account_id=identity.account.id)
    held = await customers.delegations(installer_account_id=identity.account.id)

    def item(d: Any) -> dict[str, Any]:
        return {
            "id": d.id,
            "owner_account_id": d.owner_account_id,
            "installer_account_id": d.installer_account_id,
            "plant_id": d.plant_id,
            "device_id": d.device_id,
        }

    return web.json_response({"given": [item(d) for d in given], "held": [item(d) for d in held]})


async def create_delegation(request: web.Request) -> web.Response:
    """Let an installer monitor one of the caller's plants (or all: ``plant_id`` null).

    With ``device_id`` instead, the installer may open that one device remotely.
    """
    identity, _ = await api_actor(request)
    body = await read_json(request)
    installer = (
        await request.app[STORE].repo(AccountRepository).find_by_login(json_text(body, "installer"))
    )
    if installer is None or installer.role is not Role.INSTALLER:
        raise refuse(ErrorCode.NO_SUCH_INSTALLER)
    plant = json_id(body, "plant_id", ErrorCode.INVALID_PLANT_ID)
    if plant is not None:
        # the delegation is the caller's: only a plant of their own makes sense
        try:
            await request.app[STORE].repo(PlantRepository).get(plant, identity.account.id)
        except NotFoundError:
            raise refuse(ErrorCode.INVALID_PLANT_ID) from None
    device_id = json_id(body, "device_id", ErrorCode.INVALID_DEVICE_ID)
    if device_id is not None:
        if plant is not None:
            raise refuse(ErrorCode.INVALID_DEVICE_ID)
        # the delegation is the caller's: only a device of their own makes sense
        if await request.app[STORE].repo(DeviceRepository).owner(device_id) != identity.account.id:
            raise refuse(ErrorCode.INVALID_DEVICE_ID)
    created = (
        await request.app[STORE]
        .repo(CustomerRepository)
        .delegate(
            identity.account.id, installer.id, plant, request.app[CLOCK].now(), device_id=device_id
        )
    )
    return web.json_response({"id": created.id}, status=201)


async def revoke_delegation(request: web.Request) -> web.Response:
    """The owner (or an operator) revokes a delegation."""
    _, actor = await api_actor(request)
    customers = request.app[STORE].repo(CustomerRepository)
    try:
        found = await customers.delegation(_int(request, "delegation_id"))
    except NotFoundError:
        raise refuse(ErrorCode.NOT_FOUND) from None
    resource = Resource(
        kind=ObjectKind.DELEGATION, owner_account_id=found.owner_account_id, plant_id=found.plant_id
    )
    check(actor, Action.DELETE, resource)
    await customers.revoke(found.id, request.app[CLOCK].now())
    return web.json_response({"id": found.id, "revoked": True})


async def openapi_json(request: web.Request) -> web.Response:
    """The OpenAPI document of this API."""
    return web.json_response(request.app[OPENAPI].document(request.app))


def setup(app: web.Application) -> None:
    """Register and describe the routes."""
    r, doc = app.router, app[OPENAPI]
    account = [path_param("account_id")]
    routes: list[tuple[str, str, Handler, dict[str, Any]]] = [
        ("GET", "/api/v1/openapi.json", openapi_json, {"summary": "This document", "security": []}),
        ("GET", "/api/v1/me", me, {"summary": "The logged-in account"}),
        ("GET", "/api/v1/accounts/{account_id}", get_account, {"parameters": account}),
        ("GET", "/api/v1/accounts/{account_id}/customer-data", get_customer_data,
         {"parameters": account}),
        ("PUT", "/api/v1/accounts/{account_id}/customer-data", put_customer_data,
         {"parameters": account, "requestBody": json_body(
             {"kind": "string"}, ["kind", *(f.name for f in CUSTOMER_FIELDS if f.required)],
             properties=openapi_properties())}),
        ("GET", "/api/v1/delegations", list_delegations, {"summary": "Delegations"}),
        ("POST", "/api/v1/delegations", create_delegation,
         {"requestBody": json_body({"installer": "string", "plant_id": "integer",
                                    "device_id": "integer"}, ["installer"])}),
        ("DELETE", "/api/v1/delegations/{delegation_id}", revoke_delegation,
         {"parameters": [path_param("delegation_id")]}),
    ]  # fmt: skip
    for method, path, handler, extra in routes:
        r.add_route(method, path, handler)
        summary = (handler.__doc__ or path).splitlines()[0]
        operation: dict[str, Any] = {
            "summary": summary,
            "responses": ok(summary, 201, 400, 422),
            **extra,
        }
        doc.add(method, path, operation)
