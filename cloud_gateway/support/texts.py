"""User-facing texts of the portal's overview, products, invoices, tickets and repair orders."""

from __future__ import annotations

from cloud_gateway.i18n import TEXTS, Language

__all__ = ["SUPPORT_TEXTS", "register"]

_DE, _EN = Language.DE, Language.EN


def _t(de: str, en: str) -> dict[Language, str]:
    return {_DE: de, _EN: en}


SUPPORT_TEXTS: dict[str, dict[Language, str]] = {
    # overview
    "sp.invoices_current": _t("Aktuelle Rechnungen", "Current invoices"),
    "sp.open": _t("offen", "open"),
    "sp.paid": _t("bezahlt", "paid"),
    "sp.tickets_open": _t("Offene Anfragen", "Open requests"),
    "sp.no_tickets": _t("Keine offenen Anfragen.", "No open requests."),
    "sp.notices": _t("Hinweise", "Notices"),
    "sp.notice.ends": _t(
        "Das Paket von „{device}“ endet am {day}.", "The package of “{device}” ends on {day}."
    ),
    "sp.notice.plant_ends": _t(
        "Die Überwachung von „{plant}“ endet am {day}.",
        "Monitoring of “{plant}” ends on {day}.",
    ),
    "sp.notice.none": _t("Keine Hinweise.", "No notices."),
    "sp.remote_open": _t("Fernzugriff öffnen", "Open remote access"),
    "sp.plants": _t("Anlagen", "Plants"),
    "sp.no_plants": _t("Noch keine Anlagen angelegt.", "No plants yet."),
    "sp.plant_state.trial": _t("Testphase bis {day}", "Trial until {day}"),
    "sp.plant_state.licence": _t("Lizenz bis {day}", "Licence until {day}"),
    "sp.plant_state.none": _t("keine Lizenz", "no licence"),
    "sp.licence_buy": _t("Lizenz kaufen/erneuern", "Buy/renew licence"),
    "sp.all_invoices": _t("Alle Rechnungen", "All invoices"),
    "sp.all_tickets": _t("Alle Anfragen", "All requests"),
    "sp.nav.products": _t("Meine Produkte", "My products"),
    "sp.nav.invoices": _t("Rechnungen", "Invoices"),
    "sp.nav.tickets": _t("Kontakt", "Contact"),
    "sp.nav.repairs": _t("Reparaturaufträge", "Repair orders"),
    # products
    "sp.products.title": _t("Meine Produkte", "My products"),
    "sp.products.none": _t("Sie haben noch keine Produkte gebucht.", "No products booked yet."),
    "sp.product.state": _t("Status", "State"),
    "sp.product.since": _t("seit {day}", "since {day}"),
    "sp.product.ended": _t("beendet zum {day}", "ended on {day}"),
    "sp.product.documents": _t("Vertragsunterlagen", "Contract documents"),
    "sp.product.cancel": _t("Kündigen", "Cancel"),
    "sp.product.cancel_confirm": _t(
        "Wirklich kündigen? Das Abonnement endet zum Ende der bezahlten Laufzeit.",
        "Really cancel? The subscription ends at the end of the paid period.",
    ),
    "sp.product.cancelled": _t(
        "Gekündigt: „{product}“ endet zum Ende der bezahlten Laufzeit.",
        "Cancelled: “{product}” ends at the end of the paid period.",
    ),
    "sp.product.single": _t(
        "Einzelbuchung: endet von selbst, keine Kündigung nötig.",
        "Single booking: ends by itself, no cancellation needed.",
    ),
    "sp.product.paypal": _t(
        "Dieses Abonnement läuft über PayPal: Bitte kündigen Sie es in Ihrem PayPal-Konto.",
        "This subscription runs through PayPal: please cancel it in your PayPal account.",
    ),
    "sp.product.cancel_refused": _t(
        "Dieses Produkt kann jetzt nicht gekündigt werden (z. B. innerhalb der Mindestlaufzeit).",
        "This product cannot be cancelled now (e.g. within its minimum term).",
    ),
    "sp.contract.pending": _t("wartet auf Zahlung", "awaiting payment"),
    "sp.contract.active": _t("aktiv", "active"),
    "sp.contract.terminated": _t("gekündigt", "cancelled"),
    "sp.contract.ended": _t("beendet", "ended"),
    "sp.contract.cancelled": _t("storniert", "cancelled"),
    # invoices
    "sp.invoices.title": _t("Rechnungen und Zahlungen", "Invoices and payments"),
    "sp.invoices.none": _t("Noch keine Belege.", "No documents yet."),
    "sp.doc.number": _t("Nummer", "Number"),
    "sp.doc.date": _t("Datum", "Date"),
    "sp.doc.kind": _t("Art", "Kind"),
    "sp.doc.amount": _t("Betrag", "Amount"),
    "sp.doc.pay": _t("bezahlen", "pay"),
    "sp.doc.invoice": _t("Rechnung", "Invoice"),
    "sp.doc.proforma": _t("Proforma-Rechnung", "Pro-forma invoice"),
    "sp.doc.credit_note": _t("Gutschrift", "Credit note"),
    "sp.balance": _t("Guthaben Zahlungskonto", "Payment account balance"),
    "sp.journal": _t("Kontobewegungen", "Account entries"),
    "sp.journal.none": _t("Noch keine Buchungen.", "No entries yet."),
    # tickets
    "sp.tickets.title": _t("Kontakt und Anfragen", "Contact and requests"),
    "sp.tickets.new": _t("Neue Anfrage", "New request"),
    "sp.tickets.none": _t("Sie haben noch keine Anfragen.", "You have no requests yet."),
    "sp.ticket.subject": _t("Betreff", "Subject"),
    "sp.ticket.body": _t("Ihre Nachricht", "Your message"),
    "sp.ticket.files": _t(
        "Anhänge (PDF, PNG, JPEG oder Text; höchstens 3 Dateien zu je 2 MB)",
        "Attachments (PDF, PNG, JPEG or text; at most 3 files of 2 MB each)",
    ),
    "sp.ticket.send": _t("Anfrage senden", "Send request"),
    "sp.ticket.reply": _t("Antworten", "Reply"),
    "sp.ticket.close": _t("Anfrage schließen", "Close request"),
    "sp.ticket.you": _t("Sie", "You"),
    "sp.ticket.support": _t("Kundenservice", "Support"),
    "sp.ticket.updated": _t("Zuletzt geändert", "Last change"),
    "sp.status.open": _t("offen", "open"),
    "sp.status.answered": _t("beantwortet", "answered"),
    "sp.status.closed": _t("geschlossen", "closed"),
    "sp.error.missing": _t(
        "Bitte füllen Sie alle Pflichtfelder aus.", "Please fill in every required field."
    ),
    "sp.error.too_large": _t(
        "Ein Anhang ist größer als 2 MB.", "An attachment is larger than 2 MB."
    ),
    "sp.error.bad_type": _t(
        "Ein Anhang ist keine PDF-, PNG-, JPEG- oder Textdatei.",
        "An attachment is not a PDF, PNG, JPEG or text file.",
    ),
    "sp.error.too_many": _t("Höchstens 3 Anhänge.", "At most 3 attachments."),
    "sp.error.state": _t(
        "Dieser Schritt ist im aktuellen Stand nicht möglich.",
        "This step is not possible in the current state.",
    ),
    # repairs
    "sp.repairs.title": _t("Reparaturaufträge", "Repair orders"),
    "sp.repair.title": _t("Reparaturauftrag", "Repair order"),
    "sp.repairs.lead": _t(
        "Je genauer Ihre Angaben, desto schneller erhalten Sie ein Angebot.",
        "The more precise your details, the sooner you get a quote.",
    ),
    "sp.repairs.none": _t("Noch keine Reparaturaufträge.", "No repair orders yet."),
    "sp.repairs.new": _t("Reparaturanfrage", "Repair request"),
    "sp.repair.contact": _t("Kontaktdaten", "Contact data"),
    "sp.repair.device": _t("Gerät", "Device"),
    "sp.repair.contact_name": _t("Ihr Name", "Your name"),
    "sp.repair.contact_email": _t("E-Mail-Adresse", "E-mail address"),
    "sp.repair.contact_phone": _t("Telefon", "Phone"),
    "sp.repair.category": _t("Gerätekategorie", "Device category"),
    "sp.repair.device_model": _t("Gerätetyp", "Device model"),
    "sp.repair.device_serial": _t("Seriennummer", "Serial number"),
    "sp.repair.inverter_id": _t(
        "Wechselrichter aus Ihrer Anlagenliste", "Inverter from your plants"
    ),
    "sp.repair.inverter_none": _t("(nicht in der Anlagenliste)", "(not in my plant list)"),
    "sp.repair.monitoring": _t(
        "Fernüberwachung (Portal, Datenlogger, letzte Meldung)",
        "Remote monitoring (portal, data logger, last message)",
    ),
    "sp.repair.fault": _t("Genaues Störungsbild", "Exact fault description"),
    "sp.repair.settings": _t("Sondereinstellungen", "Special settings"),
    "sp.repair.send": _t("Anfrage senden", "Send request"),
    "sp.repair.state": _t("Stand", "State"),
    "sp.repair.quote": _t("Angebot", "Quote"),
    "sp.repair.quote_pdf": _t("Angebot als PDF", "Quote as PDF"),
    "sp.repair.accept": _t("Angebot annehmen", "Accept quote"),
    "sp.repair.accept_confirm": _t(
        "Angebot verbindlich annehmen? Sie erhalten eine Proforma-Rechnung zur Überweisung.",
        "Accept the quote bindingly? You receive a pro-forma invoice to pay by transfer.",
    ),
    "sp.repair.proforma": _t("Proforma-Rechnung (PDF)", "Pro-forma invoice (PDF)"),
    "sp.repair.filed": _t(
        "Vielen Dank, Ihr Reparaturauftrag ist eingegangen. Wir prüfen ihn und senden Ihnen "
        "ein Angebot.",
        "Thank you, your repair order has arrived. We review it and send you a quote.",
    ),
    "sp.repair.accepted": _t(
        "Angebot angenommen. Bitte überweisen Sie den Betrag der Proforma-Rechnung.",
        "Quote accepted. Please transfer the amount of the pro-forma invoice.",
    ),
    "sp.transfer.amount": _t("Betrag", "Amount"),
    "sp.transfer.holder": _t("Empfänger", "Payee"),
    "sp.transfer.reference": _t("Verwendungszweck", "Payment reference"),
    "sp.transfer.due": _t("Zahlbar bis", "Payable by"),
    "sp.cat.ae_new": _t(
        "AE Geräte (Neugeräte geliefert ab 01.01.2015)",
        "AE devices (new devices delivered from 1 Jan 2015)",
    ),
    "sp.cat.ae_refu_old": _t(
        "AE / REFU Geräte (Neugeräte geliefert bis 31.12.2014)",
        "AE / REFU devices (new devices delivered until 31 Dec 2014)",
    ),
    "sp.cat.siemens": _t(
        "Siemens Wechselrichter DE und Sinvert Controllbox",
        "Siemens inverters DE and Sinvert control box",
    ),
    "sp.cat.out_of_warranty": _t(
        "AE / REFU / Siemens Gerätereparatur außerhalb der Gewährleistung",
        "AE / REFU / Siemens repair outside the warranty",
    ),
    "sp.rstate.submitted": _t("eingereicht", "submitted"),
    "sp.rstate.in_review": _t("in Prüfung", "in review"),
    "sp.rstate.quoted": _t("Angebot liegt vor", "quoted"),
    "sp.rstate.accepted": _t("angenommen, Zahlung offen", "accepted, payment open"),
    "sp.rstate.paid": _t("bezahlt", "paid"),
    "sp.rstate.done": _t("erledigt", "done"),
}


def register() -> None:
    """Merge the texts into the shared table (refuses to override other areas)."""
    clash = {k for k in SUPPORT_TEXTS if k in TEXTS and TEXTS[k] != SUPPORT_TEXTS[k]}
    if clash:
        raise RuntimeError(f"text ids used by another area: {sorted(clash)}")
    TEXTS.update(SUPPORT_TEXTS)
