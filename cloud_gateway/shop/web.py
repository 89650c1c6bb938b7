"""The shop pages' rendering: its templates with texts and formats in the user's language."""

from __future__ import annotations

from typing import Any

import jinja2
from aiohttp import web

from cloud_gateway.http.keys import SHOP_TEMPLATES
from cloud_gateway.http.pages import install_formats, page_context, page_response
from cloud_gateway.i18n import request_language
from cloud_gateway.shop.formats import Formats
from cloud_gateway.shop.texts import shop_text

__all__ = ["make_shop_templates", "render_shop"]


def make_shop_templates() -> jinja2.Environment:
    """The shop's templates, falling back to the gateway's (``base.html``)."""
    return install_formats(
        jinja2.Environment(
            loader=jinja2.ChoiceLoader(
                [
                    jinja2.PackageLoader("cloud_gateway.shop", "templates"),
                    jinja2.PackageLoader("cloud_gateway", "templates"),
                ]
            ),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
        )
    )


def render_shop(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    """Render a shop template in the request's language (``t``, ``fmt`` and ``lang`` set)."""
    lang = request_language(request)

    def t(key: str) -> str:
        return shop_text(lang, key)

    body = (
        request.app[SHOP_TEMPLATES]
        .get_template(template)
        .render(lang=lang.value, t=t, fmt=Formats(lang), **{**page_context(request), **context})
    )
    return page_response(request, body, status=status)
