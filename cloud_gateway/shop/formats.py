"""Amounts, days and runtimes in the user's language, for the shop's and portal's pages.

Money and dates are formatted with Babel through the documents' labels (``1.808,00 €``,
``05.12.2026`` in German; ``€1,808.00``, ``5 Dec 2026`` in English); instants are shown as
Europe/Berlin days.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from cloud_gateway.billing.catalogue import PeriodUnit, Plan
from cloud_gateway.billing.rendering.labels import Labels, labels_for
from cloud_gateway.i18n import Language
from cloud_gateway.localdays import BERLIN, last_day, local_date
from cloud_gateway.shop.texts import shop_text

__all__ = ["Formats"]


class Formats:
    """Amounts, days and runtimes in one language, for the templates."""

    __slots__ = ("_labels", "lang")

    def __init__(self, lang: Language) -> None:
        self.lang = lang
        self._labels: Labels = labels_for(lang.value)

    def money(self, cents: int) -> str:
        """Cents as money in the user's locale."""
        return self._labels.money(cents)

    def rate(self, rate: Decimal) -> str:
        """A VAT rate without trailing zeros (``19``, ``7``)."""
        return self._labels.number(rate)

    def day(self, value: date) -> str:
        """A day in the user's locale."""
        return self._labels.date(value)

    def local_day(self, at: datetime) -> str:
        """The Europe/Berlin day of an instant."""
        return self.day(local_date(at))

    def local_time(self, at: datetime) -> str:
        """An instant as its Europe/Berlin day and 24-hour time."""
        return f"{self.local_day(at)}, {at.astimezone(BERLIN):%H:%M}"

    def last_day(self, end: datetime) -> str:
        """The last Europe/Berlin day a window ending at ``end`` covers."""
        return self.day(last_day(end))

    def runtime(self, plan: Plan) -> str:
        """``12 Monate``, ``1 month``, ``365 Tage``."""
        n = plan.period_length
        if plan.period_unit is PeriodUnit.DAY:
            return shop_text(self.lang, "runtime.days").format(n=n)
        key = "runtime.month" if n == 1 else "runtime.months"
        return shop_text(self.lang, key).format(n=n)
