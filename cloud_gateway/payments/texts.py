"""User-facing texts of the payments area: German first, English available.

The shop's order page shows ``payment.<state>`` for the attempt the buyer came back from
(``?payment=paid|pending|declined|error``).
"""

from __future__ import annotations

from cloud_gateway.i18n import Language, translate

__all__ = ["PAYMENT_TEXTS", "payment_text"]

_DE, _EN = Language.DE, Language.EN

PAYMENT_TEXTS: dict[str, dict[Language, str]] = {
    "payment.paid": {
        _DE: "Vielen Dank, Ihre Zahlung ist eingegangen. Ihre Buchung ist aktiv.",
        _EN: "Thank you, your payment has arrived. Your booking is active.",
    },
    "payment.pending": {
        _DE: "Ihre Zahlung wird bestätigt. Sobald sie eingegangen ist, wird die Buchung aktiv.",
        _EN: "Your payment is being confirmed. The booking becomes active once it has arrived.",
    },
    "payment.declined": {
        _DE: "Die Zahlung wurde abgelehnt. Ihre Bestellung bleibt offen: Bitte wählen Sie eine "
        "andere Zahlungsart oder versuchen Sie es erneut.",
        _EN: "The payment was declined. Your order stays open: please choose another payment "
        "method or try again.",
    },
    "payment.error": {
        _DE: "Der Zahlungsdienst ist gerade nicht erreichbar. Ihre Bestellung bleibt offen; "
        "bitte versuchen Sie es in ein paar Minuten erneut.",
        _EN: "The payment service cannot be reached right now. Your order stays open; please "
        "try again in a few minutes.",
    },
    "payment.cancel_subscription": {
        _DE: "Ein PayPal-Abonnement kündigen Sie in PayPal unter „Automatische Zahlungen“. "
        "Die Buchung läuft dann bis zum Ende der bezahlten Laufzeit.",
        _EN: "Cancel a PayPal subscription in PayPal under “Automatic payments”. The booking "
        "then runs until the end of the paid period.",
    },
}


def payment_text(lang: Language, key: str) -> str:
    """The payments text ``key`` in ``lang``; other keys come from the gateway's texts."""
    entry = PAYMENT_TEXTS.get(key)
    if entry is None:
        return translate(lang, key)
    return entry.get(lang) or entry[Language.DE]
