"""Numbers, money, dates and times as the reader expects them (Babel), for every page.

Templates use them as filters; the language comes from the template's ``lang``:

- ``{{ 1234.5 | number(1) }}`` -> ``1.234,5`` (de) / ``1,234.5`` (en)
- ``{{ 12345 | cents }}`` -> ``123,45 €`` (integer cents, never floats)
- ``{{ day | date }}`` -> ``05.12.2026``; ``{{ instant | datetime }}`` -> ``05.12.2026, 21:03``
  (an instant is shown in Europe/Berlin, whatever zone it was stored in)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import jinja2
from babel import dates, numbers

from cloud_gateway.localdays import BERLIN

#: what a missing value shows (an en dash, as printed tables use)
NO_VALUE = "\u2013"

__all__ = [
    "FILTERS",
    "format_cents",
    "format_date",
    "format_datetime",
    "format_number",
    "locale_of",
]

_LOCALES = {"de": "de_DE", "en": "en_GB"}


def locale_of(lang: str) -> str:
    """The Babel locale of a UI language (German when unknown)."""
    return _LOCALES.get(lang, "de_DE")


def format_number(value: float | int | Decimal | None, digits: int, lang: str) -> str:
    """``value`` with ``digits`` decimals and grouping; :data:`NO_VALUE` for none."""
    if value is None:
        return NO_VALUE
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return numbers.format_decimal(value, format=pattern, locale=locale_of(lang))


def format_cents(cents: int | None, lang: str, currency: str = "EUR") -> str:
    """Integer cents as money in the reader's locale (``1.234,50 €``)."""
    if cents is None:
        return NO_VALUE
    amount = Decimal(cents) / 100
    return numbers.format_currency(amount, currency, locale=locale_of(lang))


def format_date(value: date | datetime | None, lang: str) -> str:
    """A calendar day (an instant: its day in Berlin), ``05.12.2026`` / ``05/12/2026``."""
    if value is None:
        return NO_VALUE
    if isinstance(value, datetime):
        value = value.astimezone(BERLIN).date() if value.tzinfo else value.date()
    return dates.format_date(
        value, format="short" if lang == "en" else "dd.MM.yyyy", locale=locale_of(lang)
    )


def format_datetime(value: datetime | None, lang: str) -> str:
    """An instant in Europe/Berlin, to the minute (``05.12.2026, 21:03``)."""
    if value is None:
        return NO_VALUE
    pattern = "dd/MM/yyyy, HH:mm" if lang == "en" else "dd.MM.yyyy, HH:mm"
    return dates.format_datetime(value, pattern, tzinfo=BERLIN, locale=locale_of(lang))


def _lang(context: jinja2.runtime.Context) -> str:
    return str(context.get("lang", "de"))


@jinja2.pass_context
def _number(context: jinja2.runtime.Context, value: Any, digits: int = 0, scale: float = 1) -> str:
    return format_number(None if value is None else value / scale, digits, _lang(context))


@jinja2.pass_context
def _cents(context: jinja2.runtime.Context, value: int | None, currency: str = "EUR") -> str:
    return format_cents(value, _lang(context), currency)


@jinja2.pass_context
def _date(context: jinja2.runtime.Context, value: date | datetime | None) -> str:
    return format_date(value, _lang(context))


@jinja2.pass_context
def _datetime(context: jinja2.runtime.Context, value: datetime | None) -> str:
    return format_datetime(value, _lang(context))


#: the filters :func:`cloud_gateway.http.pages.install_formats` puts into an environment
FILTERS: dict[str, Callable[..., str]] = {
    "number": _number,
    "cents": _cents,
    "date": _date,
    "datetime": _datetime,
}
