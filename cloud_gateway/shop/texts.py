"""User-facing texts of the shop area: German first, English available."""

from __future__ import annotations

from cloud_gateway.i18n import TEXTS, Language, translate

__all__ = ["PORTAL_TEXTS", "SHOP_TEXTS", "register", "shop_text"]

_DE, _EN = Language.DE, Language.EN


def _t(de: str, en: str) -> dict[Language, str]:
    return {_DE: de, _EN: en}


SHOP_TEXTS: dict[str, dict[Language, str]] = {
    "hub.title": {_DE: "Zugang buchen", _EN: "Book access"},
    "hub.credit": {
        _DE: "Diese Buchung wird dem Konto gutgeschrieben, mit dem Ihre Zentrale verknüpft ist:",
        _EN: "This booking is credited to the account your hub is linked to:",
    },
    "hub.device": {_DE: "Zentrale", _EN: "Hub"},
    "hub.account": {_DE: "Konto", _EN: "Account"},
    "hub.package": {_DE: "Paket", _EN: "Package"},
    "hub.valid_until": {_DE: "Link gültig bis", _EN: "Link valid until"},
    "hub.login_needed": {
        _DE: "Bitte melden Sie sich mit genau diesem Konto an.",
        _EN: "Please log in with exactly this account.",
    },
    "hub.login": {_DE: "Als dieses Konto anmelden", _EN: "Log in as this account"},
    "hub.continue": {_DE: "Weiter zum Shop", _EN: "Continue to the shop"},
    "hub.wrong_account": {
        _DE: "Achtung: Sie sind als „{current}“ angemeldet, die Zentrale gehört aber zum Konto "
        "„{linked}“. Über diesen Link wird nichts für „{current}“ gebucht.",
        _EN: "Attention: you are logged in as “{current}”, but the hub belongs to the account "
        "“{linked}”. Nothing is booked for “{current}” through this link.",
    },
    "hub.switch": {
        _DE: "Konto wechseln (abmelden und als „{linked}“ anmelden)",
        _EN: "Switch account (log out and log in as “{linked}”)",
    },
    "hub.refused_title": {_DE: "Link ungültig", _EN: "Invalid link"},
    "hub.refused_lead": {
        _DE: "Dieser Buchungslink kann nicht verwendet werden. Öffnen Sie das CloudConnector-"
        "Dashboard Ihrer Zentrale und klicken Sie erneut auf „Zugang buchen“.",
        _EN: "This booking link cannot be used. Open the CloudConnector dashboard of your hub "
        "and click “Book access” again.",
    },
    "refusal.malformed": {_DE: "Der Link ist unvollständig.", _EN: "The link is incomplete."},
    "refusal.bad_signature": {
        _DE: "Die Signatur der Zentrale stimmt nicht (Link verändert).",
        _EN: "The hub's signature does not match (the link was altered).",
    },
    "refusal.expired": {_DE: "Der Link ist abgelaufen.", _EN: "The link has expired."},
    "refusal.too_long_lived": {
        _DE: "Der Link ist zu lange gültig (Uhr der Zentrale prüfen).",
        _EN: "The link claims too long a validity (check the hub's clock).",
    },
    "refusal.untrusted_certificate": {
        _DE: "Die Zentrale ist hier nicht (mehr) registriert.",
        _EN: "The hub is not (or no longer) registered here.",
    },
    "refusal.wrong_account": {
        _DE: "Die Zentrale ist inzwischen mit einem anderen Konto verknüpft.",
        _EN: "The hub is now linked to another account.",
    },
    # --- navigation
    "nav.shop_products": _t("Produkte", "Products"),
    "nav.cart": _t("Warenkorb", "Cart"),
    "nav.orders": _t("Bestellungen", "Orders"),
    "nav.portal": _t("Übersicht", "Overview"),
    # --- products and the product page
    "products.title": _t("Produkte", "Products"),
    "products.lead": _t(
        "CloudConnector-Pakete für Ihre Zentrale. Alle Preise inklusive Umsatzsteuer.",
        "CloudConnector packages for your hub. All prices include VAT.",
    ),
    "products.choose": _t("Auswählen", "Choose"),
    "products.price_from": _t("ab {price}", "from {price}"),
    "product.runtime": _t("Laufzeit", "Runtime"),
    "product.booking": _t("Art der Buchung", "Booking type"),
    "product.add": _t("In den Warenkorb", "Add to cart"),
    "product.login": _t("Zum Buchen anmelden", "Log in to book"),
    "product.vat_note": _t(
        "Preise inklusive {rate} % Umsatzsteuer.", "Prices include {rate} % VAT."
    ),
    "booking.single": _t("Einzelbuchung", "Single booking"),
    "booking.subscription": _t("Abonnement", "Subscription"),
    "booking.single.explain": _t(
        "Einmalige Buchung für die gewählte Laufzeit. Danach endet der Zugang, sofern Sie "
        "nicht verlängern; wir erinnern Sie fünf Tage vor Ablauf und am Ablauftag per E-Mail.",
        "Booked once for the chosen runtime. Access then ends unless you renew; we remind "
        "you by e-mail five days before it expires and on the day it expires.",
    ),
    "booking.subscription.explain": _t(
        "Wiederkehrende Buchung: nach jeder Laufzeit wird automatisch eine neue Bestellung "
        "für Ihr Konto angelegt, ohne Erinnerungs-E-Mails. Die Zahlung stoßen Sie selbst an "
        "(Dauerauftrag bei Ihrer Bank oder Abonnement in PayPal); wir ziehen nichts ein.",
        "Recurring booking: after every runtime a new order is created for your account "
        "automatically, without reminder e-mails. You initiate the payment yourself (a "
        "standing order at your bank or a PayPal subscription); we never debit your account.",
    ),
    "booking.cancel.paypal": _t(
        "Kündigen: Ein PayPal-Abonnement kündigen Sie direkt in PayPal (PayPal-Konto → "
        "Einstellungen → Zahlungen → Automatische Zahlungen verwalten → CloudConnector → "
        "Stornieren). Danach wird nicht mehr verlängert.",
        "Cancelling: a PayPal subscription is cancelled in PayPal itself (PayPal account → "
        "Settings → Payments → Manage automatic payments → CloudConnector → Cancel). It is not "
        "renewed after that.",
    ),
    "booking.cancel.transfer": _t(
        "Bei Zahlung per Überweisung ist keine Kündigung nötig: Stellen Sie die Zahlung "
        "(den Dauerauftrag) einfach ein, dann endet der Zugang mit der bezahlten Laufzeit.",
        "Paying by bank transfer needs no cancellation: simply stop paying (the standing "
        "order), and access ends with the runtime paid for.",
    ),
    "runtime.month": _t("{n} Monat", "{n} month"),
    "runtime.months": _t("{n} Monate", "{n} months"),
    "runtime.days": _t("{n} Tage", "{n} days"),
    # --- the cart
    "cart.title": _t("Warenkorb", "Cart"),
    "cart.empty": _t("Ihr Warenkorb ist leer.", "Your cart is empty."),
    "cart.product": _t("Produkt", "Product"),
    "cart.payment_details": _t("Zahlungsdetails", "Payment details"),
    "cart.delete": _t("Löschen", "Delete"),
    "cart.single_payment": _t(
        "Einmalzahlung {amount} für {runtime}", "One payment of {amount} for {runtime}"
    ),
    "cart.subscription_payment": _t(
        "{amount} alle {runtime}, verlängert sich automatisch",
        "{amount} every {runtime}, renews automatically",
    ),
    "cart.voucher_line": _t(
        "inkl. Gutschein {code}: \N{MINUS SIGN}{amount}",
        "incl. voucher {code}: \N{MINUS SIGN}{amount}",
    ),
    "cart.net": _t("Summe netto", "Net total"),
    "cart.discount": _t("Gutschein {code}", "Voucher {code}"),
    "cart.vat": _t("Umsatzsteuer {rate} % auf {basis}", "VAT {rate} % on {basis}"),
    "cart.vat_ae": _t(
        "Umsatzsteuer 0 % (Reverse Charge) auf {basis}", "VAT 0 % (reverse charge) on {basis}"
    ),
    "cart.gross": _t("Gesamtbetrag", "Total"),
    "cart.voucher": _t("Gutscheincode", "Voucher code"),
    "cart.redeem": _t("Gutschein einlösen", "Redeem voucher"),
    "cart.update": _t("Aktualisierung", "Update"),
    "cart.continue": _t("Weiter einkaufen", "Continue shopping"),
    "cart.buy": _t("Kaufen", "Buy"),
    "cart.redeemed": _t(
        "Gutschein {code} eingelöst, der Betrag ist angepasst.",
        "Voucher {code} redeemed; the amount is adjusted.",
    ),
    "cart.removed": _t("Der Warenkorb ist aktualisiert.", "The cart is updated."),
    "cart.problem.empty": _t("Ihr Warenkorb ist leer.", "Your cart is empty."),
    "cart.problem.changed": _t(
        "Ihr Warenkorb hat sich inzwischen geändert. Bitte prüfen Sie ihn und kaufen Sie erneut.",
        "Your cart has changed in the meantime. Please check it and buy again.",
    ),
    "cart.problem.unknown_product": _t(
        "Dieses Produkt ist nicht (mehr) im Angebot.", "This product is not (or no longer) sold."
    ),
    "cart.problem.booking_type": _t(
        "Diese Buchungsart ist für das Produkt nicht möglich.",
        "This booking type is not available for the product.",
    ),
    "cart.problem.method": _t(
        "Bitte wählen Sie eine der angebotenen Zahlungsarten.",
        "Please choose one of the payment methods offered.",
    ),
    "cart.problem.no_customer": _t(
        "Bitte hinterlegen Sie zuerst Ihre Kundendaten (Name und Rechnungsanschrift).",
        "Please enter your customer data (name and billing address) first.",
    ),
    "cart.problem.voucher_unknown": _t(
        "Diesen Gutscheincode gibt es nicht. Bitte prüfen Sie die Schreibweise.",
        "There is no such voucher code. Please check the spelling.",
    ),
    "cart.problem.voucher_invalid": _t(
        "Dieser Gutschein kann nicht eingelöst werden.", "This voucher cannot be redeemed."
    ),
    "cart.problem.voucher_expired": _t(
        "Dieser Gutschein ist abgelaufen.", "This voucher has expired."
    ),
    "cart.problem.voucher_used_up": _t(
        "Dieser Gutschein ist bereits aufgebraucht.", "This voucher has been used up."
    ),
    "cart.problem.voucher_not_for_cart": _t(
        "Dieser Gutschein gilt für keines der Produkte in Ihrem Warenkorb.",
        "This voucher is not valid for any product in your cart.",
    ),
    "cart.problem.sold_out": _t(
        "Dieses Produkt ist leider ausverkauft.", "Sorry, this product is sold out."
    ),
    # --- payment method and checkout
    "pay.title": _t("Zahlungsart", "Payment method"),
    "pay.lead": _t(
        "Wählen Sie, wie Sie bezahlen möchten. Das Paket wird freigeschaltet, sobald die "
        "Zahlung bei uns eingetroffen ist.",
        "Choose how you want to pay. The package is activated as soon as the payment has arrived.",
    ),
    "pay.now": _t("Jetzt kaufen", "Buy now"),
    "pay.customer": _t("Kundendaten eingeben", "Enter customer data"),
    "pay.back": _t("Zurück zum Warenkorb", "Back to the cart"),
    "method.paypal": _t("PayPal", "PayPal"),
    "method.bank_transfer": _t("Überweisung", "Bank transfer"),
    "method.card": _t("Kreditkarte", "Card"),
    # --- orders
    "orders.title": _t("Meine Bestellungen", "My orders"),
    "orders.none": _t("Sie haben noch nichts bestellt.", "You have not ordered anything yet."),
    "order.title": _t("Bestellung A-{id}", "Order A-{id}"),
    "order.date": _t("Bestellt am", "Ordered on"),
    "order.status": _t("Status", "Status"),
    "order.total": _t("Gesamtbetrag", "Total"),
    "order.method": _t("Zahlungsart", "Payment method"),
    "order.status.awaiting_payment": _t("Zahlung ausstehend", "Awaiting payment"),
    "order.status.paid": _t("Bezahlt, wird freigeschaltet", "Paid, being activated"),
    "order.status.active": _t("Aktiv", "Active"),
    "order.status.cancelled": _t("Storniert", "Cancelled"),
    "order.thanks": _t(
        "Vielen Dank für Ihre Bestellung. Sobald die Zahlung eingetroffen ist, wird das Paket "
        "für Ihr Konto freigeschaltet.",
        "Thank you for your order. As soon as the payment has arrived, the package is "
        "activated for your account.",
    ),
    "order.transfer": _t(
        "Bitte überweisen Sie {amount} unter Angabe der Referenz {reference} auf unser "
        "Konto (Angaben in der Proforma-Rechnung), am einfachsten mit dem GiroCode in Ihrer "
        "Banking-App.",
        "Please transfer {amount} quoting the reference {reference} to our account (details "
        "on the pro-forma invoice), most easily with the GiroCode in your banking app.",
    ),
    "order.girocode": _t("GiroCode für die Überweisung", "GiroCode for the transfer"),
    "order.reference": _t("Referenz", "Reference"),
    "order.documents": _t("Belege", "Documents"),
    "order.pdf": _t("PDF herunterladen", "Download PDF"),
    "order.settled": _t("bezahlt", "paid"),
    "order.open": _t("offen", "open"),
    "order.packages": _t("Gebuchte Pakete", "Booked packages"),
    "order.active_until": _t("aktiv bis einschließlich {day}", "active up to and including {day}"),
    "order.starts": _t("beginnt am {day}", "starts on {day}"),
    "order.not_yet": _t(
        "wird nach Zahlungseingang freigeschaltet", "is activated when the payment arrives"
    ),
    "order.subscription_title": _t("Abonnement kündigen", "Cancelling the subscription"),
    "doc.proforma": _t("Proforma-Rechnung", "Pro-forma invoice"),
    "doc.invoice": _t("Rechnung", "Invoice"),
    "doc.credit_note": _t("Gutschrift", "Credit note"),
    "hub.cart": _t(
        "Das Paket Ihrer Zentrale „{device}“ liegt im Warenkorb.",
        "Your hub “{device}”'s package is in the cart.",
    ),
}


