"""UI texts of the operator console, German first; merged into :data:`cloud_gateway.i18n.TEXTS`."""

from __future__ import annotations

from cloud_gateway.i18n import TEXTS, Language

__all__ = ["CONSOLE_TEXTS", "register"]


def _t(de: str, en: str) -> dict[Language, str]:
    return {Language.DE: de, Language.EN: en}


CONSOLE_TEXTS: dict[str, dict[Language, str]] = {
    "console.title": _t("Betreiberkonsole", "Operator console"),
    "console.lead": _t("Angemeldet als", "Logged in as"),
    "console.role.operator": _t("Betrieb (Support)", "Operations (support)"),
    "console.role.accountant": _t("Buchhaltung", "Accounting"),
    "console.recovery_left": _t(
        "Nicht verbrauchte Wiederherstellungscodes:", "Unused recovery codes:"
    ),
    "console.nav.tunnels": _t("Tunnel", "Tunnels"),
    "console.nav.devices": _t("Geräte", "Devices"),
    "console.nav.accounts": _t("Konten", "Accounts"),
    "console.nav.audit": _t("Protokolle", "Audit logs"),
    "console.forbidden.title": _t("Kein Zugriff", "No access"),
    "console.forbidden.lead": _t(
        "Diese Seite ist Mitarbeitenden mit der passenden Rolle vorbehalten.",
        "This page is for staff with the matching role only.",
    ),
    "console.2fa.title": _t("Zweiter Faktor", "Second factor"),
    "console.2fa.enrol_lead": _t(
        "Richten Sie einmalig eine Authenticator-App ein: QR-Code scannen oder den Schlüssel "
        "eintippen, dann den angezeigten sechsstelligen Code eingeben.",
        "Set up an authenticator app once: scan the QR code or type the key, then enter the "
        "six-digit code it shows.",
    ),
    "console.2fa.lead": _t(
        "Bitte den sechsstelligen Code Ihrer Authenticator-App oder einen "
        "Wiederherstellungscode eingeben.",
        "Please enter the six-digit code of your authenticator app or a recovery code.",
    ),
    "console.2fa.qr_alt": _t("QR-Code für die Authenticator-App", "QR code for the app"),
    "console.2fa.secret": _t("Schlüssel:", "Key:"),
    "console.2fa.code": _t("Code", "Code"),
    "console.2fa.submit": _t("Bestätigen", "Confirm"),
    "console.2fa.wrong": _t(
        "Der Code stimmt nicht (oder wurde schon benutzt). Bitte erneut versuchen.",
        "The code is wrong (or was used already). Please try again.",
    ),
    "console.2fa.locked": _t(
        "Zu viele Fehlversuche. Bitte versuchen Sie es in 15 Minuten erneut.",
        "Too many failed attempts. Please try again in 15 minutes.",
    ),
    "console.recovery.title": _t("Wiederherstellungscodes", "Recovery codes"),
    "console.recovery.lead": _t(
        "Bewahren Sie diese Codes sicher auf. Jeder gilt einmal, falls Ihr Telefon fehlt. "
        "Sie werden nur jetzt angezeigt.",
        "Keep these codes safe. Each works once if your phone is missing. They are shown only now.",
    ),
    "console.recovery.continue": _t("Weiter zur Konsole", "On to the console"),
    "console.tunnels.title": _t("Verbundene Geräte", "Connected devices"),
    "console.tunnels.none": _t("Kein Gerät verbunden.", "No device connected."),
    "console.tunnels.here": _t("dieser Knoten", "this node"),
    "console.tunnels.elsewhere": _t(
        "Details beim haltenden Knoten; Trennen wirkt flottenweit.",
        "Details on the holding node; disconnect works fleet-wide.",
    ),
    "console.col.node": _t("Knoten", "Node"),
    "console.col.device": _t("Gerät", "Device"),
    "console.col.account": _t("Konto", "Account"),
    "console.col.since": _t("Seit", "Since"),
    "console.col.protocol": _t("Protokoll", "Protocol"),
    "console.col.software": _t("Software", "Software"),
    "console.col.peer": _t("Adresse", "Address"),
    "console.col.bytes": _t("Bytes ein/aus", "Bytes in/out"),
    "console.col.rtt": _t("RTT (s)", "RTT (s)"),
    "console.col.streams": _t("Streams offen/gesamt", "Streams open/total"),
    "console.col.state": _t("Zustand", "State"),
    "console.col.email": _t("E-Mail", "E-mail"),
    "console.col.role": _t("Rolle", "Role"),
    "console.col.created": _t("Angelegt", "Created"),
    "console.col.devices": _t("Geräte", "Devices"),
    "console.col.when": _t("Zeit", "Time"),
    "console.col.operator": _t("Mitarbeiter", "Staff"),
    "console.col.action": _t("Aktion", "Action"),
    "console.col.target": _t("Objekt", "Object"),
    "console.col.reason": _t("Grund", "Reason"),
    "console.col.requests": _t("Anfragen", "Requests"),
    "console.col.ended": _t("Ende", "Ended"),
    "console.refusals.title": _t(
        "Abweisungen nach Grund (dieser Knoten)", "Refusals by reason (this node)"
    ),
    "console.refusals.reason": _t("Grund", "Reason"),
    "console.refusals.since_start": _t("seit Start", "since start"),
    "console.refusals.day": _t("letzte 24 h", "last 24 h"),
    "console.refusals.hours": _t("je Stunde, älteste zuerst", "per hour, oldest first"),
    "console.refusals.none": _t("Keine Abweisungen.", "No refusals."),
    "console.search": _t("Suchen", "Search"),
    "console.search.devices": _t(
        "Gerät, Name, Konto oder E-Mail", "Device, name, account or e-mail"
    ),
    "console.search.accounts": _t("Benutzername oder E-Mail", "User name or e-mail"),
    "console.none_found": _t("Nichts gefunden.", "Nothing found."),
    "console.state.live": _t("verbunden", "connected"),
    "console.state.offline": _t("getrennt", "offline"),
    "console.state.disabled": _t("gesperrt", "disabled"),
    "console.device.owner": _t("Eigentümer", "Owner"),
    "console.device.support": _t("Support-Zugang", "Support access"),
    "console.device.support_until": _t("erlaubt bis", "allowed until"),
    "console.device.support_none": _t(
        "nicht erlaubt (Fernzugriff nur mit Freigabe des Eigentümers)",
        "not allowed (remote access only with the owner's grant)",
    ),
    "console.device.open": _t("Fernzugriff öffnen", "Open remote access"),
    "console.device.actions": _t("Aktionen", "Actions"),
    "console.reason": _t("Grund (wird protokolliert)", "Reason (logged)"),
    "console.reason_device": _t(
        "Grund (wird dem Gerät mitgeteilt und protokolliert)",
        "Reason (told to the device and logged)",
    ),
    "console.reason_required": _t("Bitte einen Grund angeben.", "Please state a reason."),
    "console.action.disconnect": _t("Trennen", "Disconnect"),
    "console.action.disable": _t("Sperren", "Disable"),
    "console.action.enable": _t("Entsperren", "Enable"),
    "console.action.revoke": _t("Zertifikat widerrufen", "Revoke certificate"),
    "console.done.disconnect": _t("Tunnel getrennt.", "Tunnel disconnected."),
    "console.done.disable": _t("Gerät gesperrt.", "Device disabled."),
    "console.done.enable": _t("Gerät entsperrt.", "Device enabled."),
    "console.done.revoke": _t("Zertifikate widerrufen.", "Certificates revoked."),
    "console.audit.remote": _t("Fernzugriffe", "Remote access sessions"),
    "console.audit.console": _t("Aktionen in der Konsole", "Console actions"),
    "console.audit.none": _t("Keine Einträge.", "No entries."),
    "console.nav.entitlements": _t("Freischaltungen", "Entitlements"),
    "console.nav.queues": _t("Warteschlangen", "Queues"),
    "console.nav.terms": _t("Rechtstexte", "Legal texts"),
    "console.terms.lead": _t(
        "Eine neue Fassung gilt sofort: Jedes Konto muss sie akzeptieren, bevor Portal und "
        "API wieder antworten (die API mit 412).",
        "A new version applies at once: every account must accept it before the portal and "
        "the API answer again (the API with 412).",
    ),
    "console.terms.kind": _t("Dokument", "Document"),
    "console.terms.publish": _t("Neue Fassung veröffentlichen", "Publish the new version"),
    "console.terms.done": _t("Neue Fassung veröffentlicht.", "New version published."),
    "console.terms.invalid": _t(
        "Bitte Dokument und eine Fassung (bis 32 Zeichen) angeben.",
        "Please choose the document and give a version (up to 32 characters).",
    ),
    "console.terms.exists": _t("Diese Fassung gibt es schon.", "This version exists already."),
    "console.nav.bank": _t("Zahlungen", "Payments"),
    "console.nav.tickets": _t("Tickets", "Tickets"),
    "console.nav.repairs": _t("Reparaturen", "Repairs"),
    "console.ticket.subject": _t("Betreff", "Subject"),
    "console.ticket.status": _t("Status", "Status"),
    "console.ticket.updated": _t("Zuletzt geändert", "Last change"),
    "console.ticket.all": _t("alle", "all"),
    "console.ticket.filter": _t("Filtern", "Filter"),
    "console.ticket.none": _t("Keine Tickets.", "No tickets."),
    "console.ticket.answer": _t("Antworten", "Answer"),
    "console.ticket.answer_text": _t("Antwort an den Kunden", "Answer to the customer"),
    "console.ticket.close": _t("Ticket schließen", "Close the ticket"),
    "console.ticket.customer": _t("Kunde", "Customer"),
    "console.ticket.operator": _t("Betrieb", "Operations"),
    "console.ticket.empty": _t("Bitte eine Antwort schreiben.", "Please write an answer."),
    "console.ticket.invalid": _t(
        "Die Antwort wurde nicht angenommen (zu lang oder Ticket geschlossen).",
        "The answer was not accepted (too long or the ticket is closed).",
    ),
    "console.ticket.done.answered": _t(
        "Antwort gesendet; der Kunde erhält eine E-Mail.",
        "Answer sent; the customer gets an e-mail.",
    ),
    "console.ticket.done.closed": _t("Ticket geschlossen.", "Ticket closed."),
    "console.ticket.done.assigned": _t("Zuständigkeit geändert.", "Assignment changed."),
    "console.ticket.assignee": _t("Zuständig", "Assigned to"),
    "console.ticket.assigned.mine": _t("meine", "mine"),
    "console.ticket.assigned.unassigned": _t("niemand (offen)", "nobody (unassigned)"),
    "console.ticket.assign_to": _t("Zuweisen an", "Assign to"),
    "console.ticket.assign_me": _t("mich", "me"),
    "console.ticket.assign": _t("Zuweisen", "Assign"),
    "console.ticket.assignee_invalid": _t(
        "Zuweisen geht nur an Mitarbeitende des Betriebs.", "Only operators can be assigned."
    ),
    "console.repair.none": _t("Keine Reparaturaufträge.", "No repair orders."),
    "console.repair.contact": _t("Kontakt", "Contact"),
    "console.repair.device": _t("Gerät", "Device"),
    "console.repair.fault": _t("Fehlerbild", "Fault"),
    "console.repair.state_label": _t("Stand", "State"),
    "console.repair.review": _t("Prüfung beginnen", "Start the review"),
    "console.repair.note": _t("Interne Notiz", "Internal note"),
    "console.repair.quote": _t("Angebot senden", "Send the quote"),
    "console.repair.amount": _t("Netto in Euro (zzgl. 19 % USt.)", "Net in euros (plus 19 % VAT)"),
    "console.repair.text": _t("Angebotstext", "Quote text"),
    "console.repair.quoted": _t("Angebot netto", "Quote net"),
    "console.repair.done": _t("Als erledigt markieren", "Mark as done"),
    "console.repair.paid": _t("Als bezahlt markieren", "Mark as paid"),
    "console.repair.quote_invalid": _t(
        "Bitte einen Betrag über 0 (höchstens 2 Nachkommastellen) und einen Angebotstext angeben.",
        "Please give an amount above 0 (at most 2 decimals) and a quote text.",
    ),
    "console.repair.state": _t(
        "Dieser Schritt ist im aktuellen Stand nicht möglich.",
        "This step is not possible in the current state.",
    ),
    "console.repair.done_notice": _t("Reparaturauftrag aktualisiert.", "Repair order updated."),
    "console.bank.upload": _t("Kontoauszug (camt.053) hochladen", "Upload a statement (camt.053)"),
    "console.bank.file": _t("Datei", "File"),
    "console.bank.imported": _t("Eingelesen", "Imported"),
    "console.bank.queue": _t("Nicht zugeordnete Zahlungen", "Unmatched payments"),
    "console.bank.queue_none": _t("Keine offenen Zahlungen.", "No unmatched payments."),
    "console.bank.amount": _t("Betrag", "Amount"),
    "console.bank.payer": _t("Zahler", "Payer"),
    "console.bank.remittance": _t("Verwendungszweck", "Remittance"),
    "console.bank.date": _t("Buchungstag", "Booking day"),
    "console.bank.assign": _t("Beleg zuordnen", "Assign to a document"),
    "console.bank.book": _t("Auf Zahlungskonto buchen", "Book to the payment account"),
    "console.bank.refund": _t("Zurücküberweisen", "Refund"),
    "console.bank.note": _t("Notiz", "Note"),
    "console.bank.document": _t("Proforma", "Pro-forma"),
    "console.bank.account": _t(
        "Kundenkonto (Name oder E-Mail)", "Customer account (name or e-mail)"
    ),
    "console.bank.proformas": _t("Offene Proforma-Rechnungen", "Open pro-forma invoices"),
    "console.bank.proformas_none": _t("Keine offenen Proformas.", "No open pro-formas."),
    "console.bank.number": _t("Nummer", "Number"),
    "console.bank.due": _t("Fällig", "Due"),
    "console.bank.overdue": _t("überfällig", "overdue"),
    "console.bank.reservations": _t("Offene Lieferreservierungen", "Open delivery reservations"),
    "console.bank.reservations_none": _t("Keine offenen Reservierungen.", "No open reservations."),
    "console.bank.order": _t("Bestellung", "Order"),
    "console.bank.confirm": _t("Bestätigen", "Confirm"),
    "console.bank.journal": _t("Zahlungskonto eines Kunden", "A customer's payment account"),
    "console.bank.show": _t("Anzeigen", "Show"),
    "console.bank.balance": _t("Saldo", "Balance"),
    "console.bank.limit": _t("Überziehungsrahmen in Euro", "Overdraft allowance in euros"),
    "console.bank.set_limit": _t("Rahmen setzen", "Set the allowance"),
    "console.bank.kind": _t("Art", "Kind"),
    "console.bank.entry.payment": _t("Zahlungseingang", "Payment received"),
    "console.bank.entry.charge": _t("Belastung (Beleg beglichen)", "Charge (document settled)"),
    "console.bank.entry.credit": _t("Gutschrift", "Credit"),
    "console.bank.entry.refund": _t("Rückzahlung", "Refund"),
    "console.bank.entry.overdraft_limit": _t("Überziehungsrahmen", "Overdraft allowance"),
    "console.bank.entry.reversal": _t("Rückbuchung", "Reversal"),
    "console.bank.reference": _t("Bezug", "Reference"),
    "console.bank.journal_none": _t("Keine Buchungen.", "No entries."),
    "console.bank.unknown_account": _t(
        "Kein Konto mit diesem Namen.", "No account with this name."
    ),
    "console.bank.no_file": _t("Bitte eine Datei wählen.", "Please choose a file."),
    "console.bank.invalid": _t(
        "Die Datei ist kein gültiger camt.053-Auszug:",
        "The file is not a valid camt.053 statement:",
    ),
    "console.bank.target": _t("Bitte eine Proforma wählen.", "Please choose a pro-forma."),
    "console.bank.no_account": _t("Kein Konto mit diesem Namen.", "No account with this name."),
    "console.bank.not_found": _t("Nicht gefunden.", "Not found."),
    "console.bank.resolved": _t(
        "Diese Zahlung ist schon erledigt.", "This payment has been resolved already."
    ),
    "console.bank.refused": _t(
        "Das ist in diesem Zustand nicht möglich.", "This is not possible in this state."
    ),
    "console.bank.limit_invalid": _t(
        "Bitte einen Betrag ab 0 mit höchstens 2 Nachkommastellen angeben.",
        "Please give an amount of 0 or more with at most 2 decimals.",
    ),
    "console.bank.done.assign": _t("Zahlung zugeordnet.", "Payment assigned."),
    "console.bank.done.book": _t(
        "Auf das Zahlungskonto gebucht.", "Booked to the payment account."
    ),
    "console.bank.done.refund": _t("Als Rücküberweisung erledigt.", "Resolved as refund."),
    "console.bank.done.confirm": _t("Reservierung bestätigt.", "Reservation confirmed."),
    "console.bank.done.overdraft": _t("Überziehungsrahmen gesetzt.", "Overdraft allowance set."),
    "console.nav.credit": _t("Gutschriften und Rückzahlungen", "Credit notes and refunds"),
    "console.credit.refunds": _t("Offene Rückzahlungen (Guthaben)", "Open refunds (credit)"),
    "console.credit.refunds_none": _t("Kein Konto hat Guthaben.", "No account holds credit."),
    "console.credit.holder": _t("Kontoinhaber", "Account holder"),
    "console.credit.iban": _t("IBAN", "IBAN"),
    "console.credit.amount": _t("Betrag in Euro", "Amount in euros"),
    "console.credit.no_bank": _t(
        "Keine Bankverbindung im Portal hinterlegt.", "No bank details given in the portal."
    ),
    "console.credit.refund": _t("SEPA-Datei erstellen", "Make the SEPA file"),
    "console.credit.files": _t("Rückzahlungsdateien (pain.001)", "Refund files (pain.001)"),
    "console.credit.files_none": _t("Noch keine Rückzahlung.", "No refund yet."),
    "console.credit.download": _t("Herunterladen", "Download"),
    "console.credit.fresh": _t("neu", "new"),
    "console.credit.invoices": _t("Rechnungen eines Kunden", "A customer's invoices"),
    "console.credit.invoices_none": _t("Keine Rechnungen.", "No invoices."),
    "console.credit.corrected": _t("korrigiert durch", "corrected by"),
    "console.credit.reason": _t("Grund (wird protokolliert)", "Reason (logged)"),
    "console.credit.note_reason": _t(
        "Grund (steht auf der Gutschrift und wird protokolliert)",
        "Reason (printed on the credit note and logged)",
    ),
    "console.credit.issue": _t("Gutschrift erstellen", "Issue a credit note"),
    "console.credit.invalid": _t(
        "Bitte Kontoinhaber, IBAN und einen Betrag über 0 mit höchstens 2 Nachkommastellen "
        "angeben.",
        "Please give the account holder, the IBAN and an amount above 0 with at most 2 decimals.",
    ),
    "console.credit.refund_refused": _t(
        "Nicht möglich: IBAN ungültig oder Betrag höher als das Guthaben.",
        "Not possible: the IBAN is not valid or the amount exceeds the credit.",
    ),
    "console.credit.refused": _t(
        "Diese Rechnung ist schon durch eine Gutschrift korrigiert.",
        "This invoice is corrected by a credit note already.",
    ),
    "console.credit.done.credit_note": _t(
        "Gutschrift erstellt; der Betrag steht dem Kunden als Guthaben zur Verfügung.",
        "Credit note issued; the amount is credit on the customer's payment account.",
    ),
    "console.credit.done.refund": _t(
        "Rückzahlung gebucht; die SEPA-Datei steht zum Herunterladen bereit.",
        "Refund booked; the SEPA file is ready to download.",
    ),
    "console.queue.name": _t("Warteschlange", "Queue"),
    "console.queue.depth": _t("Anzahl", "Items"),
    "console.queue.age": _t("Ältester Eintrag (s)", "Oldest item (s)"),
    "console.queue.notification_outbox": _t("E-Mails", "E-mails"),
    "console.queue.mqtt_outbox": _t("MQTT-Nachrichten", "MQTT messages"),
    "console.queue.billing_jobs": _t("Abrechnungsläufe", "Billing jobs"),
    "console.queue.retry": _t("Fehlgeschlagene E-Mails erneut senden", "Send failed e-mails again"),
    "console.queue.money": _t("Geld", "Money"),
    "console.queue.payments": _t("Zahlungseingänge gebucht", "Payments booked"),
    "console.queue.telemetry": _t("Telemetrie", "Telemetry"),
    "console.queue.batches": _t("Batches insgesamt", "Batches in total"),
    "console.queue.recent": _t("Batches der letzten 5 Minuten", "Batches in the last 5 minutes"),
    "console.queue.lag": _t("Sekunden seit dem letzten Batch", "Seconds since the last batch"),
    "console.ent.kind": _t("Art", "Kind"),
    "console.ent.kind.trial": _t("Testzeitraum", "Trial"),
    "console.ent.kind.package": _t("Paket", "Package"),
    "console.ent.kind.licence": _t("Lizenz", "Licence"),
    "console.ent.kind.grant": _t("Freischaltung", "Grant"),
    "console.ent.kind.service": _t("Servicevertrag", "Service contract"),
    "console.ent.subject.account": _t("Konto", "Account"),
    "console.ent.subject.hub": _t("Zentrale", "Hub"),
    "console.ent.subject.plant": _t("Anlage", "Plant"),
    "console.ent.subject.service": _t("Vertrag", "Contract"),
    "console.ent.product": _t("Produkt", "Product"),
    "console.ent.plan": _t("Laufzeit", "Runtime"),
    "console.ent.subject": _t("Für", "For"),
    "console.ent.booking": _t("Buchungsart", "Booking"),
    "console.ent.single": _t("Einzelbuchung", "Single booking"),
    "console.ent.subscription": _t("Abonnement", "Subscription"),
    "console.ent.plant": _t("Anlage", "Plant"),
    "console.ent.power": _t("Lizenzierte Leistung (W)", "Licensed power (W)"),
    "console.ent.package": _t("Paket freischalten", "Grant a hub package"),
    "console.ent.licence": _t("Lizenz freischalten", "Grant a plant licence"),
    "console.ent.grant": _t("Freischalten", "Grant"),
    "console.ent.end": _t("Beenden", "End"),
    "console.ent.unknown": _t(
        "Konto, Produkt, Laufzeit, Anlage oder Leistung passen nicht. Bitte prüfen.",
        "Account, product, runtime, plant or power do not fit. Please check.",
    ),
    "console.ent.done.package": _t("Paket freigeschaltet.", "Package granted."),
    "console.ent.done.licence": _t("Lizenz freigeschaltet.", "Licence granted."),
    "console.ent.done.end": _t("Freischaltung beendet.", "Window ended."),
}


def register() -> None:
    """Merge the texts into the shared table (refuses to override other areas)."""
    clash = {k for k in CONSOLE_TEXTS if k in TEXTS and TEXTS[k] != CONSOLE_TEXTS[k]}
    if clash:
        raise RuntimeError(f"text ids used by another area: {sorted(clash)}")
    TEXTS.update(CONSOLE_TEXTS)
