"""UI texts of the portal area, German first; merged into :data:`cloud_gateway.i18n.TEXTS`."""

from __future__ import annotations

from cloud_gateway.i18n import TEXTS, Language

__all__ = ["PORTAL_TEXTS", "register"]


def _t(de: str, en: str) -> dict[Language, str]:
    return {Language.DE: de, Language.EN: en}


PORTAL_TEXTS: dict[str, dict[Language, str]] = {
    "overview.devices": _t("Ihre Geräte", "Your devices"),
    "overview.plants": _t("Ihre Anlagen", "Your plants"),
    "overview.no_plants": _t("Noch keine Anlagen angelegt.", "No plants yet."),
    "overview.shared": _t("Freigegeben von", "Shared by"),
    "devices.title": _t("Geräte", "Devices"),
    "devices.lead": _t(
        "Ihre HomeMatic-Zentralen und Wechselrichter-Agenten mit ihrem Verbindungsstatus.",
        "Your HomeMatic hubs and inverter agents with their connection state.",
    ),
    "devices.kind.ccu": _t("HomeMatic-Zentrale", "HomeMatic hub"),
    "devices.kind.inverter_agent": _t("Wechselrichter-Agent", "Inverter agent"),
    "devices.state": _t("Status", "State"),
    "devices.online": _t("verbunden", "connected"),
    "devices.offline": _t("nicht verbunden", "not connected"),
    "devices.disabled": _t("gesperrt", "disabled"),
    "devices.actions": _t("Aktionen", "Actions"),
    "devices.remote": _t("Fernzugriff öffnen", "Open remote access"),
    "devices.pair": _t("Neues Gerät koppeln", "Pair a new device"),
    "devices.audit": _t("Protokoll der Fernzugriffe", "Remote access log"),
    "audit.title": _t("Protokoll der Fernzugriffe", "Remote access log"),
    "audit.lead": _t(
        "Wer hat wann und von wo auf Ihre Geräte zugegriffen, und wie viele Daten flossen.",
        "Who opened your devices when and from where, and how much data flowed.",
    ),
    "audit.none": _t("Noch keine Fernzugriffe.", "No remote access yet."),
    "audit.device": _t("Gerät", "Device"),
    "audit.who": _t("Wer", "Who"),
    "audit.from": _t("Von", "From"),
    "audit.started": _t("Beginn", "Started"),
    "audit.last": _t("Zuletzt", "Last seen"),
    "audit.requests": _t("Anfragen", "Requests"),
    "audit.bytes": _t("Daten (kB)", "Data (kB)"),
    "account.title": _t("Konto und Stammdaten", "Account and master data"),
    "account.username": _t("Benutzername", "User name"),
    "account.email": _t("E-Mail-Adresse", "E-mail address"),
    "account.role": _t("Rolle", "Role"),
    "account.role.customer": _t("Anlagenbetreiber", "Plant owner"),
    "account.role.installer": _t("Installateur", "Installer"),
    "account.role.operator": _t("Betreiber", "Operator"),
    "account.role.accountant": _t("Buchhaltung", "Accountant"),
    "account.since": _t("Kunde seit", "Customer since"),
    "account.customer": _t("Kundendaten", "Customer data"),
    "account.password": _t("Passwort ändern", "Change password"),
    "account.bank": _t("Bankverbindung", "Bank details"),
    "account.sharing": _t("Freigaben für Installateure", "Sharing with installers"),
    "account.audit": _t("Protokoll der Fernzugriffe", "Remote access log"),
    "account.delete": _t("Konto löschen", "Delete account"),
    "bank.title": _t("Bankverbindung", "Bank details"),
    "bank.lead": _t(
        "Auf dieses Konto überweisen wir Erstattungen und Guthaben.",
        "Refunds and credit balances are paid to this account.",
    ),
    "bank.holder": _t("Kontoinhaber", "Account holder"),
    "bank.iban": _t("IBAN", "IBAN"),
    "bank.bic": _t("BIC (optional)", "BIC (optional)"),
    "bank.save": _t("Bankverbindung speichern", "Save bank details"),
    "bank.saved": _t("Bankverbindung gespeichert.", "Bank details saved."),
    "bank.current": _t("Hinterlegt", "On file"),
    "bank.none": _t("Noch keine Bankverbindung hinterlegt.", "No bank details on file yet."),
    "bank.err.holder": _t(
        "Bitte geben Sie den Kontoinhaber an (höchstens 140 Zeichen).",
        "Please enter the account holder (at most 140 characters).",
    ),
    "bank.err.empty": _t("Bitte geben Sie eine IBAN ein.", "Please enter an IBAN."),
    "bank.err.checksum": _t(
        "Diese IBAN ist ungültig: Die Prüfziffer stimmt nicht. Bitte prüfen Sie die Eingabe.",
        "This IBAN is invalid: its check digits do not match. Please check your entry.",
    ),
    "bank.err.length": _t(
        "Diese IBAN ist ungültig: Sie hat für ihr Land die falsche Länge.",
        "This IBAN is invalid: it has the wrong length for its country.",
    ),
    "bank.err.country": _t(
        "Diese IBAN ist ungültig: Das Länderkürzel ist unbekannt.",
        "This IBAN is invalid: the country code is unknown.",
    ),
    "bank.err.format": _t(
        "Diese IBAN ist ungültig: Sie enthält unzulässige Zeichen.",
        "This IBAN is invalid: it contains characters that are not allowed.",
    ),
    "bank.err.bank": _t(
        "Diese IBAN ist ungültig: Die Bankleitzahl ist unbekannt.",
        "This IBAN is invalid: the bank code is unknown.",
    ),
    "bank.err.bic": _t("Dieser BIC ist ungültig.", "This BIC is invalid."),
    "close.title": _t("Konto löschen", "Delete account"),
    "close.lead": _t(
        "Wenn Sie Ihr Konto löschen, passiert Folgendes:",
        "When you delete your account, this happens:",
    ),
    "close.devices": _t(
        "Ihre Geräte werden abgemeldet und ihre Verbindungen sofort getrennt.",
        "Your devices are signed off and disconnected at once.",
    ),
    "close.contracts": _t(
        "Laufende Abonnements enden zum Ende der laufenden Periode.",
        "Running subscriptions end at the end of their current period.",
    ),
    "close.data": _t(
        "Kunden-, Bank- und Anlagendaten werden gelöscht.",
        "Customer, bank and plant data are erased.",
    ),
    "close.invoices": _t(
        "Rechnungen bewahren wir 8 Jahre auf, wie es das Gesetz verlangt.",
        "Invoices are kept for 8 years as the law requires.",
    ),
    "close.password": _t("Zur Bestätigung Ihr Passwort", "Your password, to confirm"),
    "close.submit": _t("Konto endgültig löschen", "Delete my account for good"),
    "close.cancel": _t("Abbrechen", "Cancel"),
    "close.wrong_password": _t(
        "Das Passwort ist falsch. Ihr Konto wurde nicht gelöscht.",
        "The password is wrong. Your account was not deleted.",
    ),
    "close.done_title": _t("Konto gelöscht", "Account deleted"),
    "close.done": _t(
        "Ihr Konto wurde gelöscht. Eine Bestätigung ist an Ihre E-Mail-Adresse unterwegs.",
        "Your account has been deleted. A confirmation is on its way to your e-mail address.",
    ),
    "sharing.title": _t("Freigaben für Installateure", "Sharing with installers"),
    "sharing.lead": _t(
        "Erlauben Sie einem Installateur, eine Anlage zu überwachen. Er sieht sie dann in "
        "seiner Anlagenliste, kann aber nichts ändern.",
        "Allow an installer to monitor a plant. They then see it in their plant list, but "
        "cannot change anything.",
    ),
    "sharing.installer": _t(
        "Benutzername oder E-Mail des Installateurs", "Installer's user name or e-mail"
    ),
    "sharing.plant": _t("Anlage", "Plant"),
    "sharing.all_plants": _t("alle meine Anlagen", "all my plants"),
    "sharing.grant": _t("Freigeben", "Share"),
    "sharing.given": _t("Erteilte Freigaben", "Grants you gave"),
    "sharing.held": _t("Für Sie freigegeben", "Shared with you"),
    "sharing.none": _t("Keine Freigaben.", "No grants."),
    "sharing.since": _t("seit", "since"),
    "sharing.revoke": _t("Freigabe beenden", "Revoke"),
    "sharing.device": _t("Gerät (Fernzugriff)", "Device (remote access)"),
    "sharing.granted": _t("Freigabe erteilt.", "Access granted."),
    "sharing.revoked": _t("Freigabe beendet.", "Access revoked."),
    "sharing.err.no_installer": _t(
        "Es gibt keinen Installateur mit diesem Namen oder dieser E-Mail-Adresse.",
        "There is no installer with this name or e-mail address.",
    ),
    "sharing.err.plant": _t(
        "Bitte wählen Sie eine Ihrer Anlagen.", "Please pick one of your plants."
    ),
    "sharing.revoke_question": _t(
        "Soll der Installateur diese Anlage nicht mehr sehen?",
        "Should the installer no longer see this plant?",
    ),
    "sharing.readonly": _t(
        "Freigegeben von {owner} \u2013 nur lesen.", "Shared by {owner}, read-only."
    ),
    "ask.title": _t("Bitte bestätigen", "Please confirm"),
    "ask.yes": _t("Ja, löschen", "Yes, delete"),
    "ask.revoke": _t("Ja, beenden", "Yes, revoke"),
    "ask.no": _t("Abbrechen", "Cancel"),
    "ask.plant": _t(
        "Anlage „{name}“ mit allen Wechselrichtern und Messwerten löschen? Das lässt sich nicht "
        "rückgängig machen.",
        "Delete the plant \u201c{name}\u201d with all its inverters and readings? This cannot "
        "be undone.",
    ),
    "ask.inverter": _t(
        "Wechselrichter {serial} mit seinen Messwerten aus der Anlage löschen?",
        "Delete inverter {serial} and its readings from the plant?",
    ),
    "done.plant_deleted": _t("Die Anlage wurde gelöscht.", "The plant was deleted."),
    "done.inverter_deleted": _t("Der Wechselrichter wurde gelöscht.", "The inverter was deleted."),
    "legal.lead": _t("Stand", "As of"),
    "lan.title": _t("Netzwerkgeräte", "Network devices"),
    "lan.lead": _t(
        "Weitere Geräte im Heimnetz Ihrer Zentrale (z. B. Router, Wechselrichter, Kamera), die "
        "Sie über den sicheren Tunnel der Zentrale öffnen. Nur diese Adressen lässt die "
        "Zentrale zu.",
        "Further devices in your hub's home network (router, inverter, camera, ...) that you "
        "open through the hub's secure tunnel. The hub allows only these addresses.",
    ),
    "lan.name": _t("Bezeichnung", "Name"),
    "lan.address": _t("Adresse", "Address"),
    "lan.host": _t("IP-Adresse oder Hostname im Heimnetz", "IP address or host name at home"),
    "lan.port": _t("Port", "Port"),
    "lan.add": _t("Netzwerkgerät hinzufügen", "Add network device"),
    "lan.open": _t("Öffnen", "Open"),
    "lan.remove": _t("Entfernen", "Remove"),
    "lan.none": _t("Noch keine Netzwerkgeräte.", "No network devices yet."),
    "lan.added": _t(
        "Netzwerkgerät hinzugefügt; die Zentrale kennt es jetzt.",
        "Network device added; the hub knows it now.",
    ),
    "lan.removed": _t(
        "Netzwerkgerät entfernt; die Zentrale lässt es nicht mehr zu.",
        "Network device removed; the hub no longer allows it.",
    ),
    "lan.remove_question": _t(
        "Netzwerkgerät „{name}“ ({address}) entfernen? Es ist dann nicht mehr erreichbar.",
        "Remove the network device \u201c{name}\u201d ({address})? It can no longer be "
        "reached then.",
    ),
    "lan.err.name": _t(
        "Bitte geben Sie eine Bezeichnung an (höchstens 100 Zeichen).",
        "Please enter a name (at most 100 characters).",
    ),
    "lan.err.host": _t(
        "Bitte geben Sie eine IP-Adresse oder einen Hostnamen ohne http:// und ohne Pfad an.",
        "Please enter an IP address or a host name, without http:// and without a path.",
    ),
    "lan.err.port": _t(
        "Der Port muss eine Zahl von 1 bis 65535 sein.",
        "The port must be a number from 1 to 65535.",
    ),
    "lan.err.taken": _t(
        "Diese Adresse ist für diese Zentrale schon eingetragen.",
        "This address is already listed for this hub.",
    ),
    "devices.lan": _t("Netzwerkgeräte", "Network devices"),
    "mailbox.lead": _t(
        "Nur in der Demo: jede E-Mail, die das System verschickt hat, zum Nachverfolgen von "
        "Registrierung, Passwort-Zurücksetzen, Erinnerungen und Rechnungen.",
        "Demo only: every e-mail the system sent, to follow registration, password reset, "
        "reminders and invoices.",
    ),
    "mailbox.none": _t("Noch keine E-Mails.", "No e-mails yet."),
    "mailbox.subject": _t("Betreff", "Subject"),
    "mailbox.to": _t("An", "To"),
    "mailbox.from": _t("Von", "From"),
    "mailbox.date": _t("Datum", "Date"),
    "mailbox.attachments": _t("Anhänge", "Attachments"),
    "mailbox.back": _t("Zurück zum Postfach", "Back to the mailbox"),
}


def register() -> None:
    """Merge the texts into the shared table (idempotent; refuses to override other areas)."""
    clash = {k for k in PORTAL_TEXTS if k in TEXTS and TEXTS[k] != PORTAL_TEXTS[k]}
    if clash:
        raise RuntimeError(f"text ids used by another area: {sorted(clash)}")
    TEXTS.update(PORTAL_TEXTS)
