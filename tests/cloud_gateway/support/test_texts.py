"""Every text the portal's support pages ask for exists in German and English."""

from __future__ import annotations

import re
from pathlib import Path

from cloud_gateway.accounts import texts as account_texts
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.states import ContractState
from cloud_gateway.i18n import TEXTS, Language
from cloud_gateway.shop import texts as shop_texts
from cloud_gateway.support import texts
from cloud_gateway.support.model import RepairCategory, RepairState, TicketStatus

TEMPLATES = Path(texts.__file__).parents[1] / "templates"
PAGES = [
    "portal.html",
    "base.html",
    "portal_products.html",
    "portal_invoices.html",
    "portal_tickets.html",
    "portal_ticket.html",
    "portal_repairs.html",
    "portal_repair.html",
]


def _wanted() -> set[str]:
    keys: set[str] = set()
    for name in PAGES:
        keys |= set(re.findall(r"""\bt\(["']([a-z_.]+)["']\)""", (TEMPLATES / name).read_text()))
    keys |= {f"sp.doc.{k.value}" for k in DocumentKind}
    keys |= {f"sp.contract.{s.value}" for s in ContractState}
    keys |= {f"sp.status.{s.value}" for s in TicketStatus}
    keys |= {f"sp.rstate.{s.value}" for s in RepairState}
    keys |= {f"sp.cat.{c.value}" for c in RepairCategory}
    keys |= {f"sp.repair.{f}" for f in ("contact_name", "contact_email", "contact_phone",
                                         "monitoring", "fault", "settings")}  # fmt: skip
    return keys


def test_every_key_has_german_and_english() -> None:
    """The support area's keys (``sp.``) and the overview's (``portal.``); the navigation's
    other areas' keys are theirs."""
    texts.register()
    shop_texts.register()
    account_texts.register()
    wanted = {k for k in _wanted() if k.startswith(("sp.", "portal."))}
    assert len(wanted) > 60
    missing = sorted(k for k in wanted if k not in TEXTS)
    assert missing == []
    untranslated = sorted(
        k for k in wanted if not TEXTS[k].get(Language.EN) or not TEXTS[k].get(Language.DE)
    )
    assert untranslated == []
    same = sorted(
        k for k in wanted if k.startswith("sp.") and TEXTS[k][Language.DE] == TEXTS[k][Language.EN]
    )
    assert same == []
