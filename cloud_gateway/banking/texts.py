"""User-facing texts of the bank-transfer area: German first, English available."""

from __future__ import annotations

from cloud_gateway.i18n import Language

__all__ = ["BANK_TEXTS", "bank_text"]

_DE, _EN = Language.DE, Language.EN

BANK_TEXTS: dict[str, dict[Language, str]] = {
    "statement.invalid": {
        _DE: "Die Datei „{file}“ ist kein gültiger Kontoauszug im Format camt.053 (.02 oder "
        ".08): {problem}. Es wurde nichts gebucht.",
        _EN: "The file “{file}” is not a valid camt.053 (.02 or .08) bank statement: "
        "{problem}. Nothing was booked.",
    },
    "statement.too_large": {
        _DE: "Die Datei ist größer als {limit} MB und wurde nicht gelesen.",
        _EN: "The file is larger than {limit} MB and was not read.",
    },
    "statement.missing": {
        _DE: "Bitte eine camt.053-Datei hochladen (Feld „file“) oder das XML als Inhalt senden.",
        _EN: "Please upload a camt.053 file (field “file”) or send the XML as the body.",
    },
    "queue.resolved": {
        _DE: "Diese Zahlung ist bereits zugeordnet, erstattet oder gebucht.",
        _EN: "This payment has already been assigned, refunded or booked.",
    },
    "queue.debit": {
        _DE: "Eine Belastung ohne Rückbuchung kann keinem Konto gutgeschrieben werden.",
        _EN: "A debit that is not a reversal cannot be credited to an account.",
    },
    "queue.target": {
        _DE: "Bitte eine Proforma-Rechnung (document_id) oder ein Konto (account_id) angeben.",
        _EN: "Please name a pro-forma invoice (document_id) or an account (account_id).",
    },
}


def bank_text(lang: Language, key: str, **values: object) -> str:
    """The text ``key`` in ``lang`` (German when missing), filled with ``values``."""
    entry = BANK_TEXTS[key]
    return (entry.get(lang) or entry[_DE]).format(**values)
