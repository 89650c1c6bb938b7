"""User-facing texts of the service contracts: German first, English available."""

from __future__ import annotations

from cloud_gateway.i18n import Language, translate

__all__ = ["CONTRACT_TEXTS", "contract_text"]

_DE, _EN = Language.DE, Language.EN

CONTRACT_TEXTS: dict[str, dict[Language, str]] = {
    # errors of ordering (R-BIL-2): clear, in the user's language
    "error.outside_coverage": {
        _DE: "Der Anbieter kann diesen Standort nicht versorgen (außerhalb des "
        "Abdeckungsgebiets). Bitte prüfen Sie die Koordinaten der Anlage.",
        _EN: "The provider cannot serve this site (outside its coverage). Please check the "
        "plant's coordinates.",
    },
    "error.invalid_coordinates": {
        _DE: "Die Koordinaten des Standorts sind ungültig (Breite -90…90, Länge -180…180).",
        _EN: "The site coordinates are invalid (latitude -90…90, longitude -180…180).",
    },
    "error.refused": {
        _DE: "Der Anbieter hat die Vorabprüfung abgelehnt ({reason}).",
        _EN: "The provider refused the pre-check ({reason}).",
    },
    "error.timeout": {
        _DE: "Der Anbieter hat nicht rechtzeitig geantwortet. Es wurde nichts bestellt; "
        "bitte versuchen Sie es in einigen Minuten erneut.",
        _EN: "The provider did not answer in time. Nothing was ordered; please try again in "
        "a few minutes.",
    },
    "error.unavailable": {
        _DE: "Der Anbieter ist gerade nicht erreichbar. Es wurde nichts bestellt; bitte "
        "versuchen Sie es später erneut.",
        _EN: "The provider cannot be reached right now. Nothing was ordered; please try "
        "again later.",
    },
    "error.no_site": {
        _DE: "Für die Vorabprüfung werden die Koordinaten des Standorts benötigt (Anlage mit "
        "Breiten- und Längengrad oder beide Werte angeben).",
        _EN: "The pre-check needs the site's coordinates (a plant with latitude and "
        "longitude, or both values).",
    },
    "error.customer_data": {
        _DE: "Bitte hinterlegen Sie zuerst Ihre Kundendaten (Name und Anschrift) im Portal.",
        _EN: "Please enter your customer data (name and address) in the portal first.",
    },
    "error.wished_start_past": {
        _DE: "Der gewünschte Beginn liegt in der Vergangenheit.",
        _EN: "The wished start lies in the past.",
    },
    "error.sold_out": {
        _DE: "Dieses Produkt ist derzeit ausverkauft.",
        _EN: "This product is sold out at the moment.",
    },
    "error.not_a_service": {
        _DE: "Dieses Produkt ist kein Servicevertrag.",
        _EN: "This product is not a service contract.",
    },
    # the order form (PDF)
    "form.title": {_DE: "Bestellformular", _EN: "Order form"},
    "form.service_number": {_DE: "Servicenummer", _EN: "Service number"},
    "form.order": {_DE: "Bestellung", _EN: "Order"},
    "form.customer": {_DE: "Kunde", _EN: "Customer"},
    "form.product": {_DE: "Produkt", _EN: "Product"},
    "form.site": {_DE: "Standort (geprüft)", _EN: "Site (checked)"},
    "form.net": {_DE: "{amount} zzgl. MwSt.", _EN: "{amount} plus VAT"},
    "form.term": {_DE: "Laufzeit", _EN: "Term"},
    "form.term_value": {
        _DE: "mindestens {low}, höchstens {high} Monate",
        _EN: "at least {low}, at most {high} months",
    },
    "form.payment": {_DE: "Zahlung", _EN: "Payment"},
    "form.payment_value": {
        _DE: "Vorkasse per Überweisung",
        _EN: "Prepayment by bank transfer",
    },
    "form.start": {_DE: "Gewünschter Beginn", _EN: "Wished start"},
    "form.start_asap": {_DE: "sobald wie möglich", _EN: "as soon as possible"},
    "form.instructions": {
        _DE: "Bitte unterschreiben Sie das Bestellformular und senden Sie es uns zurück.\n"
        "Der Service wird aktiviert, sobald das Formular eingegangen und die "
        "Proformarechnung bezahlt ist.",
        _EN: "Please sign the order form and send it back to us.\n"
        "The service is activated once the form is received and the pro-forma invoice "
        "is paid.",
    },
    "form.place_date": {_DE: "Ort, Datum", _EN: "Place, date"},
    "form.signature": {_DE: "Unterschrift", _EN: "Signature"},
    # the contract page
    "page.title": {_DE: "Servicevertrag", _EN: "Service contract"},
    "page.service_number": {_DE: "Servicenummer", _EN: "Service number"},
    "page.state": {_DE: "Status", _EN: "State"},
    "page.site": {_DE: "Standort", _EN: "Site"},
    "page.start": {_DE: "Beginn", _EN: "Start"},
    "page.wished_start": {_DE: "Gewünschter Beginn", _EN: "Wished start"},
    "page.ended_on": {_DE: "Ende", _EN: "End"},
    "page.reservations": {_DE: "Offene Liefervorbehalte", _EN: "Open delivery reservations"},
    "page.none": {_DE: "keine", _EN: "none"},
    "page.months": {_DE: "Monate", _EN: "Months"},
    "page.month": {_DE: "Monat", _EN: "Month"},
    "page.from": {_DE: "von", _EN: "from"},
    "page.to": {_DE: "bis", _EN: "to"},
    "page.month_state": {_DE: "Stand", _EN: "State"},
    "page.documents": {_DE: "Belege", _EN: "Documents"},
    "page.number": {_DE: "Nummer", _EN: "Number"},
    "page.date": {_DE: "Datum", _EN: "Date"},
    "page.kind": {_DE: "Art", _EN: "Type"},
    "page.gross": {_DE: "Brutto", _EN: "Gross"},
    "page.due": {_DE: "Zu zahlen", _EN: "To pay"},
    "page.journal": {_DE: "Zahlungskonto", _EN: "Payment account"},
    "page.balance": {_DE: "Saldo", _EN: "Balance"},
    "page.amount": {_DE: "Betrag", _EN: "Amount"},
    "page.reference": {_DE: "Referenz", _EN: "Reference"},
    "kind.proforma": {_DE: "Proformarechnung", _EN: "Pro-forma invoice"},
    "kind.invoice": {_DE: "Rechnung", _EN: "Invoice"},
    "kind.credit_note": {_DE: "Gutschrift", _EN: "Credit note"},
    "entry.payment": {_DE: "Zahlung", _EN: "Payment"},
    "entry.charge": {_DE: "Belastung", _EN: "Charge"},
    "entry.credit": {_DE: "Gutschrift", _EN: "Credit"},
    "entry.refund": {_DE: "Rückzahlung", _EN: "Refund"},
    "entry.overdraft_limit": {_DE: "Überziehungsrahmen", _EN: "Overdraft limit"},
    "state.pending": {_DE: "bestellt, noch nicht aktiv", _EN: "ordered, not yet active"},
    "state.active": {_DE: "aktiv", _EN: "active"},
    "state.ended": {_DE: "beendet", _EN: "ended"},
    "state.cancelled": {_DE: "storniert", _EN: "cancelled"},
    "month.served": {_DE: "genutzt", _EN: "used"},
    "month.running": {_DE: "läuft", _EN: "running"},
    "month.paid": {_DE: "bezahlt", _EN: "paid"},
    "month.offered": {_DE: "angeboten (Proformarechnung)", _EN: "offered (pro-forma)"},
    "month.open": {_DE: "möglich", _EN: "possible"},
    "preview.title": {_DE: "Vorschau Servicevertrag", _EN: "Service contract preview"},
    "preview.start": {_DE: "Aktivierung am", _EN: "Activation on"},
    "preview.paid_months": {
        _DE: "Bezahlte Monate (leer: alle)",
        _EN: "Months paid (empty: all)",
    },
    "preview.terminate": {_DE: "Vorzeitige Beendigung am", _EN: "Early termination on"},
    "preview.period_end": {_DE: "zum Ende des Monats", _EN: "at the end of the month"},
    "preview.at_once": {_DE: "sofort (tagesgenau)", _EN: "at once (day-precise)"},
    "preview.overdraft": {
        _DE: "Verlängerung per Überziehung des Zahlungskontos",
        _EN: "Extension by overdraft of the payment account",
    },
    "preview.compute": {_DE: "Berechnen", _EN: "Compute"},
    "preview.invalid": {
        _DE: "Mit diesen Angaben lässt sich keine Vorschau berechnen (z. B. weniger als drei "
        "bezahlte Monate ohne Überziehung, oder Beendigung vor dem Beginn).",
        _EN: "No preview can be computed from these values (e.g. fewer than three paid "
        "months without overdraft, or a termination before the start).",
    },
    "preview.service": {_DE: "Service", _EN: "Service"},
    "reservation.order_form": {_DE: "Eingang Bestellformular", _EN: "Order form received"},
}


def contract_text(lang: Language, key: str) -> str:
    """The contracts' text ``key`` in ``lang``; other keys come from the gateway's texts."""
    entry = CONTRACT_TEXTS.get(key)
    if entry is None:
        return translate(lang, key)
    return entry.get(lang) or entry[Language.DE]
