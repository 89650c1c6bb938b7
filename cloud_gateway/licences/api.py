"""JSON API of the licences (for the app and the owner's tools)::

    GET /api/v1/plants/{plant_id}/licence            status, power, the prices of both terms
    GET /api/v1/plants/{plant_id}/licence/preview?added=5000,&term=365d
                                                     "Gebühren vorab erfragen" (dry run)

Amounts are decimal strings in EUR, powers integers in watts. The caller must be allowed to
read the plant (owner, or an installer it was delegated to); the prices are the owner's.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cloud_gateway.billing.money import format_amount
from cloud_gateway.http.errors import ErrorCode, refuse
from cloud_gateway.http.keys import LICENCES, OPENAPI
from cloud_gateway.http.openapi import ok, path_param
from cloud_gateway.licences.errors import QuoteError
from cloud_gateway.licences.quote import LicenceTerm, Quote, parse_watts
from cloud_gateway.plants.api import api_plant

__all__ = ["setup"]


def _amounts(priced: Quote) -> dict[str, str]:
    return {
        "net": format_amount(priced.net),
        "vat": format_amount(priced.vat),
        "gross": format_amount(priced.gross),
        "credit": format_amount(priced.credit),
        "due": format_amount(priced.due),
    }


async def licence(request: web.Request) -> web.Response:
    plant = await api_plant(request)
    service = request.app[LICENCES]
    status = await service.status(plant)
    power = await service.plant_power(plant)
    prices: dict[str, Any] = {}
    if power.inverters:
        for term in LicenceTerm:
            prices[term.value] = _amounts(await service.quote(plant.account_id, [plant.id], term))
    return web.json_response(
        {
            "plant_id": plant.id,
            "entitled": status.entitled,
            "last_day": status.last_day.isoformat() if status.last_day else None,
            "days_left": status.days_left,
            "renew_offered": status.renew_offered,
            "power_w": power.power_w,
            "unknown_inverters": power.unknown_inverters,
            "prices": prices,
        }
    )


async def preview(request: web.Request) -> web.Response:
    plant = await api_plant(request)
    try:
        added = parse_watts(request.query.get("added", ""))
        term = LicenceTerm.parse(request.query.get("term", "365d"))
    except QuoteError as exc:
        raise refuse(ErrorCode.INVALID_REQUEST, detail=str(exc)) from None
    result = await request.app[LICENCES].preview_power(plant.account_id, plant.id, added, term)
    return web.json_response(
        {
            "plant_id": plant.id,
            "current_w": result.current_w,
            "new_w": result.new_w,
            "licensed_w": result.licensed_w,
            "exceeds": result.exceeds,
            "term": term.value,
            **_amounts(result.quote),
        }
    )


def setup(app: web.Application) -> None:
    """Register and describe the licence API."""
    plant = path_param("plant_id")
    added = {
        "name": "added",
        "in": "query",
        "description": "nominal powers (W) of inverters to add, comma-separated; empty: unknown",
        "schema": {"type": "string"},
    }
    term = {
        "name": "term",
        "in": "query",
        "description": "365d (default) or 730d",
        "schema": {"type": "string", "enum": [t.value for t in LicenceTerm]},
    }
    for path, handler, summary, parameters, responses in (
        (
            "/api/v1/plants/{plant_id}/licence",
            licence,
            "The plant's licence: status, power and the prices of both terms",
            [plant],
            ok("licence status"),
        ),
        (
            "/api/v1/plants/{plant_id}/licence/preview",
            preview,
            "Fees asked in advance: the price after adding inverters (changes nothing)",
            [plant, added, term],
            ok("the price preview", 400),
        ),
    ):
        app.router.add_get(path, handler)
        app[OPENAPI].add(
            "GET", path, {"summary": summary, "parameters": parameters, "responses": responses}
        )
