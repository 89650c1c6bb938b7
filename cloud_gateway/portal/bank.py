"""Bank data for refunds: IBAN (and BIC) checked with ``schwifty`` (pure).

An IBAN is accepted when its country's length and format and its ISO 13616 check digits are
right; spaces and lower case are tolerated and normalised away. The BIC is optional: when it
is left empty and ``schwifty`` knows the bank, it is filled in; when given, it must be a valid
BIC. Reasons are stable ids the page translates (``bank.err.<reason>``).
"""

from __future__ import annotations

from dataclasses import dataclass

from schwifty import BIC, IBAN
from schwifty.exceptions import (
    InvalidBankCode,
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    InvalidStructure,
    SchwiftyException,
)

from cloud_gateway.portal.errors import InvalidIbanError

__all__ = ["BankDetails", "check_bank_details"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BankDetails:
    """Validated bank data of a customer."""

    holder: str
    iban: str
    """Electronic form: upper case, no spaces."""
    bic: str
    """Empty when neither given nor known."""

    @property
    def iban_display(self) -> str:
        """The IBAN in groups of four, as printed."""
        return " ".join(self.iban[i : i + 4] for i in range(0, len(self.iban), 4))


_REASONS: tuple[tuple[type[SchwiftyException], str], ...] = (
    (InvalidChecksumDigits, "checksum"),
    (InvalidLength, "length"),
    (InvalidCountryCode, "country"),
    (InvalidStructure, "format"),
    (InvalidBankCode, "bank"),
)


def _reason(exc: SchwiftyException) -> str:
    return next((reason for kind, reason in _REASONS if isinstance(exc, kind)), "format")


def check_bank_details(holder: str, iban: str, bic: str = "") -> BankDetails:
    """Validated :class:`BankDetails`, or :class:`InvalidIbanError` with the reason."""
    holder = " ".join(holder.split())
    if not holder or len(holder) > 140:
        raise InvalidIbanError("holder")
    compact = "".join(iban.split()).upper()
    if not compact:
        raise InvalidIbanError("empty")
    try:
        parsed = IBAN(compact)
    except SchwiftyException as exc:
        raise InvalidIbanError(_reason(exc)) from exc
    bic_text = "".join(bic.split()).upper()
    if bic_text:
        try:
            bic_text = str(BIC(bic_text))
        except SchwiftyException as exc:
            raise InvalidIbanError("bic") from exc
    else:
        try:
            known = parsed.bic
        except SchwiftyException:
            known = None
        bic_text = str(known) if known is not None else ""
    return BankDetails(holder=holder, iban=str(parsed.compact), bic=bic_text)