def shop_text(lang: Language, key: str) -> str:
    """The shop's text ``key`` in ``lang``; other keys come from the gateway's texts."""
    entry = SHOP_TEXTS.get(key)
    if entry is None:
        return translate(lang, key)
    return entry.get(lang) or entry[Language.DE]


#: the portal's package block (R-CCU-12), merged into the shared table by :func:`register`
PORTAL_TEXTS: dict[str, dict[Language, str]] = {
    "portal.packages": _t("Pakete Ihrer Zentralen", "Your hubs' packages"),
    "portal.package_until": _t("bis einschließlich {day}", "up to and including {day}"),
    "portal.no_package": _t("kein aktives Paket", "no active package"),
    "portal.book": _t("Zugang buchen", "Book access"),
    "portal.shop": _t("Produkte und Pakete", "Products and packages"),
    "portal.window.trial": _t("Testzeitraum", "Trial"),
    "portal.window.package": _t("Paket", "Package"),
    "portal.window.grant": _t("Freischaltung", "Operator grant"),
    "portal.window.licence": _t("Lizenz", "Licence"),
}


def register() -> None:
    """Merge the portal texts into the shared table (refuses to override other areas)."""
    clash = {k for k in PORTAL_TEXTS if k in TEXTS and TEXTS[k] != PORTAL_TEXTS[k]}
    if clash:
        raise RuntimeError(f"text ids used by another area: {sorted(clash)}")
    TEXTS.update(PORTAL_TEXTS)
