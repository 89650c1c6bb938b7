"""Matching a bank transaction to a pro-forma (pure).

The order, first hit wins:

1. the structured creditor reference (``CdtrRefInf/Ref``) is a pro-forma's ``RF…`` reference;
2. a reference found in the unstructured remittance text: an ``RF…`` reference (spaces
   allowed, checked with its ISO 11649 check digits), the document number ``PR-2026-00001``,
   or the order reference ``A-17``;
3. the amount equals an open pro-forma's total and the payer's name is the customer's name
   (exactly one such pro-forma; two or more make it ambiguous).

Money taken back (a reversal or return) is matched to the credit it takes back (its
end-to-end reference), else by steps 1 and 2; never by amount and name.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from stdnum import iso11649

from cloud_gateway.banking.model import Transaction

__all__ = [
    "Candidates",
    "Match",
    "MatchedBy",
    "ProForma",
    "Wanted",
    "match",
    "name_key",
    "numbers_in",
    "orders_in",
    "references_in",
    "wanted",
]

_RF = re.compile(r"RF\d{2}[0-9A-Z]{1,21}")
_NUMBER = re.compile(r"\bPR[\s-]?(\d{4})[\s-]?(\d{5})\b")
_ORDER = re.compile(r"\bA-(\d{1,9})\b")
#: words of a payer's name compared (a longer name is cut: 2**n subsets are looked up)
_MAX_NAME_WORDS = 6
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
#: words a payer's name carries that the customer's name may lack
_NOISE = frozenset(
    {
        "und",
        "u",
        "herr",
        "frau",
        "hr",
        "fr",
        "dr",
        "gmbh",
        "kg",
        "ag",
        "ohg",
        "ug",
        "eg",
        "ev",
        "e",
        "v",
        "co",
        "mbh",
        "haftungsbeschraenkt",
    }
)


class MatchedBy(StrEnum):
    """How a transaction was matched."""

    REFERENCE = "reference"  # the structured creditor reference
    TEXT = "text"  # a reference in the remittance text
    NAME = "name"  # amount and payer name
    ORIGINAL = "original"  # a reversal: the credit it takes back


@dataclass(frozen=True, slots=True, kw_only=True)
class ProForma:
    """A pro-forma as matching sees it."""

    id: int
    number: str
    #: the ``RF…`` creditor reference
    reference: str
    account_id: int
    gross: int
    order_id: int | None
    #: the customer's name as printed on the document
    customer: str
    #: not settled and not expired: still waiting for this money
    open: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """Where a transaction's money goes."""

    by: MatchedBy
    account_id: int
    document: ProForma | None = None


@dataclass(slots=True)
class Candidates:
    """What one pass of look-ups found for a statement's transactions."""

    by_reference: dict[str, ProForma] = field(default_factory=dict)
    by_number: dict[str, ProForma] = field(default_factory=dict)
    by_order: dict[int, list[ProForma]] = field(default_factory=lambda: defaultdict(list))
    #: open pro-formas by gross amount and the words of the customer's name
    by_amount_name: dict[tuple[int, frozenset[str]], list[ProForma]] = field(
        default_factory=lambda: defaultdict(list)
    )
    #: accounts of credits already booked, by their end-to-end reference
    originals: dict[str, int] = field(default_factory=dict)

    def add(self, documents: Iterable[ProForma]) -> None:
        """Index ``documents`` (each once)."""
        for document in documents:
            if document.number in self.by_number:
                continue
            self.by_number[document.number] = document
            if document.reference:
                self.by_reference[document.reference] = document
            if document.order_id is not None:
                self.by_order[document.order_id].append(document)
            if document.open:
                self.by_amount_name[document.gross, name_key(document.customer)].append(document)

    def same_payer(self, amount: int, payer: str) -> list[ProForma]:
        """Open pro-formas of ``amount`` whose customer's name words all appear in ``payer``."""
        words = sorted(name_key(payer))[:_MAX_NAME_WORDS]
        found: list[ProForma] = []
        for size in range(1, len(words) + 1):
            for subset in itertools.combinations(words, size):
                found += self.by_amount_name.get((amount, frozenset(subset)), [])
        return found


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text.upper())


