"""The product catalogue: versioned, effective-dated, shipped as TOML beside this module.

A catalogue version is one TOML file (``v<version>.toml``); the version in force on a day is
the one with the latest ``effective_from`` on or before that day. A contract records the version
it was booked under and keeps that version's prices (an operator adds a new file for new prices;
existing contracts are not repriced). Pure: reading files is the only I/O, done once by
:func:`load_catalogues`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path

from cloud_gateway.billing.errors import CatalogueError, UnknownProductError
from cloud_gateway.billing.money import cents
from tunnel.errors import ConfigError
from tunnel.tomlconfig import load_config

__all__ = [
    "CATALOGUE_DIR",
    "BookingType",
    "Catalogue",
    "CatalogueSet",
    "Charging",
    "Family",
    "Fee",
    "PaymentMedium",
    "PeriodUnit",
    "Plan",
    "PowerTier",
    "Product",
    "Reservation",
    "ResourceSetting",
    "ResourceSpec",
    "Text",
    "load_catalogues",
]

CATALOGUE_DIR = Path(__file__).parent


class Family(StrEnum):
    """The three kinds of product the seeds describe."""

    HUB_PACKAGE = "hub_package"
    PLANT_LICENCE = "plant_licence"
    SERVICE_CONTRACT = "service_contract"


class BookingType(StrEnum):
    """Single booking (one runtime, then it ends) or subscription (renews each runtime)."""

    SINGLE = "single"
    SUBSCRIPTION = "subscription"


class Charging(StrEnum):
    """When a fee is charged: before its period (prepaid) or after it (in arrears)."""

    PREPAID = "prepaid"
    IN_ARREARS = "in_arrears"


class PaymentMedium(StrEnum):
    """How a customer may pay."""

    BANK_TRANSFER = "bank_transfer"
    CARD = "card"
    PAYPAL = "paypal"


class PeriodUnit(StrEnum):
    """Unit of a plan's period; UN/ECE rec. 20 code via :attr:`unit_code`."""

    MONTH = "month"
    DAY = "day"

    @property
    def unit_code(self) -> str:
        return "MON" if self is PeriodUnit.MONTH else "DAY"


def _money(value: str, what: str) -> int:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{what}: not a decimal amount: {value!r}") from None
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{what}: must be >= 0 with at most two decimals: {value!r}")
    return cents(amount)


@dataclass(frozen=True, slots=True, kw_only=True)
class Text:
    """A user-facing text, German first, English switchable."""

    de: str
    """German text (the default)."""
    en: str
    """English text."""

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.de


@dataclass(frozen=True, slots=True, kw_only=True)
class Reservation:
    """A delivery reservation the back office confirms before delivery (R-BIL-4)."""

    code: str
    """Stable key, e.g. ``order_form``."""
    name: Text
    """What is checked, e.g. "Eingang Bestellformular"."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceSetting:
    """One setting of the resource as the service provider documents it (R-BIL-1)."""

    code: str
    """Stable key, e.g. ``latitude``."""
    name: Text
    """What it is, e.g. "Breitengrad des Standorts"."""
    value: str = ""
    """The fixed value; empty for a variable setting the order supplies."""
    prechecked: bool = False
    """Whether the provider pre-checks the value before an order is accepted (R-BIL-2)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceSpec:
    """The resource behind a resource-bound product and the provider that delivers it."""

    provider: str
    """Provider key, e.g. ``satellite``."""
    service_number_prefix: str
    """Service numbers assigned at acceptance start with it, e.g. ``SAT``."""
    settings: tuple[ResourceSetting, ...] = ()
    """Fixed and variable settings."""

    @property
    def prechecked(self) -> tuple[str, ...]:
        """Codes of the variable settings the provider checks before accepting an order."""
        return tuple(s.code for s in self.settings if s.prechecked)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fee:
    """A one-time fee (e.g. the setup fee)."""

    code: str
    """Stable key, e.g. ``setup``."""
    name: Text
    """Line text on documents."""
    amount: str
    """Net amount in the catalogue's currency, e.g. ``"800.00"``."""
    charging: Charging = Charging.PREPAID
    """Prepaid (before the service) or in arrears."""

    _net: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_net", _money(self.amount, "amount"))

    @property
    def net(self) -> int:
        """The net amount in cents."""
        return self._net


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerTier:
    """A price for plants up to ``up_to_w`` total nominal power (0: no upper bound)."""

    up_to_w: int
    """Upper bound in watts, inclusive; 0 for the open last tier."""
    amount: str
    """Net price per period."""

    _net: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_net", _money(self.amount, "amount"))

    @property
    def net(self) -> int:
        """The net price in cents."""
        return self._net


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """A recurring fee: a runtime option of a product (``1 month``, ``365 days``, ...)."""

    code: str
    """Stable key, e.g. ``12m`` or ``365d``."""
    name: Text
    """Line text on documents."""
    period_unit: PeriodUnit
    """Months or days."""
    period_length: int
    """Periods are this many units long."""
    amount: str = ""
    """Net price per period; empty when priced by ``tiers``."""
    tiers: tuple[PowerTier, ...] = ()
    """Prices by the plant's total nominal power, ascending, last one open (``up_to_w = 0``)."""
    charging: Charging = Charging.PREPAID
    """Prepaid or in arrears."""
    _net: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.period_length < 1:
            raise ValueError("period_length must be at least 1")
        if bool(self.amount) == bool(self.tiers):
            raise ValueError("give either amount or tiers")
        object.__setattr__(self, "_net", _money(self.amount, "amount") if self.amount else 0)
        bounds = [t.up_to_w for t in self.tiers]
        if self.tiers and (bounds[-1] != 0 or bounds[:-1] != sorted(set(bounds[:-1]))):
            raise ValueError("tiers: ascending up_to_w, the last one open (0)")

    def price(self, power_w: int | None = None) -> int:
        """The net price of one period in cents (``power_w`` for tiered plans)."""
        if not self.tiers:
            return self._net
        if power_w is None:
            raise UnknownProductError(f"plan {self.code} is priced by plant power")
        for tier in self.tiers:
            if tier.up_to_w == 0 or power_w <= tier.up_to_w:
                return tier.net
        raise AssertionError("unreachable: the last tier is open")


