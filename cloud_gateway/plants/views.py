"""Portal pages for plants and inverters (server-rendered; every form carries a CSRF token).

Another account's plant or inverter is 404. A plant without a valid trial or licence still
shows its settings and inverters, but not its data (R-MON-16).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from markupsafe import Markup
from multidict import MultiDictProxy

from cloud_gateway.accounts.access import Action, ObjectKind, Resource, actor_for, can
from cloud_gateway.accounts.model import Account
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.accounts.repository_customers import CustomerRepository
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.auth import csrf_token, require_identity, verify_csrf
from cloud_gateway.http.keys import CLOCK, INVERTER_REGISTRATION, LICENCES, PLANT_ACCESS, STORE
from cloud_gateway.http.pages import render
from cloud_gateway.i18n import request_language, translate
from cloud_gateway.licences.texts import day as format_day
from cloud_gateway.plants.chart import plant_series, power_chart_svg
from cloud_gateway.plants.day_energy import day_bounds, local_day
from cloud_gateway.plants.errors import (
    ActivationCodeError,
    ActivationRateLimitedError,
    InvalidPlantError,
    SerialTakenError,
)
from cloud_gateway.plants.live import summarise
from cloud_gateway.plants.model import (
    PLANT_FIELDS,
    FieldKind,
    Inverter,
    Plant,
    PlantFields,
    PlantType,
    parse_plant_fields,
)
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.plants.repository_readings import ReadingRepository
from cloud_gateway.plants.spreadsheet import (
    SpreadsheetError,
    read_sheet,
    template_csv,
    template_xlsx,
)

__all__ = ["setup", "shared_plants"]

_ERRORS = {
    ActivationCodeError: "plants.err.wrong_code",
    ActivationRateLimitedError: "plants.err.rate_limited",
    SerialTakenError: "plants.err.taken",
}
_ADD_ERRORS = (ActivationCodeError, ActivationRateLimitedError, SerialTakenError, InvalidPlantError)


async def _posted(
    request: web.Request,
) -> tuple[int, MultiDictProxy[str | bytes | bytearray | web.FileField], Plant]:
    """A form posted about the plant in the path: account, form (CSRF checked), plant."""
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    return identity.account.id, form, await _plant(request, identity.account.id)


async def _plant(request: web.Request, account_id: int) -> Plant:
    try:
        plant_id = int(request.match_info["plant_id"])
        return await request.app[STORE].repo(PlantRepository).get(plant_id, account_id)
    except (ValueError, NotFoundError):
        raise web.HTTPNotFound from None


async def _readable_plant(request: web.Request, account: Account) -> tuple[Plant, str | None]:
    """The plant in the path for reading: the account's own (owner ``None``), or one its
    owner delegated to this installer (the owner's name); else 404 (``can`` decides)."""
    try:
        plant_id = int(request.match_info["plant_id"])
        plant = await request.app[STORE].repo(PlantRepository).get(plant_id, None)
    except (ValueError, NotFoundError):
        raise web.HTTPNotFound from None
    if plant.account_id == account.id:
        return plant, None
    actor = await actor_for(request.app[STORE], account)
    resource = Resource(kind=ObjectKind.PLANT, owner_account_id=plant.account_id, plant_id=plant.id)
    if not can(actor, Action.READ, resource):
        raise web.HTTPNotFound
    owner = await request.app[STORE].repo(AccountRepository).get(plant.account_id)
    return plant, owner.username


_FIELDS = tuple(spec.name for spec in PLANT_FIELDS)
#: the fields the form shows as text inputs (the type is a select, the flag a checkbox)
_INPUTS = [s.name for s in PLANT_FIELDS if s.kind not in {FieldKind.CHOICE, FieldKind.FLAG}]


def _values(source: PlantFields | Mapping[str, Any]) -> dict[str, str]:
    """Form values as text, from a stored plant or from what was posted."""
    if isinstance(source, PlantFields):
        raw = {name: getattr(source, name) for name in _FIELDS}
        raw["public"] = "on" if source.public else ""
    else:
        raw = {name: source.get(name) for name in _FIELDS}
    return {k: "" if v is None else str(v) for k, v in raw.items()}


async def _page(
    request: web.Request, template: str, status: int = 200, **context: Any
) -> web.Response:
    context.setdefault("csrf_token", await csrf_token(request))
    context.setdefault("plant_types", list(PlantType))
    context.setdefault("inputs", _INPUTS)
    return render(request, template, context, status=status)


async def shared_plants(request: web.Request, account: Account) -> list[tuple[Plant, str]]:
    """Plants other owners let this installer monitor, with the owner's name (R-MON-20)."""
    store = request.app[STORE]
    held = await store.repo(CustomerRepository).delegations(installer_account_id=account.id)
    found: dict[int, tuple[Plant, str]] = {}
    for grant in held:
        if grant.device_id is not None:
            continue
        owner = (await store.repo(AccountRepository).get(grant.owner_account_id)).username
        plants = await store.repo(PlantRepository).list_for_account(grant.owner_account_id)
        for p in plants:
            if grant.plant_id in (None, p.id):
                found[p.id] = (p, owner)
    return list(found.values())


async def plant_list(request: web.Request) -> web.Response:
    identity = await require_identity(request)
    found = await request.app[STORE].repo(PlantRepository).list_for_account(identity.account.id)
    now, lang = request.app[CLOCK].now(), request_language(request)
    ends = {}  # the last day of access per plant (R-MON-15), "" without trial or licence
    for p in found:
        last = (await request.app[LICENCES].status(p, now)).last_day
        ends[p.id] = format_day(lang, last, "medium") if last else ""
    shared = await shared_plants(request, identity.account)
    notice = {"plant_deleted": "done.plant_deleted"}.get(request.query.get("done", ""))
    return await _page(
        request, "plant_list.html", plants=found, licence_ends=ends, shared=shared, notice=notice
    )


async def plant_new(request: web.Request) -> web.Response:
    await require_identity(request)
    return await _page(
        request, "plant_form.html", plant=None, values=_values(PlantFields(name="")), problems={}
    )


async def plant_save(request: web.Request) -> web.Response:
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    store = request.app[STORE]
    plant = await _plant(request, identity.account.id) if "plant_id" in request.match_info else None
    try:
        fields = parse_plant_fields(form)
    except InvalidPlantError as exc:
        return await _page(
            request,
            "plant_form.html",
            422,
            plant=plant,
            values=_values(form),
            problems=exc.problems,
        )
    if plant is None:
        plant = await store.repo(PlantRepository).create(
            identity.account.id, fields, request.app[CLOCK].now()
        )
    else:
        plant = await store.repo(PlantRepository).update(plant.id, identity.account.id, fields)
    raise web.HTTPSeeOther(f"/plants/{plant.id}")


async def plant_edit(request: web.Request) -> web.Response:
    identity = await require_identity(request)
    plant = await _plant(request, identity.account.id)
    return await _page(
        request, "plant_form.html", plant=plant, values=_values(plant.fields), problems={}
    )


async def _confirm(request: web.Request, question: str, cancel: str) -> web.Response:
    """Ask before a destructive action; the answer posts back with ``confirmed=yes``."""
    return await _page(
        request,
        "confirm.html",
        question=question,
        action=request.path,
        cancel=cancel,
        yes="ask.yes",
    )


async def plant_delete(request: web.Request) -> web.Response:
    account_id, form, plant = await _posted(request)
    if form.get("confirmed") != "yes":
        question = translate(request_language(request), "ask.plant").format(name=plant.fields.name)
        return await _confirm(request, question, f"/plants/{plant.id}")
    await request.app[STORE].repo(PlantRepository).delete(plant.id, account_id)
    raise web.HTTPSeeOther("/plants?done=plant_deleted")


async def plant_detail(
    request: web.Request, *, error: str | None = None, status: int = 200
) -> web.Response:
    identity = await require_identity(request)
    plant, shared_by = await _readable_plant(request, identity.account)
    account_id = plant.account_id
    store = request.app[STORE]
    now = request.app[CLOCK].now()
    found = await store.repo(InverterRepository).list_for_plant(plant.id, account_id)
    access = await request.app[PLANT_ACCESS].decide(plant, now)
    live = chart = None
    if access.entitled:
        today = local_day(now)
        ids = [i.id for i in found]
        live = summarise(found, await store.repo(ReadingRepository).day_states(ids, today), now)
        start, end = day_bounds(today)
        points = [
            (r.inverter_id, r.at, r.power_w)
            for r in await store.repo(ReadingRepository).between(ids, start, end)
        ]
        series = plant_series(points, start)
        chart = Markup(power_chart_svg(series, start, end, plant.fields.name)) if series else None  # noqa: S704 - every text in the SVG is escaped
    licence = await request.app[LICENCES].status(plant, now)
    return await _page(
        request,
        "plant_detail.html",
        status,
        plant=plant,
        inverters=found,
        access=access,
        live=live,
        chart=chart,
        error=error,
        licence=licence,
        licence_end=(
            format_day(request_language(request), licence.last_day) if licence.last_day else ""
        ),
        shared_by=shared_by,
        notice={"inverter_deleted": "done.inverter_deleted"}.get(request.query.get("done", "")),
    )


async def plant_detail_get(request: web.Request) -> web.Response:
    return await plant_detail(request)


async def inverter_add(request: web.Request) -> web.Response:
    account_id, form, plant = await _posted(request)
    try:
        await request.app[INVERTER_REGISTRATION].add(
            account_id=account_id,
            plant_id=plant.id,
            serial=str(form.get("serial", "")),
            code=str(form.get("activation_code", "")),
            source_address=request.remote or "",
            name=str(form.get("name", "")),
        )
    except _ADD_ERRORS as exc:
        key = _ERRORS.get(type(exc), "plants.err.serial")
        status = 429 if isinstance(exc, ActivationRateLimitedError) else 422
        return await plant_detail(request, error=key, status=status)
    raise web.HTTPSeeOther(f"/plants/{plant.id}")


async def upload_form(request: web.Request) -> web.Response:
    identity = await require_identity(request)
    plant = await _plant(request, identity.account.id)
    return await _page(request, "plant_upload.html", plant=plant, report=None, error=None)


async def upload_submit(request: web.Request) -> web.Response:
    account_id, form, plant = await _posted(request)
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        return await _page(
            request, "plant_upload.html", 422, plant=plant, report=None, error="plants.sheet.empty"
        )
    data = upload.file.read()
    try:
        rows = await asyncio.to_thread(read_sheet, upload.filename, data)
        report = await request.app[INVERTER_REGISTRATION].add_list(
            account_id=account_id,
            plant_id=plant.id,
            rows=rows,
            source_address=request.remote or "",
        )
    except SpreadsheetError as exc:
        return await _page(
            request, "plant_upload.html", 422, plant=plant, report=None, error=exc.reason
        )
    except ActivationRateLimitedError:
        return await _page(
            request,
            "plant_upload.html",
            429,
            plant=plant,
            report=None,
            error="plants.err.rate_limited",
        )
    return await _page(request, "plant_upload.html", plant=plant, report=report, error=None)


async def template_download(request: web.Request) -> web.Response:
    await require_identity(request)
    ext = request.match_info["ext"]
    if ext == "xlsx":
        body = await asyncio.to_thread(template_xlsx)
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, kind = template_csv(), "text/csv"
    return web.Response(
        body=body,
        content_type=kind,
        headers={"Content-Disposition": f'attachment; filename="wechselrichter.{ext}"'},
    )


async def _inverter(request: web.Request, plant: Plant, account_id: int) -> Inverter:
    """The inverter named in the path, if it belongs to ``plant`` (else 404)."""
    try:
        inverter_id = int(request.match_info["inverter_id"])
        inverter = await request.app[STORE].repo(InverterRepository).get(inverter_id, account_id)
    except (ValueError, NotFoundError):
        raise web.HTTPNotFound from None
    if inverter.plant_id != plant.id:
        raise web.HTTPNotFound
    return inverter


async def inverter_page(
    request: web.Request, *, status: int = 200, inverter: Inverter | None = None, **context: Any
) -> web.Response:
    """One inverter: its facts, rename, swap for a replacement, delete."""
    identity = await require_identity(request)
    plant = await _plant(request, identity.account.id)
    if inverter is None:
        inverter = await _inverter(request, plant, identity.account.id)
    context.setdefault("notice", _NOTICES.get(request.query.get("done", "")))
    for name in ("rename_error", "swap_error"):
        context.setdefault(name, None)
    context.setdefault("swap_serial", "")
    return await _page(
        request, "inverter_detail.html", status, plant=plant, inverter=inverter, **context
    )


async def inverter_page_get(request: web.Request) -> web.Response:
    return await inverter_page(request)


async def inverter_rename(request: web.Request) -> web.Response:
    account_id, form, plant = await _posted(request)
    inverter = await _inverter(request, plant, account_id)
    name = str(form.get("name", "")).strip()
    if len(name) > 100:
        return await inverter_page(request, status=422, rename_error="plants.err.too_long")
    await request.app[STORE].repo(InverterRepository).rename(inverter.id, account_id, name)
    raise web.HTTPSeeOther(f"/plants/{plant.id}/inverters/{inverter.id}?done=renamed")


async def inverter_swap(request: web.Request) -> web.Response:
    account_id, form, plant = await _posted(request)
    inverter = await _inverter(request, plant, account_id)
    serial = str(form.get("serial", ""))
    try:
        swapped = await request.app[INVERTER_REGISTRATION].swap(
            account_id=account_id,
            inverter_id=inverter.id,
            serial=serial,
            code=str(form.get("activation_code", "")),
            source_address=request.remote or "",
        )
    except _ADD_ERRORS as exc:
        return await inverter_page(
            request,
            status=429 if isinstance(exc, ActivationRateLimitedError) else 422,
            inverter=inverter,
            swap_error=_ERRORS.get(type(exc), "plants.err.serial"),
            swap_serial=serial[:32],
        )
    raise web.HTTPSeeOther(f"/plants/{plant.id}/inverters/{swapped.id}?done=swapped")


async def inverter_delete(request: web.Request) -> web.Response:
    account_id, form, plant = await _posted(request)
    inverter = await _inverter(request, plant, account_id)
    if form.get("confirmed") != "yes":
        question = translate(request_language(request), "ask.inverter").format(
            serial=inverter.serial
        )
        return await _confirm(request, question, f"/plants/{plant.id}/inverters/{inverter.id}")
    await request.app[STORE].repo(InverterRepository).delete(inverter.id, account_id)
    raise web.HTTPSeeOther(f"/plants/{plant.id}?done=inverter_deleted")


_NOTICES = {"renamed": "plants.renamed", "swapped": "plants.swapped"}


def setup(app: web.Application) -> None:
    """Register the portal pages."""
    r = app.router
    r.add_get("/plants", plant_list, name="plants")
    r.add_get("/plants/new", plant_new)
    r.add_post("/plants/new", plant_save)
    r.add_get("/plants/{plant_id:\\d+}", plant_detail_get)
    r.add_get("/plants/{plant_id:\\d+}/edit", plant_edit)
    r.add_post("/plants/{plant_id:\\d+}/edit", plant_save)
    r.add_post("/plants/{plant_id:\\d+}/delete", plant_delete)
    r.add_post("/plants/{plant_id:\\d+}/inverters", inverter_add)
    r.add_get("/plants/{plant_id:\\d+}/inverters/upload", upload_form)
    r.add_post("/plants/{plant_id:\\d+}/inverters/upload", upload_submit)
    r.add_get("/plants/inverter-template.{ext:csv|xlsx}", template_download)
    inverter = "/plants/{plant_id:\\d+}/inverters/{inverter_id:\\d+}"
    r.add_get(inverter, inverter_page_get)
    r.add_post(inverter + "/edit", inverter_rename)
    r.add_post(inverter + "/swap", inverter_swap)
    r.add_post(inverter + "/delete", inverter_delete)
