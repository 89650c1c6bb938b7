"""Matching rules with literal values: references in text, names, the order of the steps."""

from __future__ import annotations

from datetime import date

from cloud_gateway.banking.matching import (
    Candidates,
    Match,
    MatchedBy,
    ProForma,
    match,
    name_key,
    numbers_in,
    orders_in,
    references_in,
    wanted,
)
from cloud_gateway.banking.model import Direction, Transaction
from cloud_gateway.billing.documents import rf_reference


def _proforma(n: int, customer: str, *, gross: int = 2975, open_: bool = True) -> ProForma:
    number = f"PR-2026-{n:05d}"
    return ProForma(id=n, number=number, reference=rf_reference(number), account_id=100 + n,
                    gross=gross, order_id=n, customer=customer, open=open_)  # fmt: skip


def _credit(**values: object) -> Transaction:
    base: dict[str, object] = {
        "key": "k", "amount": 2975, "currency": "EUR", "direction": Direction.CREDIT,
        "reversal": False, "booking_date": date(2026, 2, 12), "value_date": None, "name": "",
        "iban": "", "structured_reference": "", "remittance": "", "end_to_end_id": "",
        "return_reason": "", "batch": False,
    }  # fmt: skip
    return Transaction(**(base | values))  # type: ignore[arg-type]


def _hit(found: Match | None) -> tuple[MatchedBy, ProForma | None] | None:
    return None if found is None else (found.by, found.document)


def test_references_are_found_however_the_payer_spaced_them() -> None:
    assert rf_reference("PR-2026-00001") == "RF98PR202600001"
    # without spaces the reference runs into "DANKE"; every valid prefix is a candidate
    # ("RF98PR202600001DANK" happens to carry valid check digits too: the look-up decides)
    assert "RF98PR202600001" in references_in("Rechnung RF98 PR20 2600 001 danke")
    assert references_in("rf98pr202600001 x") == ["RF98PR202600001"]
    assert references_in("RF99PR202600001") == []  # wrong check digits
    assert numbers_in("Proforma PR 2026 00042 und PR-2026-00043") == [
        "PR-2026-00042", "PR-2026-00043",
    ]  # fmt: skip
    assert orders_in("Auftrag A-17, Kunde A 5, SEPA-123") == [17]


def test_names_are_compared_by_their_words_without_titles_or_umlauts() -> None:
    assert name_key("Herr Dr. Jürgen Müller-Groß") == {"juergen", "mueller", "gross"}
    assert name_key("MUELLER, JUERGEN") <= name_key("Jürgen Müller-Groß")
    assert name_key("Hof Janssen GmbH & Co. KG") == {"hof", "janssen"}


def test_structured_reference_comes_first_then_text_then_amount_and_name() -> None:
    anna, bernd, carla = (
        _proforma(1, "Anna Albers"),
        _proforma(2, "Bernd Becker"),
        _proforma(3, "Carla Conrad"),
    )
    candidates = Candidates()
    candidates.add([anna, bernd, carla])
    # structured reference wins over a different number in the text
    found = match(_credit(structured_reference="RF98 PR20 2600 001",
                          remittance=f"siehe {bernd.number}"), candidates)  # fmt: skip
    assert _hit(found) == (MatchedBy.REFERENCE, anna)
    found = match(_credit(structured_reference="RF18UNKNOWN", remittance=bernd.number), candidates)
    assert _hit(found) == (MatchedBy.TEXT, bernd)
    found = match(_credit(remittance="Auftrag A-3"), candidates)
    assert _hit(found) == (MatchedBy.TEXT, carla)
    found = match(_credit(name="CONRAD, CARLA"), candidates)
    assert _hit(found) == (MatchedBy.NAME, carla)
    assert match(_credit(name="CONRAD, CARLA", amount=2974), candidates) is None  # other amount
    assert match(_credit(name="Unbekannt"), candidates) is None


def test_two_customers_of_the_same_name_and_amount_are_left_to_the_operator() -> None:
    candidates = Candidates()
    candidates.add([_proforma(1, "Anna Albers"), _proforma(2, "Anna Albers")])
    assert match(_credit(name="Anna Albers"), candidates) is None


def test_a_paid_pro_forma_is_found_by_reference_but_never_by_name() -> None:
    paid = _proforma(1, "Anna Albers", open_=False)
    candidates = Candidates()
    candidates.add([paid])
    assert match(_credit(name="Anna Albers"), candidates) is None
    found = match(_credit(structured_reference=paid.reference), candidates)
    assert _hit(found) == (MatchedBy.REFERENCE, paid)  # booked: late, as credit


def test_a_reversal_follows_its_original_credit_and_never_a_name() -> None:
    candidates = Candidates()
    candidates.add([_proforma(1, "Anna Albers")])
    candidates.originals["E2E-1"] = 555
    back = _credit(direction=Direction.DEBIT, reversal=True, end_to_end_id="E2E-1")
    found = match(back, candidates)
    assert found == Match(by=MatchedBy.ORIGINAL, account_id=555)
    stranger = _credit(direction=Direction.DEBIT, reversal=True, name="Anna Albers")
    assert match(stranger, candidates) is None
    assert wanted([back]).originals == {"E2E-1"}