def references_in(text: str) -> list[str]:
    """Valid ISO 11649 references in ``text`` (spaces inside a reference are allowed).

    With the spaces gone a reference runs into the next word, so every valid prefix of a
    candidate is returned, longest first (one in 97 is valid by chance): the look-up decides.
    """
    found = []
    for candidate in _RF.findall(_compact(text)):
        found += [
            candidate[:end]
            for end in range(len(candidate), 4, -1)
            if iso11649.is_valid(candidate[:end])
        ]
    return found


def numbers_in(text: str) -> list[str]:
    """Pro-forma numbers (``PR-2026-00001``) in ``text``, however spaced."""
    return [f"PR-{year}-{counter}" for year, counter in _NUMBER.findall(text.upper())]


def orders_in(text: str) -> list[int]:
    """Order references (``A-17``) in ``text``."""
    return [int(n) for n in _ORDER.findall(text.upper())]


def name_key(name: str) -> frozenset[str]:
    """The words of a person's or company's name, folded for comparison."""
    folded = unicodedata.normalize("NFKC", name).casefold().translate(_UMLAUTS)
    folded = "".join(
        c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c)
    )
    return frozenset(w for w in re.findall(r"[a-z0-9]+", folded) if w not in _NOISE)


def _by_order(candidates: Candidates, order_id: int, amount: int) -> ProForma | None:
    documents = candidates.by_order.get(order_id, [])
    waiting = [d for d in documents if d.open]
    for document in waiting:
        if document.gross == amount:
            return document
    first = waiting or documents
    return first[0] if first else None


def _by_text(transaction: Transaction, candidates: Candidates) -> ProForma | None:
    text = transaction.remittance
    for reference in references_in(text):
        if reference in candidates.by_reference:
            return candidates.by_reference[reference]
    for number in numbers_in(text):
        if number in candidates.by_number:
            return candidates.by_number[number]
    for order_id in orders_in(text):
        found = _by_order(candidates, order_id, transaction.amount)
        if found is not None:
            return found
    return None


def match(transaction: Transaction, candidates: Candidates) -> Match | None:
    """Where ``transaction``'s money goes, or ``None`` (the queue)."""
    if transaction.reversal and transaction.end_to_end_id in candidates.originals:
        return Match(
            by=MatchedBy.ORIGINAL, account_id=candidates.originals[transaction.end_to_end_id]
        )
    structured = _compact(transaction.structured_reference)
    document = candidates.by_reference.get(structured) if structured else None
    if document is not None:
        return Match(by=MatchedBy.REFERENCE, account_id=document.account_id, document=document)
    document = _by_text(transaction, candidates)
    if document is not None:
        return Match(by=MatchedBy.TEXT, account_id=document.account_id, document=document)
    if transaction.reversal:
        return None
    same = candidates.same_payer(transaction.amount, transaction.name)
    if len(same) == 1:
        return Match(by=MatchedBy.NAME, account_id=same[0].account_id, document=same[0])
    return None


@dataclass(slots=True)
class Wanted:
    """What to look up for a statement's transactions (one query per kind)."""

    references: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)
    orders: set[int] = field(default_factory=set)
    #: end-to-end references of the credits that reversals take back
    originals: set[str] = field(default_factory=set)


def wanted(transactions: Iterable[Transaction]) -> Wanted:
    """The references, numbers, orders and originals ``transactions`` name."""
    found = Wanted()
    for t in transactions:
        if t.structured_reference:
            found.references.add(_compact(t.structured_reference))
        found.references.update(references_in(t.remittance))
        found.numbers.update(numbers_in(t.remittance))
        found.orders.update(orders_in(t.remittance))
        if t.reversal and t.end_to_end_id:
            found.originals.add(t.end_to_end_id)
    return found
