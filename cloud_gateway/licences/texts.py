"""User-facing texts of the licence pages: German first, English available; money and dates
formatted with Babel in the page's language (amounts in EUR, days in Europe/Berlin)."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from cloud_gateway.billing.money import from_cents
from cloud_gateway.i18n import TEXTS, Language, translate

__all__ = ["LICENCE_TEXTS", "day", "licence_text", "money", "power", "register"]

_DE, _EN = Language.DE, Language.EN
_LOCALES = {_DE: "de_DE", _EN: "en_GB"}


def _t(de: str, en: str) -> dict[Language, str]:
    return {_DE: de, _EN: en}


LICENCE_TEXTS: dict[str, dict[Language, str]] = {
    "lic.title": _t("Lizenz", "Licence"),
    "lic.buy": _t("Lizenz kaufen", "Buy licence"),
    "lic.until": _t("Nutzung bis", "Access until"),
    "lic.buy_many": _t("Mehrere Lizenzen kaufen", "Buy several licences"),
    "lic.renew": _t("Lizenz erneuern", "Renew licence"),
    "lic.status": _t("Nutzungsberechtigung", "Entitlement"),
    "lic.active_until": _t(
        "Ihre Nutzungsberechtigung endet am {day} (noch {days} Tage).",
        "Your entitlement ends on {day} ({days} days left).",
    ),
    "lic.ends_soon": _t(
        "Ihre Lizenzperiode endet bald. Ohne neue Lizenz endet die Überwachung dieser Anlage "
        "automatisch; eine Kündigung ist nicht nötig.",
        "Your licence period ends soon. Without a new licence, monitoring of this plant ends "
        "automatically; no cancellation is needed.",
    ),
    "lic.none": _t(
        "Diese Anlage hat keine gültige Lizenz: ihre Daten werden nicht angezeigt.",
        "This plant has no valid licence: its data is not shown.",
    ),
    "lic.power": _t("Anlagenleistung (Nennleistung)", "Plant power (nominal)"),
    "lic.unknown_note": _t(
        "{count} Wechselrichter unbekannten Typs werden mit je 20.000 W gerechnet. Fordern Sie "
        "die Konfiguration neu an, dann wird die Nennleistung korrekt berechnet.",
        "{count} inverter(s) of unknown type count with 20,000 W each. Request the "
        "configuration again and the nominal power will be computed correctly.",
    ),
    "lic.resend": _t("Konfiguration neu anfordern", "Request configuration again"),
    "lic.resend_sent": _t(
        "Die Anfrage wurde an Ihren Datenlogger gesendet. Die Nennleistung wird aktualisiert, "
        "sobald die Wechselrichter ihre Konfiguration gesendet haben.",
        "The request was sent to your data logger. The nominal power is updated as soon as the "
        "inverters have sent their configuration.",
    ),
    "lic.agent_offline": _t(
        "Ihr Datenlogger ist gerade nicht mit dem Portal verbunden. Prüfen Sie Strom und "
        "Internetverbindung des Geräts und versuchen Sie es erneut.",
        "Your data logger is not connected to the portal right now. Check the device's power "
        "and internet connection and try again.",
    ),
    "lic.term": _t("Nutzungsdauer", "Term"),
    "lic.days": _t("{days}\u00a0Tage", "{days}\u00a0days"),
    "lic.language": _t("Vertragssprache", "Contract language"),
    "lic.language.de": _t("Deutsch", "German"),
    "lic.language.en": _t("Englisch", "English"),
    "lic.plants": _t("Anlagen", "Plants"),
    "lic.plant": _t("Anlage", "Plant"),
    "lic.choose_plants": _t(
        "Wählen Sie die Anlagen, für die Sie eine Lizenz erwerben wollen.",
        "Choose the plants you want to buy a licence for.",
    ),
    "lic.price": _t("Preis berechnen", "Calculate price"),
    "lic.net": _t("Netto", "Net"),
    "lic.vat": _t("USt. {rate} %", "VAT {rate} %"),
    "lic.total": _t("Gesamtpreis", "Total price"),
    "lic.credit": _t("Angerechneter Restwert", "Remaining value credited"),
    "lic.due": _t("Zu zahlen", "To pay"),
    "lic.same_price": _t(
        "Der Gesamtpreis gilt unabhängig vom Zahlungsmittel.",
        "The total price is the same for every payment method.",
    ),
    "lic.accept": _t(
        "Ich habe die Vertragsbedingungen (Nutzungsbedingungen, AGB, Datenschutzerklärung) "
        "gelesen und bin mit ihnen einverstanden.",
        "I have read and accept the contract terms (terms of use, general terms and "
        "conditions, privacy policy).",
    ),
    "lic.order": _t("Jetzt kostenpflichtig bestellen", "Place binding order"),
    "lic.back": _t("Auswahl ändern", "Change selection"),
    "lic.pay_title": _t("Zahlungsart wählen", "Choose payment method"),
    "lic.ordered": _t(
        "Vielen Dank, Ihre Bestellung {order} ist eingegangen. Die Bestellbestätigung mit allen "
        "Vertragsdokumenten ist per E-Mail unterwegs. Die Lizenz wird freigeschaltet, sobald "
        "Ihre Zahlung eingegangen ist.",
        "Thank you, your order {order} has been received. The order confirmation with all "
        "contract documents is on its way by e-mail. The licence is activated as soon as your "
        "payment has arrived.",
    ),
    "lic.method.card": _t(
        "Kreditkarte, Debitkarte oder Online-Überweisung",
        "Credit card, debit card or online transfer",
    ),
    "lic.method.bank_transfer": _t("Überweisung", "Bank transfer"),
    "lic.method.paypal": _t("PayPal", "PayPal"),
    "lic.pay": _t("Jetzt bezahlen", "Pay now"),
    "lic.preview": _t("Gebühren vorab erfragen", "Ask for fees in advance"),
    "lic.preview_lead": _t(
        "Geben Sie die Nennleistung der Wechselrichter ein, die Sie hinzufügen wollen (leer "
        "lassen für einen Wechselrichter unbekannten Typs). Es wird nichts geändert.",
        "Enter the nominal power of the inverters you want to add (leave empty for an inverter "
        "of unknown type). Nothing is changed.",
    ),
    "lic.preview_added": _t(
        "Nennleistung der neuen Wechselrichter (W)", "Nominal power of the new inverters (W)"
    ),
    "lic.preview_show": _t("Gebühren anzeigen", "Show fees"),
    "lic.preview_fits": _t(
        "Die neue Anlagenleistung von {new} liegt innerhalb Ihrer Lizenz ({licensed}): es "
        "fallen keine Gebühren an.",
        "The new plant power of {new} is within your licence ({licensed}): no fees are due.",
    ),
    "lic.preview_exceeds": _t(
        "Mit {new} überschreiten Sie die lizenzierte Leistung ({licensed}). Ihre Lizenz endet "
        "dann; eine neue Lizenz ab diesem Tag kostet:",
        "With {new} you exceed the licensed power ({licensed}). Your licence then ends; a new "
        "licence from that day costs:",
    ),
    "lic.preview_new": _t(
        "Eine Lizenz für die neue Anlagenleistung von {new} kostet:",
        "A licence for the new plant power of {new} costs:",
    ),
    "lic.power_ended": _t(
        "Die Anlagenleistung ({new}) überschreitet die lizenzierte Leistung. Ihre Lizenz ist "
        "beendet; der Restwert wurde Ihrem Kundenkonto gutgeschrieben. Kaufen Sie eine neue "
        "Lizenz für die neue Leistung.",
        "The plant power ({new}) exceeds the licensed power. Your licence has ended; its "
        "remaining value was credited to your customer account. Buy a new licence for the new "
        "power.",
    ),
    "lic.err.term": _t("Bitte wählen Sie 365 oder 730 Tage.", "Please choose 365 or 730 days."),
    "lic.err.plants": _t(
        "Bitte wählen Sie mindestens eine Anlage.", "Please choose at least one plant."
    ),
    "lic.err.no_inverters": _t(
        "Eine gewählte Anlage hat noch keine Wechselrichter. Fügen Sie zuerst ihre "
        "Wechselrichter hinzu.",
        "A chosen plant has no inverters yet. Add its inverters first.",
    ),
    "lic.err.accept": _t(
        "Bitte bestätigen Sie die Vertragsbedingungen.", "Please accept the contract terms."
    ),
    "lic.err.method": _t(
        "Diese Zahlungsart ist derzeit nicht verfügbar. Bitte wählen Sie eine andere.",
        "This payment method is not available right now. Please choose another one.",
    ),
    "lic.err.watts": _t(
        "Bitte geben Sie die Nennleistung in ganzen Watt an (z. B. 5000).",
        "Please give the nominal power in whole watts (e.g. 5000).",
    ),
    "lic.refusal.no_customer_data": _t(
        "Bitte hinterlegen Sie zuerst Ihre Kundendaten (Name und Anschrift).",
        "Please enter your customer data (name and address) first.",
    ),
    "lic.refusal.vat_unresolved": _t(
        "Ihre USt-IdNr. wird noch geprüft. Sobald die Prüfung abgeschlossen ist, können Sie "
        "eine Lizenz kaufen.",
        "Your VAT ID is still being checked. You can buy a licence as soon as the check is "
        "complete.",
    ),
    "lic.refusal.vat_invalid": _t(
        "Ihre USt-IdNr. konnte nicht bestätigt werden. Bitte korrigieren Sie sie in Ihren "
        "Kundendaten.",
        "Your VAT ID could not be confirmed. Please correct it in your customer data.",
    ),
    "lic.refusal.consumer_abroad": _t(
        "AE SiteLink Monitoring wird Verbrauchern nur mit Wohnsitz in Deutschland angeboten.",
        "AE SiteLink Monitoring is offered to consumers resident in Germany only.",
    ),
    "lic.refusal.service_partner": _t(
        "Für Verbraucher in Griechenland und der Schweiz ist unser Servicepartner vor Ort "
        "zuständig. Bitte wenden Sie sich an ihn.",
        "For consumers in Greece and Switzerland our local service partner is responsible. "
        "Please contact them.",
    ),
    "lic.customer_link": _t("Kundendaten bearbeiten", "Edit customer data"),
}


def licence_text(lang: Language, key: str) -> str:
    """The licence text ``key`` in ``lang``; other keys come from the gateway's texts."""
    entry = LICENCE_TEXTS.get(key)
    if entry is None:
        return translate(lang, key)
    return entry.get(lang) or entry[_DE]


def money(lang: Language, amount: int) -> str:
    """Cents as EUR in the language's conventions (``1.808,00 €`` / ``€1,808.00``)."""
    return format_currency(from_cents(amount), "EUR", locale=_LOCALES[lang])


def power(lang: Language, watts: int) -> str:
    """A power in watts with grouping and a no-break space (``20.000 W`` / ``20,000 W``)."""
    return f"{format_decimal(watts, format='#,##0', locale=_LOCALES[lang])}\u00a0W"


def day(lang: Language, value: date, style: str = "long") -> str:
    """A local day as the language writes it: ``long`` (``5. Dezember 2026`` / ``5 December
    2026``) or ``medium`` (``05.12.2026`` / ``5 Dec 2026``)."""
    return format_date(value, format=style, locale=_LOCALES[lang])


def register() -> None:
    """Merge the texts into the shared table, so the plant pages can link here (idempotent;
    refuses to override other areas)."""
    clash = {k for k in LICENCE_TEXTS if k in TEXTS and TEXTS[k] != LICENCE_TEXTS[k]}
    if clash:
        raise RuntimeError(f"text ids used by another area: {sorted(clash)}")
    TEXTS.update(LICENCE_TEXTS)