@dataclass(frozen=True, slots=True, kw_only=True)
class Product:
    """A product as the shop sells it."""

    code: str
    """Stable key used by orders and contracts."""
    family: Family
    """Hub package, plant licence or service contract."""
    name: Text
    """Product name."""
    text: Text
    """Description."""
    tax_rate: str = "19"
    """German VAT rate in percent."""
    available_quantity: int = 0
    """How many can be sold at once; 0: unlimited."""
    min_periods: int = 1
    """Minimum term in periods (paid up front for prepaid plans)."""
    max_periods: int = 0
    """Maximum term in periods; 0: open-ended."""
    booking_types: tuple[BookingType, ...] = (BookingType.SUBSCRIPTION,)
    """Allowed booking types."""
    payment_media: tuple[PaymentMedium, ...] = (PaymentMedium.BANK_TRANSFER,)
    """Allowed payment media."""
    reservations: tuple[Reservation, ...] = ()
    """Delivery reservations to confirm before delivery."""
    one_time_fees: tuple[Fee, ...] = ()
    """Fees charged once with the first invoice."""
    plans: tuple[Plan, ...]
    """Runtime options (at least one)."""
    contract_languages: tuple[str, ...] = ("de", "en")
    """Languages the contract and its documents can be in."""
    shop_released: bool = False
    """Whether the shop offers it."""
    resource: ResourceSpec | None = None
    """The provider's resource (resource-bound products such as service contracts)."""

    def __post_init__(self) -> None:
        if not self.plans:
            raise ValueError(f"product {self.code}: at least one plan")
        if self.min_periods < 1 or (self.max_periods and self.max_periods < self.min_periods):
            raise ValueError(f"product {self.code}: need 1 <= min_periods <= max_periods")
        Decimal(self.tax_rate)

    @property
    def vat_rate(self) -> Decimal:
        return Decimal(self.tax_rate)

    def plan(self, code: str) -> Plan:
        for plan in self.plans:
            if plan.code == code:
                return plan
        raise UnknownProductError(f"product {self.code} has no plan {code!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Catalogue:
    """One catalogue version."""

    version: str
    """Version key stored with every contract, e.g. ``2026-01``."""
    effective_from: str
    """First day (ISO date, Europe/Berlin) this version is offered."""
    currency: str = "EUR"
    """ISO 4217 currency of every price."""
    products: tuple[Product, ...]
    """The products."""
    _index: Mapping[str, Product] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        date.fromisoformat(self.effective_from)
        codes = [p.code for p in self.products]
        if len(set(codes)) != len(codes):
            raise ValueError("product codes must be unique")
        object.__setattr__(self, "_index", {p.code: p for p in self.products})

    @property
    def effective_date(self) -> date:
        return date.fromisoformat(self.effective_from)

    def product(self, code: str) -> Product:
        try:
            return self._index[code]
        except KeyError:
            raise UnknownProductError(f"catalogue {self.version}: no product {code!r}") from None


@dataclass(frozen=True, slots=True)
class CatalogueSet:
    """All catalogue versions, ordered by their effective date."""

    versions: tuple[Catalogue, ...]

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.versions, key=lambda c: c.effective_date))
        object.__setattr__(self, "versions", ordered)
        keys = [c.version for c in ordered]
        if len(set(keys)) != len(keys):
            raise CatalogueError(f"duplicate catalogue versions: {keys}")

    def effective(self, day: date) -> Catalogue:
        """The version in force on ``day``."""
        current = [c for c in self.versions if c.effective_date <= day]
        if not current:
            raise UnknownProductError(f"no catalogue is in force on {day.isoformat()}")
        return current[-1]

    def version(self, key: str) -> Catalogue:
        for catalogue in self.versions:
            if catalogue.version == key:
                return catalogue
        raise UnknownProductError(f"no catalogue version {key!r}")


def load_catalogue(path: Path) -> Catalogue:
    """Read one catalogue file; errors name the file and the key."""
    try:
        return load_config(path, Catalogue)
    except ConfigError as exc:
        raise CatalogueError(str(exc)) from exc


def load_catalogues(paths: Iterable[Path] | None = None) -> CatalogueSet:
    """Read the given files, by default every ``*.toml`` shipped beside this module."""
    files = sorted(CATALOGUE_DIR.glob("*.toml")) if paths is None else list(paths)
    return CatalogueSet(tuple(load_catalogue(p) for p in files))
