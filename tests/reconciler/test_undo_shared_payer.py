"""An undone decision that found a payer's IBAN / name paying for another customer gives it
back to the customer it named before: Cyberdyne, known by its IBAN, pays Harborview's invoice;
the rules (or a person) put it there and the IBAN became shared; a person undoes that. It
stayed shared: Cyberdyne's later payments were no longer identified by it. A payer that
really pays for both customers, with another decision standing, stays shared."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from canonical.models import PayerAlias, Remittance
from canonical.store import Store
from reconciler import reconcile
from reconciler.book import SHARED
from reconciler.confirm import confirm
from reconciler.reverse import undo
from tests.support.receivables import Book, decision, ref

IBAN = "DE89370400440532013000"
PAYER = "CDS TREASURY"


def _alias(store: Store, kind: str, value: str) -> str | None:
    """The customer the alias names (``SHARED`` when shared); None when there is none."""
    with store.session() as s:
        return s.execute(
            select(col(PayerAlias.customer_id)).where(
                col(PayerAlias.kind) == kind, col(PayerAlias.value) == value
            )
        ).scalar_one_or_none()


def _known(store: Store, book: Book) -> dict[str, str]:
    """Cyberdyne paid its invoice 2001 from its IBAN: the IBAN and name are learned for it."""
    ids = {
        "cyberdyne": book.customer("Cyberdyne Systems Corp"),
        "harbor": book.customer("Harborview Energy Ltd"),
    }
    book.invoice(ids["cyberdyne"], "2001", "300.00")
    book.invoice(ids["cyberdyne"], "2002", "450.00")
    book.invoice(ids["harbor"], "1019", "6527.96")
    book.invoice(ids["harbor"], "1020", "980.00")
    book.pay("300.00", payer=PAYER, iban=IBAN, refs=[ref("2001", "300.00")])
    reconcile(store)
    assert _alias(store, "iban", IBAN) == ids["cyberdyne"]
    return ids


def _rules_put_it_on_harborview(store: Store, book: Book) -> dict[str, str]:
    ids = _known(store, book)
    ids["cash"] = book.pay("6527.96", payer=PAYER, iban=IBAN, refs=[ref("1019", "6527.96")])
    reconcile(store)
    wrong = decision(store, ids["cash"])
    assert (wrong.status, wrong.customer_id) == ("auto_applied", ids["harbor"])
    assert _alias(store, "iban", IBAN) == SHARED
    ids["wrong"] = wrong.id
    return ids


def test_undoing_the_rules_decision_gives_the_iban_back(store: Store, book: Book) -> None:
    ids = _rules_put_it_on_harborview(store, book)
    made = undo(store, ids["cash"], by="person:ana", reason="Cyberdyne's cash, not Harborview's")
    assert made.evidence["payer_restored"] == ["iban", "name"]
    assert _alias(store, "iban", IBAN) == _alias(store, "name", PAYER) == ids["cyberdyne"]
    # and Cyberdyne's next payment is known by its IBAN again
    later = book.pay("450.00", payer=PAYER, iban=IBAN, text="PAYMENT")
    reconcile(store)
    d = decision(store, later)
    assert (d.status, d.customer_id, d.evidence["customer_from"]) == (
        "auto_applied",
        ids["cyberdyne"],
        "learned iban",
    )


def test_undoing_a_persons_confirmation_gives_the_iban_back(store: Store, book: Book) -> None:
    ids = _known(store, book)
    cash = book.pay("980.00", payer=PAYER, iban=IBAN, text="PAYMENT")
    reconcile(store)
    made = confirm(store, decision(store, cash).id, by="person:bo", invoice_numbers=["1020"])
    assert made.customer_id == ids["harbor"]
    assert _alias(store, "iban", IBAN) == SHARED
    undo(store, made.id, by="person:ana", reason="not Harborview's")
    assert _alias(store, "iban", IBAN) == ids["cyberdyne"]


def test_a_payment_left_unidentified_meanwhile_is_decided_again(store: Store, book: Book) -> None:
    ids = _rules_put_it_on_harborview(store, book)
    meanwhile = book.pay("450.00", payer=PAYER, iban=IBAN, text="PAYMENT")
    reconcile(store)
    assert decision(store, meanwhile).exception_kind == "unidentified_payer"
    undo(store, ids["cash"], by="person:ana", reason="Cyberdyne's cash")
    reconcile(store)
    d = decision(store, meanwhile)
    assert (d.status, d.customer_id) == ("auto_applied", ids["cyberdyne"])


def test_a_payer_paying_both_customers_stays_shared(store: Store, book: Book) -> None:
    ids = _rules_put_it_on_harborview(store, book)
    # it really pays Harborview too: a person applies its next payment there
    other = book.pay("980.00", payer=PAYER, iban=IBAN, text="PAYMENT")
    reconcile(store)
    kept = confirm(store, decision(store, other).id, by="person:bo", invoice_numbers=["1020"])
    made = undo(store, ids["cash"], by="person:ana", reason="that one was Cyberdyne's")
    assert _alias(store, "iban", IBAN) == SHARED
    assert "payer_restored" not in made.evidence
    assert {"kind": "iban", "decision": kept.id} in made.evidence["payer_kept_shared"]
    # that one undone too, nothing stands for Harborview: the IBAN is Cyberdyne's again
    again = undo(store, kept.id, by="person:ana", reason="Cyberdyne's as well")
    assert again.evidence["payer_restored"] == ["iban", "name"]
    assert _alias(store, "iban", IBAN) == ids["cyberdyne"]


def test_a_payer_paying_for_another_party_since_stays_shared(store: Store, book: Book) -> None:
    ids = _rules_put_it_on_harborview(store, book)
    with store.session() as s:
        s.add(
            Remittance(
                source="camt.054",
                source_key="for-harbor",
                currency="USD",
                amount_minor=98000,
                payer_name=PAYER,
                ultimate_payer_name="Harborview Energy Ltd",
                payer_iban=IBAN,
                structured_refs=[ref("1020", "980.00")],
            )
        )
    reconcile(store)
    made = undo(store, ids["cash"], by="person:ana", reason="Cyberdyne's cash")
    assert _alias(store, "iban", IBAN) == SHARED
    assert [k["kind"] for k in made.evidence["payer_kept_shared"]] == ["iban", "name"]


def test_an_iban_whose_teaching_was_undone_is_forgotten(store: Store, book: Book) -> None:
    ids = _rules_put_it_on_harborview(store, book)
    with store.session() as s:
        first = s.execute(
            select(col(PayerAlias.learned_from)).where(col(PayerAlias.kind) == "iban")
        ).scalar_one()
    # the shared mark now names the decision that made it shared
    assert first == ids["wrong"]
    [taught] = [
        r
        for r in (decision(store, rid) for rid in _remittances(store))
        if r.status == "auto_applied" and r.customer_id == ids["cyberdyne"]
    ]
    undo(store, taught.id, by="person:ana", reason="not Cyberdyne's either")
    assert _alias(store, "iban", IBAN) == SHARED  # Harborview's decision stands
    made = undo(store, ids["cash"], by="person:ana", reason="not Harborview's")
    assert _alias(store, "iban", IBAN) is None
    assert "iban" in made.evidence["payer_forgotten"]


def _remittances(store: Store) -> list[str]:
    with store.session() as s:
        return list(s.execute(select(col(Remittance.id))).scalars())
